// Protocol parity with knot: the same names served by podswarm-dns (from a
// registry) and by knotd (from zone files generated from the same data), and
// the same questions asked of both. Covers the zone shape (empty
// non-terminals, no zone cut at svc, SOA/NS at every apex, ANY) and opcodes.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dig, type DigResult } from './helpers/dig.js';
import { freePort } from './helpers/ports.js';
import { startKnot, type Knot } from './helpers/knot.js';
import { udpExchange } from './helpers/raw.js';
import { reverseName } from '../src/dns/reverse-name.js';
import { startServer, type RunningServer } from './helpers/server.js';

interface Endpoint {
  name: string;
  address: string;
}
interface Service {
  name: string;
  ns: string;
  port: { name: string; number: number };
  endpoints: Endpoint[];
}

const SERVICES: Service[] = [
  {
    name: 'web',
    ns: 'default',
    port: { name: 'http', number: 80 },
    endpoints: [
      { name: 'e0', address: '10.10.0.5' },
      { name: 'e1', address: '10.10.0.6' },
    ],
  },
  {
    name: 'db',
    ns: 'data',
    port: { name: 'pg', number: 5432 },
    endpoints: [
      { name: 'd0', address: '10.20.1.1' },
      { name: 'd1', address: 'fd00:20::1' },
    ],
  },
];
const SOA = 'ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5';

function registryYaml(): string {
  const lines = ['node: parity', 'services:'];
  for (const s of SERVICES) {
    lines.push(
      `  - name: ${s.name}`,
      `    namespace: ${s.ns}`,
      '    ports:',
      `      - { name: ${s.port.name}, port: ${s.port.number}, protocol: tcp }`,
      '    endpoints:',
    );
    for (const e of s.endpoints) lines.push(`      - { name: ${e.name}, address: "${e.address}" }`);
  }
  return lines.join('\n') + '\n';
}

/** The cluster zone as knot serves it: every name podswarm-dns answers, in both the short and the svc form. */
function clusterZone(): string {
  const out = ['$ORIGIN cluster.local.', '$TTL 60', `@ SOA ${SOA}`, '@ NS ns.dns.cluster.local.', 'ns.dns A 127.0.0.1'];
  for (const s of SERVICES) {
    const weight = Math.floor(100 / s.endpoints.length);
    for (const form of [`${s.name}.${s.ns}`, `${s.name}.${s.ns}.svc`]) {
      for (const e of s.endpoints) {
        const type = e.address.includes(':') ? 'AAAA' : 'A';
        out.push(`${form} ${type} ${e.address}`, `${e.name}.${form} ${type} ${e.address}`);
        out.push(`_${s.port.name}._tcp.${form} SRV 0 ${weight} ${s.port.number} ${e.name}.${s.name}.${s.ns}.svc.cluster.local.`);
      }
    }
  }
  return out.join('\n') + '\n';
}

/** A reverse zone as knot serves it: SOA, NS and a PTR for each endpoint of that family. */
function reverseZone(zone: 'in-addr.arpa' | 'ip6.arpa'): string {
  const out = [`$ORIGIN ${zone}.`, '$TTL 60', `@ SOA ${SOA}`, '@ NS ns.dns.cluster.local.'];
  for (const s of SERVICES) {
    for (const e of s.endpoints) {
      if (e.address.includes(':') !== (zone === 'ip6.arpa')) continue;
      out.push(`${reverseName(e.address)} PTR ${e.name}.${s.name}.${s.ns}.svc.cluster.local.`);
    }
  }
  return out.join('\n') + '\n';
}

let knot: Knot;
let ours: RunningServer;
let port: number;

before(async () => {
  knot = await startKnot({ 'cluster.local': clusterZone(), 'in-addr.arpa': reverseZone('in-addr.arpa'), 'ip6.arpa': reverseZone('ip6.arpa') });
  port = await freePort();
  ours = await startServer({
    corefile: `cluster.local:${port} in-addr.arpa:${port} ip6.arpa:${port} {\n  bind 127.0.0.1\n  cluster cluster.local in-addr.arpa ip6.arpa {\n    registry {{dir}}/services.yaml\n  }\n  srv cluster.local\n}\n`,
    files: { 'services.yaml': registryYaml() },
    ready: /listening on/,
  });
});
after(async () => {
  await ours?.stop();
  await knot?.stop();
});

