// UDP packets and TCP streams on one address and port (memberlist net_transport.go),
// IPv4 or IPv6 as the bind address says; `::` is one dual-stack socket.
import dgram from 'node:dgram';
import net from 'node:net';
import { joinHostPort } from '../util/hostport.js';
import { plainAddress } from '../dns/address.js';
import { isUnspecified, unreachableReason } from './address.js';
import { MessageType } from './messages.js';

export interface Packet {
  buf: Buffer;
  from: { address: string; port: number };
  at: number;
}

export class Transport {
  private udp: dgram.Socket | null = null;
  private tcp: net.Server | null = null;
  private readonly conns = new Set<net.Socket>();
  private bindHost = '';
  /** Bound to `::`: reaches IPv4 peers too, at their v4-mapped address. */
  private dualStack = false;
  port = 0;

  constructor(
    private readonly onPacket: (p: Packet) => void,
    private readonly onStream: (s: net.Socket) => void,
  ) {}

  /** Binds TCP first (it may pick the port), then UDP on the same port. */
  async listen(host: string, port: number): Promise<void> {
    const tcp = net.createServer((s) => this.track(s) && this.onStream(s));
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen({ host, port, exclusive: true }, () => {
        tcp.off('error', reject);
        resolve();
      });
    });
    this.tcp = tcp;
    this.port = (tcp.address() as net.AddressInfo).port;
    this.bindHost = host;
    this.dualStack = net.isIPv6(host) && isUnspecified(host);
    const udp = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4' });
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind({ address: host, port: this.port, exclusive: true }, () => {
          udp.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      tcp.close();
      this.tcp = null;
      throw err;
    }
    // 2 MiB receive buffer like memberlist, so bursts are not dropped
    try {
      udp.setRecvBufferSize(2 * 1024 * 1024);
    } catch {
      /* the kernel may cap it; the default still works */
    }
    // a dual-stack socket reports IPv4 senders v4-mapped; they are plain IPv4 peers
    udp.on('message', (buf, rinfo) => this.onPacket({ buf, from: { address: plainAddress(rinfo.address), port: rinfo.port }, at: Date.now() }));
    udp.on('error', () => {});
    this.udp = udp;
  }

  private track(s: net.Socket): boolean {
    this.conns.add(s);
    s.on('close', () => this.conns.delete(s));
    s.on('error', () => {});
    return true;
  }

  /** Why `host` is out of this node's reach (the other address family), or undefined. */
  unreachable(host: string): string | undefined {
    return unreachableReason(this.bindHost, host);
  }

  private checkReach(host: string, port: number): void {
    const why = this.unreachable(host);
    if (why) throw new Error(`cannot reach ${joinHostPort(host, port)}: ${why}`);
  }

  async sendPacket(buf: Buffer, host: string, port: number): Promise<void> {
    const udp = this.udp;
    if (!udp) throw new Error('transport is closed');
    this.checkReach(host, port);
    const to = this.dualStack && net.isIPv4(host) ? `::ffff:${host}` : host;
    await new Promise<void>((resolve, reject) => udp.send(buf, port, to, (err) => (err ? reject(err) : resolve())));
  }

  async dial(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
    this.checkReach(host, port);
    // a host name resolves to the family we gossip on (either one on `::`)
    const family = this.dualStack ? 0 : net.isIP(this.bindHost);
    return new Promise((resolve, reject) => {
      const s = net.connect({ host, port, family });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`dial tcp ${joinHostPort(host, port)}: i/o timeout`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        this.track(s);
        resolve(s);
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  async close(): Promise<void> {
    for (const s of this.conns) s.destroy();
    this.conns.clear();
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = null;
    this.tcp = null;
    if (udp) await new Promise<void>((r) => udp.close(() => r()));
    if (tcp) await new Promise<void>((r) => tcp.close(() => r()));
  }
}

/**
 * Buffers a TCP socket so a message can be parsed as its bytes arrive (the
 * parser resumes where it stopped, see StreamMessageParser); the whole
 * exchange is bounded by a deadline (memberlist TCPTimeout) and by a size
 * limit checked before a chunk is buffered.
 */
export class StreamReader {
  /**
   * Received bytes are store[start, end); the store grows by doubling. A
   * Buffer.concat per chunk copied everything received so far each time:
   * quadratic, so a 17 MB push/pull held the event loop long enough for
   * the node to be suspected, and ran past the TCP timeout.
   */
  private store = Buffer.alloc(0);
  private start = 0;
  private end = 0;
  private ended = false;
  private error: Error | null = null;
  private wake: (() => void) | null = null;
  private readonly deadline: NodeJS.Timeout;
  private timedOut = false;

  constructor(
    socket: net.Socket,
    timeoutMs: number,
    private readonly maxBytes = 24 * 1024 * 1024,
  ) {
    socket.on('data', (d: Buffer) => {
      if (this.error) return;
      if (this.end - this.start + d.length > this.maxBytes) {
        this.error = new Error(`stream exceeds size limit (${this.maxBytes} bytes)`);
        socket.destroy();
      } else {
        this.append(d);
      }
      this.notify();
    });
    socket.on('end', () => {
      this.ended = true;
      this.notify();
    });
    socket.on('close', () => {
      this.ended = true;
      this.notify();
    });
    socket.on('error', (err) => {
      this.error ??= err;
      this.notify();
    });
    this.deadline = setTimeout(() => {
      this.timedOut = true;
      socket.destroy();
      this.notify();
    }, timeoutMs);
  }

  private get buf(): Buffer {
    return this.store.subarray(this.start, this.end);
  }

  private append(d: Buffer): void {
    const len = this.end - this.start;
    if (this.end + d.length > this.store.length) {
      const next = Buffer.allocUnsafe(Math.max(2 * this.store.length, len + d.length, 4096));
      this.store.copy(next, 0, this.start, this.end);
      this.store = next;
      this.start = 0;
      this.end = len;
    }
    d.copy(this.store, this.end);
    this.end += d.length;
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Strips a label header at the start of the stream, if any. */
  async readLabel(): Promise<string> {
    await this.until(() => this.buf.length >= 1);
    if (this.buf[0] !== MessageType.hasLabel) return '';
    await this.until(() => this.buf.length >= 2);
    const size = this.buf[1]!;
    if (size < 1) throw new Error('label header cannot be empty when present');
    await this.until(() => this.buf.length >= 2 + size);
    const label = this.buf.subarray(2, 2 + size).toString('utf8');
    this.start += 2 + size;
    return label;
  }

  /** Calls parse on everything buffered after the label, after each chunk, until it returns a value (one message per stream). */
  async read<T>(parse: (buf: Buffer) => T | null): Promise<T> {
    let out: T | null = null;
    await this.until(() => (out = parse(this.buf)) !== null);
    return out!;
  }

  private async until(ready: () => boolean): Promise<void> {
    for (;;) {
      if (this.buf.length > 0 && ready()) return;
      if (this.error) throw this.error;
      if (this.timedOut) throw new Error('i/o timeout');
      if (this.ended) throw new Error(this.buf.length === 0 ? 'EOF' : 'unexpected EOF');
      await new Promise<void>((r) => (this.wake = r));
    }
  }

  done(): void {
    clearTimeout(this.deadline);
  }
}
