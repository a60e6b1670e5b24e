// Ports, loopback addresses and Podman subnets for tests that run beside
// other test files (`node --test --test-concurrency`) and beside another
// suite on the same host: what a test binds or creates outside a network
// namespace of its own comes from here, never from a number in the test.
// And a host-wide lock, for the rare test that must change a file every
// process on the host reads.
//
// Each kind of resource is a pool cut into blocks. A process claims a whole
// block by listening on an abstract unix socket named after it: no two
// processes of this host can hold the same name, and the kernel releases it
// when the process ends, however it ends, so nothing is left to clean up.
//
// Ports come from outside the kernel's ephemeral range
// (/proc/sys/net/ipv4/ip_local_port_range): a port handed out here and bound
// a moment later by the server under test cannot be taken in between by an
// outgoing socket (a dig, a gossip connection, another suite's client).
// Binding port 0 cannot serve a DNS server, which needs the same port for UDP
// and TCP; a server that picks its own port and reports it needs nothing from
// here.

import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';

const PORTS_PER_BLOCK = 32;

const socketPath = (name: string): string => `\0podswarm-dns-test/${name}`;

/** Holds the abstract socket `name` (undefined when another process holds it), until it is closed or the process exits. */
async function claim(name: string): Promise<Server | undefined> {
  const server: Server = createServer((conn) => conn.unref());
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(undefined) : reject(err)));
    server.listen({ path: socketPath(name) }, () => {
      // Held without keeping the process alive.
      server.unref();
      resolve(server);
    });
  });
}

/** Claims one of `count` blocks of `kind`, trying them from a random one on. */
async function claimBlock(kind: string, count: number): Promise<number> {
  const start = Math.floor(Math.random() * count);
  for (let k = 0; k < count; k++) {
    const block = (start + k) % count;
    if (await claim(`${kind}/${block}`)) return block;
  }
  throw new Error(`every ${kind} block is held by another test process (${count} blocks)`);
}

/** The ports outside the ephemeral range: above it when there is room (the default range ends at 60999), else below it. */
function portPool(): { first: number; last: number } {
  const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number) as [number, number];
  if (65535 - high >= 1024) return { first: high + 1, last: 65535 };
  if (low - 10000 >= 1024) return { first: 10000, last: low - 1 };
  throw new Error(`ip_local_port_range ${low}-${high} leaves no room for test ports`);
}

/** True when nothing holds `port` on any address, for UDP or TCP, IPv4 or IPv6 (a test may bind a wildcard). */
async function unused(port: number): Promise<boolean> {
  for (const host of ['0.0.0.0', '::']) {
    const udp = await new Promise<boolean>((resolve) => {
      const s = host === '::' ? createSocket({ type: 'udp6', ipv6Only: true }) : createSocket('udp4');
      s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRNOTAVAIL' || err.code === 'EAFNOSUPPORT'));
      s.bind(port, host, () => s.close(() => resolve(true)));
    });
    const tcp = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRNOTAVAIL' || err.code === 'EAFNOSUPPORT'));
      s.listen({ port, host, ipv6Only: host === '::' }, () => s.close(() => resolve(true)));
    });
    if (!udp || !tcp) return false;
  }
  return true;
}

let pool: { first: number; last: number } | undefined;
let next = 0;
let end = 0;
/** One allocation at a time: callers may ask in parallel (Promise.all). */
let queue: Promise<unknown> = Promise.resolve();

async function allocate(): Promise<number> {
  pool ??= portPool();
  for (;;) {
    if (next === end) {
      const block = await claimBlock('ports', Math.floor((pool.last - pool.first + 1) / PORTS_PER_BLOCK));
      next = pool.first + block * PORTS_PER_BLOCK;
      end = next + PORTS_PER_BLOCK;
    }
    const port = next++;
    if (await unused(port)) return port;
  }
}

/**
 * A port free for UDP and TCP on every address, that no other test process
 * on this host is given: for a server that must be told its port.
 */
export function freePort(): Promise<number> {
  const port = queue.then(allocate);
  queue = port.catch(() => {});
  return port;
}