/** What must agree: rcode, AA, the answer records (TTL aside; SOA by type only, serials differ) and the authority types. */
function shape(r: DigResult): { status: string; aa: boolean; answer: string[]; authority: string[] } {
  return {
    status: r.status,
    aa: r.flags.includes('aa'),
    answer: r.answer.map((a) => (a.type === 'SOA' ? `${a.name} SOA` : `${a.name} ${a.type} ${a.data}`)).sort(),
    authority: r.authority.map((a) => `${a.name} ${a.type}`).sort(),
  };
}

async function both(name: string, type: string): Promise<{ ours: DigResult; knot: DigResult }> {
  return { ours: await dig(port, name, type), knot: await dig(knot.port, name, type) };
}

describe('knot parity: empty non-terminals are NODATA, not NXDOMAIN', () => {
  const cases: Array<[string, string]> = [
    ['_tcp.web.default.cluster.local', 'A'],
    ['_tcp.web.default.svc.cluster.local', 'SRV'],
    ['dns.cluster.local', 'A'],
    ['ns.dns.cluster.local', 'SRV'],
    ['default.cluster.local', 'A'],
    ['default.svc.cluster.local', 'TXT'],
    ['0.10.10.in-addr.arpa', 'PTR'],
    ['10.10.in-addr.arpa', 'PTR'],
    ['10.in-addr.arpa', 'SOA'],
    // Above fd00:20::1's 32-nibble name.
    ['0.2.0.0.0.0.d.f.ip6.arpa', 'PTR'],
    ['f.ip6.arpa', 'A'],
  ];
  for (const [name, type] of cases) {
    it(`${name} ${type}`, async () => {
      const r = await both(name, type);
      assert.equal(r.knot.status, 'NOERROR');
      assert.deepEqual(shape(r.ours), shape(r.knot));
      assert.deepEqual(r.ours.answer, []);
    });
  }
});

describe('knot parity: names that do not exist stay NXDOMAIN', () => {
  for (const [name, type] of [
    ['_udp.web.default.cluster.local', 'A'],
    ['nope.default.cluster.local', 'A'],
    ['9.0.10.10.in-addr.arpa', 'PTR'],
    ['1.10.10.in-addr.arpa', 'PTR'],
    ['1.2.0.0.0.0.d.f.ip6.arpa', 'PTR'],
  ] as const) {
    it(`${name} ${type}`, async () => {
      const r = await both(name, type);
      assert.equal(r.knot.status, 'NXDOMAIN');
      assert.deepEqual(shape(r.ours), shape(r.knot));
    });
  }
});

describe('knot parity: zone apexes', () => {
  const cases: Array<[string, string]> = [
    ['svc.cluster.local', 'SOA'],
    ['svc.cluster.local', 'NS'],
    ['cluster.local', 'SOA'],
    ['cluster.local', 'NS'],
    ['in-addr.arpa', 'SOA'],
    ['in-addr.arpa', 'NS'],
    ['in-addr.arpa', 'A'],
    ['ip6.arpa', 'SOA'],
    ['ip6.arpa', 'NS'],
  ];
  for (const [name, type] of cases) {
    it(`${name} ${type}`, async () => {
      const r = await both(name, type);
      assert.deepEqual(shape(r.ours), shape(r.knot));
    });
  }

  it('svc.cluster.local is a name inside the zone: NODATA, no answer owned by the apex', async () => {
    const r = await dig(port, 'svc.cluster.local', 'SOA');
    assert.equal(r.status, 'NOERROR');
    assert.deepEqual(r.answer, []);
    assert.deepEqual(
      r.authority.map((a) => a.name),
      ['cluster.local.'],
    );
  });

  it('in-addr.arpa answers its own SOA, named under the cluster zone', async () => {
    const r = await dig(port, 'in-addr.arpa', 'SOA');
    assert.deepEqual(
      r.answer.map((a) => [a.name, a.type]),
      [['in-addr.arpa.', 'SOA']],
    );
    assert.match(r.answer[0]!.data, /^ns\.dns\.cluster\.local\. hostmaster\.cluster\.local\. \d+ 7200 1800 86400 5$/);
  });
});

