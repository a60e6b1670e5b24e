// A gossip member that sends whatever the test tells it to: this repository's
// own Memberlist (so the framing, encryption and push/pull are the real
// thing) in a process of its own, joined to a podswarm-dns node, carrying
// replication payloads the test writes, valid or not. It never relays,
// never pushes/pulls on its own, and answers other nodes' periodic
// push/pulls with an empty state, so what it sends reaches only its seed.
//
//   node --import tsx test/helpers/gossip-forger.ts BIND_IP:PORT SEED_IP:PORT [KEY]
//
// Prints `ready` once listening. Then one command per stdin line, each
// answered by `ok CMD` or `error CMD: MESSAGE` on stdout:
//   join BASE64      push/pull with the seed, our state being the payload
//   user BASE64      the payload as a direct (TCP) user message to the seed
//   oversize BYTES   push/pull with a payload of BYTES bytes (valid JSON)

import { createInterface } from 'node:readline';
import { splitHostPort } from '../../src/util/hostport.js';
import { Memberlist } from '../../src/gossip/memberlist.js';
import { Keyring } from '../../src/gossip/security.js';

const [bind, seed, key] = process.argv.slice(2) as [string, string, string | undefined];
const b = splitHostPort(bind, 0);
const s = splitHostPort(seed, 0);
const EMPTY = Buffer.from('\x01{}');
/** The state our own join push/pull carries; other push/pulls get EMPTY. */
let joinState: Buffer | undefined;
const ml = new Memberlist({
  name: 'forger',
  bindAddr: b.host,
  bindPort: b.port,
  keyring: key ? Keyring.fromBase64(key) : null,
  probeIntervalMs: 200,
  probeTimeoutMs: 100,
  gossipIntervalMs: 50,
  suspicionMult: 3,
  pushPullIntervalMs: 0,
  tcpTimeoutMs: 5000,
  // a 17 MB state through our LZW would take seconds each way
  enableCompression: false,
  delegate: { localState: (join) => (join ? (joinState ?? EMPTY) : EMPTY) },
});

/**
 * A push/pull with the seed in which our application state is `payload`,
 * then nothing again. Only our own join carries it: a periodic push/pull
 * another node starts meanwhile (join false) still gets the empty state.
 */
async function pushPull(payload: Buffer): Promise<void> {
  joinState = payload;
  try {
    await ml.join([seed]);
  } finally {
    joinState = undefined;
  }
}

function oversized(bytes: number): Buffer {
  const buf = Buffer.alloc(bytes, 0x20);
  buf[0] = 1;
  buf[1] = 0x7b; // {
  buf[bytes - 1] = 0x7d; // }
  return buf;
}

async function run(line: string): Promise<void> {
  const [cmd, arg = ''] = line.trim().split(/\s+/, 2) as [string, string?];
  try {
    if (cmd === 'join') await pushPull(Buffer.from(arg, 'base64'));
    else if (cmd === 'user') await ml.sendReliable(s.host, s.port, Buffer.from(arg, 'base64'));
    else if (cmd === 'oversize') await pushPull(oversized(Number(arg)));
    else throw new Error('unknown command');
    console.log(`ok ${cmd}`);
  } catch (err) {
    console.log(`error ${cmd}: ${(err as Error).message}`);
  }
}

await ml.start();
console.log('ready');
// commands one at a time, in order
let queue = Promise.resolve();
createInterface({ input: process.stdin }).on('line', (line) => void (queue = queue.then(() => run(line))));
process.stdin.on('end', () => void queue.then(() => ml.shutdown()).then(() => process.exit(0)));