/** `N` numbers: what `const [a, b] = await freePorts(2)` destructures without an `undefined`. */
type Ports<N extends number, T extends number[] = []> = T['length'] extends N ? T : Ports<N, [...T, number]>;

/** `n` distinct ports, as `freePort`. */
export async function freePorts<N extends number>(n: N): Promise<Ports<N>> {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) ports.push(await freePort());
  return ports as Ports<N>;
}

/**
 * `127.A.B`: a /24 of loopback that only this process uses, for tests whose
 * nodes each need an address of their own (`${block}.1`, `${block}.2`, ...).
 * Linux answers on all of 127.0.0.0/8 without configuration. Drawn from
 * 127.64.0.0/10, away from 127.0.0.0/16 where hand-picked addresses live.
 */
export async function loopbackBlock(): Promise<string> {
  const block = await claimBlock('loopback', 64 * 256);
  return `127.${64 + (block >> 8)}.${block & 0xff}`;
}

/** `a.b.c.d/len` as the first and last address of its range, as integers. */
function ipv4Range(cidr: string): [number, number] {
  const [addr = '', len = '32'] = cidr.split('/');
  const n = addr.split('.').reduce((v, octet) => v * 256 + Number(octet), 0);
  const size = 2 ** (32 - Number(len));
  const first = n - (n % size);
  return [first, first + size - 1];
}

/**
 * The host's own IPv4 networks (interface address and prefix), loopback
 * aside, read once. From `ip`, not os.networkInterfaces(): that skips links
 * without carrier, such as Podman's bridge with no container on it.
 */
let hostNets: string[] | undefined;
function hostNetworks(): string[] {
  hostNets ??= (
    JSON.parse(execFileSync('ip', ['-j', '-4', 'addr', 'show'], { encoding: 'utf8' })) as Array<{
      addr_info: Array<{ local: string; prefixlen: number; scope: string }>;
    }>
  )
    .flatMap((link) => link.addr_info)
    .filter((a) => a.scope !== 'host')
    .map((a) => `${a.local}/${a.prefixlen}`);
  return hostNets;
}

/** The host network `cidr` (IPv4) overlaps, if any. */
function hostNetworkOverlapping(cidr: string): string | undefined {
  const [first, last] = ipv4Range(cidr);
  return hostNetworks().find((net) => {
    const [f, l] = ipv4Range(net);
    return f <= last && first <= l;
  });
}

/**
 * Refuses a test network that overlaps one of this host's own (today eth0's
 * documentation range and Podman's default bridge): a test must never send
 * to an address the host really has. Netns labs, Podman networks and
 * namespace addresses check here.
 */
export function assertClearOfHost(cidr: string): void {
  const net = hostNetworkOverlapping(cidr);
  if (net) throw new Error(`test network ${cidr} overlaps this host's own network ${net}: pick another subnet`);
}

/**
 * `10.A.B`: a /24 for a Podman network that no other test process of this
 * host uses (Podman refuses a subnet another network has), drawn from
 * 10.64.0.0/12 (away from the pools Podman picks subnets from itself,
 * 10.88.0.0/16 and up) and never one that overlaps a network of this host.
 */
export async function podmanSubnet(): Promise<string> {
  for (;;) {
    const block = await claimBlock('podman-subnet', 16 * 256);
    const prefix = `10.${64 + (block >> 8)}.${block & 0xff}`;
    // a skipped block stays claimed: no other process will try it either
    if (!hostNetworkOverlapping(`${prefix}.0/24`)) return prefix;
  }
}

/**
 * Waits until no other process on this host holds the lock `name`, then holds
 * it; the returned function releases it (so does the end of the process).
 * The wait is a connection to the holder's socket: it closes when the holder
 * lets go or dies.
 */
export async function hostLock(name: string): Promise<() => Promise<void>> {
  for (;;) {
    const held = await claim(`lock/${name}`);
    if (held) {
      const conns = new Set<Socket>();
      held.on('connection', (conn) => conns.add(conn));
      return () => {
        for (const c of conns) c.destroy();
        return new Promise((resolve) => held.close(() => resolve()));
      };
    }
    await new Promise<void>((resolve) =>
      connect(socketPath(`lock/${name}`))
        .once('close', () => resolve())
        .once('error', () => {}),
    );
  }
}
