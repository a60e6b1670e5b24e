// One DNS question to the node, as a stub resolver asks it (RD set, EDNS0
// with a 1232-byte payload), over UDP and again over TCP when the reply is
// truncated. dns-packet encodes and decodes: this is no hot path.

import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { randomInt } from 'node:crypto';
import dnsPacket from 'dns-packet';
import { joinHostPort, type HostPort } from '../util/hostport.js';
import { OUR_UDP_SIZE } from '../dns/edns.js';

export interface DnsRecord {
  name: string;
  ttl: number;
  class: string;
  type: string;
  data: string;
}

export interface DnsReply {
  rcode: string;
  /** Header flags that are set, dig's names: qr aa tc rd ra ad cd. */
  flags: string[];
  answers: DnsRecord[];
  authorities: DnsRecord[];
  /** The transport the reply came over (tcp after a truncated UDP reply). */
  proto: 'udp' | 'tcp';
}

/** What `lookup` accepts as TYPE: what dns-packet can encode and print. */
export const QUERY_TYPES = ['A', 'AAAA', 'ANY', 'CAA', 'CNAME', 'DNAME', 'HINFO', 'MX', 'NS', 'PTR', 'SOA', 'SRV', 'TXT'] as const;
export type QueryType = (typeof QUERY_TYPES)[number];

export class DnsQueryError extends Error {}

export async function queryDns(server: HostPort, name: string, type: QueryType, timeoutMs = 2000): Promise<DnsReply> {
  const id = randomInt(0, 0x10000);
  const wire = dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: type as dnsPacket.RecordType, name, class: 'IN' }], // dns-packet encodes ANY too; its types omit it
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: OUR_UDP_SIZE } as dnsPacket.Answer],
  });
  const udp = dnsPacket.decode(await exchangeUdp(server, wire, id, timeoutMs));
  if (!udp.flag_tc) return reply(udp, 'udp');
  return reply(dnsPacket.decode(await exchangeTcp(server, wire, timeoutMs)), 'tcp');
}

function reply(p: dnsPacket.Packet, proto: 'udp' | 'tcp'): DnsReply {
  const d = p as dnsPacket.Packet & Record<string, unknown>;
  const flags = (['qr', 'aa', 'tc', 'rd', 'ra', 'ad', 'cd'] as const).filter((f) => d[`flag_${f}`] === true);
  return { rcode: String(d.rcode ?? 'NOERROR'), flags, answers: records(p.answers), authorities: records(p.authorities), proto };
}

function records(list: dnsPacket.Answer[] | undefined): DnsRecord[] {
  return (list ?? [])
    .filter((r) => r.type !== 'OPT')
    .map((r) => {
      const a = r as { name: string; type: string; ttl?: number; class?: string; data?: unknown };
      return { name: fqdn(a.name), ttl: a.ttl ?? 0, class: a.class ?? 'IN', type: a.type, data: rdataText(a.type, a.data) };
    });
}

const fqdn = (n: string): string => (n.endsWith('.') ? n : `${n}.`);

/** The presentation form dig prints. */
function rdataText(type: string, data: unknown): string {
  const d = data as Record<string, unknown>;
  switch (type) {
    case 'A':
    case 'AAAA':
      return String(data);
    case 'CNAME':
    case 'DNAME':
    case 'NS':
    case 'PTR':
      return fqdn(String(data));
    case 'SRV':
      return `${d.priority ?? 0} ${d.weight ?? 0} ${d.port} ${fqdn(String(d.target))}`;
    case 'MX':
      return `${d.preference ?? 0} ${fqdn(String(d.exchange))}`;
    case 'SOA':
      return `${fqdn(String(d.mname))} ${fqdn(String(d.rname))} ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`;
    case 'TXT':
      return (Array.isArray(data) ? data : [data]).map((s) => JSON.stringify(Buffer.isBuffer(s) ? s.toString('latin1') : String(s))).join(' ');
    default:
      return Buffer.isBuffer(data) ? `\\# ${data.length} ${data.toString('hex')}` : JSON.stringify(data);
  }
}

function exchangeUdp(server: HostPort, wire: Buffer, id: number, timeoutMs: number): Promise<Buffer> {
  const sock = createSocket(server.host.includes(':') ? 'udp6' : 'udp4');
  return new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(() => {
      done();
      reject(new DnsQueryError(`no answer within ${timeoutMs / 1000}s`));
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      sock.close();
    };
    // Connected, so an ICMP port unreachable arrives as ECONNREFUSED at once.
    sock.once('error', (e) => {
      done();
      reject(new DnsQueryError((e as NodeJS.ErrnoException).code === 'ECONNREFUSED' ? 'connection refused (nothing listens on that port)' : e.message));
    });
    sock.on('message', (msg) => {
      if (msg.length < 12 || msg.readUInt16BE(0) !== id) return; // not the reply to our question
      done();
      resolve(msg);
    });
    sock.connect(server.port, server.host, () => sock.send(wire));
  }).catch((e: unknown) => {
    throw e instanceof DnsQueryError ? e : new DnsQueryError((e as Error).message);
  });
}

function exchangeTcp(server: HostPort, wire: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: server.host, port: server.port, timeout: timeoutMs });
    let buf = Buffer.alloc(0);
    const fail = (why: string): void => {
      sock.destroy();
      reject(new DnsQueryError(`over TCP to ${joinHostPort(server.host, server.port)}: ${why}`));
    };
    sock.once('timeout', () => fail(`no answer within ${timeoutMs / 1000}s`));
    sock.once('error', (e) => fail(e.message));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        sock.destroy();
        resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      }
    });
    const len = Buffer.alloc(2);
    len.writeUInt16BE(wire.length);
    sock.write(Buffer.concat([len, wire]));
  });
}