describe('knot parity: the records as knot has them', () => {
  const cases: Array<[string, string]> = [
    ['web.default.cluster.local', 'A'],
    ['db.data.svc.cluster.local', 'AAAA'],
    ['_http._tcp.web.default.cluster.local', 'SRV'],
    ['5.0.10.10.in-addr.arpa', 'PTR'],
    [reverseName('fd00:20::1').slice(0, -1), 'PTR'],
    ['ns.dns.cluster.local', 'A'],
  ];
  for (const [name, type] of cases) {
    it(`${name} ${type}`, async () => {
      const r = await both(name, type);
      assert.deepEqual(shape(r.ours), shape(r.knot));
    });
  }
});

describe('ANY returns records (RFC 8482), never an empty NOERROR', () => {
  const cases = [
    'web.default.cluster.local',
    'db.data.cluster.local',
    'e0.web.default.svc.cluster.local',
    '_http._tcp.web.default.cluster.local',
    '5.0.10.10.in-addr.arpa',
    'cluster.local',
    'in-addr.arpa',
    'ns.dns.cluster.local',
  ];
  for (const name of cases) {
    it(name, async () => {
      const r = { ours: await dig(port, name, 'ANY'), knot: await dig(knot.port, name, 'ANY') };
      assert.equal(r.ours.status, 'NOERROR');
      assert.equal(r.knot.status, 'NOERROR');
      assert.ok(r.knot.answer.length > 0 && r.ours.answer.length > 0, `no records for ${name} ANY`);
      // knot gives one RRset (RFC 8482 lets a server choose); each record we give must be one knot has for that type.
      for (const type of new Set(r.ours.answer.map((a) => a.type))) {
        const theirs = new Set(shape(await dig(knot.port, name, type)).answer);
        for (const rr of shape(r.ours).answer.filter((a) => a.split(' ')[1] === type)) {
          assert.ok(theirs.has(rr), `${rr} is not among knot's ${type} records: ${[...theirs].join(', ')}`);
        }
      }
    });
  }
});

describe('knot parity: opcodes we do not implement', () => {
  /** A header with `opcode` and, when given, one question for cluster.local SOA. */
  const message = (opcode: number, withQuestion: boolean): Buffer => {
    const q = withQuestion ? Buffer.from('0d636c7573746572056c6f63616c0000060001', 'hex') : Buffer.alloc(0);
    const h = Buffer.alloc(12);
    h.writeUInt16BE(0x4242, 0);
    h.writeUInt16BE((opcode << 11) | 0x0100, 2);
    h.writeUInt16BE(withQuestion ? 1 : 0, 4);
    return Buffer.concat([h, q]);
  };
  for (const [opcode, withQuestion] of [
    [2, false],
    [2, true],
    [15, false],
    [15, true],
  ] as const) {
    it(`opcode ${opcode} ${withQuestion ? 'with' : 'without'} a question: NOTIMP, no RA`, async () => {
      const a = (await udpExchange(port, message(opcode, withQuestion)))!;
      const b = (await udpExchange(knot.port, message(opcode, withQuestion)))!;
      assert.ok(a && b, 'both answer');
      assert.equal(a[3]! & 0xf, 4, 'NOTIMP');
      assert.equal(a[3]! & 0xf, b[3]! & 0xf, 'same rcode as knot');
      assert.equal(a.readUInt16BE(2) & 0x7800, opcode << 11, 'the opcode comes back');
      assert.equal(a.readUInt16BE(2) & 0x0080, 0, 'no RA: this block does not forward');
      assert.equal(a.readUInt16BE(0), 0x4242);
    });
  }
});
