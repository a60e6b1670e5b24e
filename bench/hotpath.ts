// Microbenchmark of the hot-path parser and encoder in src/dns (parseRequest,
// MessageBuilder) against dns-packet's decode/encode, in operations per second.
// Part of `npm run bench`; alone: node --import tsx bench/hotpath.ts [--quick]

import * as dnsPacket from 'dns-packet';
import { pathToFileURL } from 'node:url';
import { parseArgs } from './lib/args.js';
import { machine, type Machine } from './lib/machine.js';
import { query } from './lib/probe.js';
import { writeResult } from './lib/session.js';
import { MessageBuilder } from '../src/dns/builder.js';
import { Type } from '../src/dns/constants.js';
import { parseRequest, type Peer } from '../src/dns/request.js';

const NAME = 'svc1.bench.cluster.local';
const ADDRESSES = ['10.80.1.1', '10.80.1.2', '10.80.1.3'];
const PEER: Peer = { proto: 'udp', remoteAddress: '127.0.0.1', remotePort: 40000, localAddress: '127.0.0.1', localPort: 53 };

/** The same query with an OPT record (udp size 1232), as dig and resolvers send it. */
function withEdns(q: Buffer): Buffer {
  const out = Buffer.concat([q, Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0])]);
  out.writeUInt16BE(1, 10);
  return out;
}

/** Keeps results alive so the loop cannot be optimised away. */
let sink = 0;

/** Runs `op` in batches until `ms` have passed (after a warm-up of a fifth of that); ops/s. */
function opsPerSecond(op: () => number, ms: number): number {
  const loop = (budget: number): number => {
    let n = 0;
    const start = process.hrtime.bigint();
    const end = start + BigInt(Math.round(budget * 1e6));
    let now = start;
    while (now < end) {
      for (let i = 0; i < 1000; i++) sink ^= op();
      n += 1000;
      now = process.hrtime.bigint();
    }
    return n / (Number(now - start) / 1e9);
  };
  loop(ms / 5);
  return loop(ms);
}

interface Case {
  what: string;
  ours: () => number;
  theirs: () => number;
}

function cases(): Case[] {
  const plain = query(NAME, Type.A);
  const edns = withEdns(plain);
  const req = parseRequest(edns, PEER);
  if (!req) throw new Error('parseRequest dropped the sample query');
  const addresses = ADDRESSES.map((a) => Buffer.from(a.split('.').map(Number)));
  const packet: dnsPacket.Packet = {
    type: 'response',
    id: 0x4242,
    flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_DESIRED,
    questions: [{ name: NAME, type: 'A', class: 'IN' }],
    answers: ADDRESSES.map((data) => ({ name: NAME, type: 'A', class: 'IN', ttl: 30, data })),
    additionals: [{ name: '.', type: 'OPT', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }],
  };
  return [
    { what: 'parse A query', ours: () => parseRequest(plain, PEER)!.qtype, theirs: () => dnsPacket.decode(plain).questions!.length },
    { what: 'parse A query with EDNS', ours: () => parseRequest(edns, PEER)!.qtype, theirs: () => dnsPacket.decode(edns).questions!.length },
    {
      what: 'encode 3 × A answer with EDNS',
      ours: () => {
        const b = new MessageBuilder(req, 0, { aa: true });
        for (const address of addresses) b.answer({ name: req.qname, ttl: 30, data: { type: Type.A, address } });
        return b.finish().length;
      },
      theirs: () => dnsPacket.encode(packet).length,
    },
  ];
}

export async function hotpath(o: { quick: boolean; m: Machine; log: (l: string) => void }): Promise<void> {
  o.log('hotpath:');
  const ms = o.quick ? 200 : 1000;
  const rows: string[] = ['| operation | src/dns ops/s | dns-packet ops/s | src/dns / dns-packet |', '|---|---:|---:|---:|'];
  for (const c of cases()) {
    o.log(`  ${c.what}`);
    const ours = opsPerSecond(c.ours, ms);
    const theirs = opsPerSecond(c.theirs, ms);
    const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
    rows.push(`| ${c.what} | ${fmt(ours)} | ${fmt(theirs)} | ${(ours / theirs).toFixed(2)}× |`);
  }
  const table = rows.join('\n');
  const text = [
    `# podswarm-dns benchmark: hotpath (${o.m.date.slice(0, 10)})`,
    '',
    `parseRequest (header, question, OPT) and MessageBuilder (response with 3 A records and OPT) from src/dns, against dns-packet decode/encode of the same messages; ${ms} ms per operation after a warm-up, one thread, unpinned, Node ${o.m.node} (sources loaded through tsx).`,
    `Machine: ${o.m.nproc} CPUs, ${o.m.cpuModel}; load average at start: ${o.m.loadAvg}.`,
    '',
    table,
    '',
    `(checksum ${sink & 0xff}: results are kept so no loop is optimised away)`,
    '',
  ].join('\n');
  const file = writeResult('hotpath', o.quick, text);
  process.stdout.write(`\n## hotpath\n\n${table}\n\n(written to ${file})\n\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = parseArgs(process.argv.slice(2));
  hotpath({ quick: args.quick, m: machine(), log: (l) => void process.stderr.write(l + '\n') }).catch((e: unknown) => {
    process.stderr.write(`hotpath: ${(e as Error).message}\n`);
    process.exitCode = 1;
  });
}
