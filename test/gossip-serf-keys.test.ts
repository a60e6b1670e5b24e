// `serf keys` rotates the keyring of a mixed, encrypted cluster on loopback:
// two real serf agents (Debian serf 0.9.4) and two podswarm-dns processes,
// each with a keyring file. Install, list, use and remove succeed on every
// member; the podswarm-dns nodes change their keyring live, write it to their
// keyring_file, and still replicate the registry with the new key.
// Ports and a 127.x.y.0/24 of our own from helpers/ports.ts.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { dig } from './helpers/dig.js';
import { eventually } from './helpers/eventually.js';
import { freePorts, loopbackBlock } from './helpers/ports.js';
import { type Agent, startSerf, stopAllSerf, waitSerf } from './helpers/serf.js';
import { runCli, startServer, type RunningServer } from './helpers/server.js';

const run = promisify(execFile);
const [GOSSIP, DNS, RPC1, RPC2] = await freePorts(4);
const LOOPBACK = await loopbackBlock();
const ip = (n: number): string => `${LOOPBACK}.${n}`;
const SEED = `${ip(1)}:${GOSSIP}`;
const K1 = randomBytes(32).toString('base64');
const K2 = randomBytes(32).toString('base64');

const agents: Agent[] = [];
const ours: RunningServer[] = [];

function keyringFile(name: string, keys: string[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'podswarm-keys-')), `${name}.keyring`);
  writeFileSync(file, JSON.stringify(keys));
  return file;
}

const registry = (services: Record<string, string>): string =>
  `services:\n${Object.entries(services)
    .map(([name, address]) => `  - name: ${name}\n    endpoints:\n      - { address: ${address} }\n`)
    .join('')}`;

async function startOurs(n: number): Promise<RunningServer> {
  const s = await startServer({
    corefile: `cluster.local:${DNS} {
    bind ${ip(n)}
    gossip {
        bind ${ip(n)}:${GOSSIP}
        join ${SEED}
        keyring_file keyring.json
        profile local
    }
    cluster cluster.local {
        registry {{dir}}/services.yaml
    }
}
`,
    files: { 'keyring.json': JSON.stringify([K1]), 'services.yaml': registry({ [`web${n}`]: `203.0.113.${n}` }) },
    args: ['-node', `p${n}`],
  });
  await s.waitFor(/plugin\/gossip: joined the cluster/);
  return s;
}

async function keys(...args: string[]): Promise<string> {
  const { stdout } = await run('serf', ['keys', `-rpc-addr=${agents[1]!.rpc}`, ...args]);
  return stdout;
}

/** The keys `serf keys -list` reports, each with its `[n/m]` count. */
async function listed(): Promise<string[]> {
  return [...(await keys('-list')).matchAll(/^(\S+=)\s+\[(\d+\/\d+)\]$/gm)].map((m) => `${m[1]} [${m[2]}]`).sort();
}

const fileKeys = (s: RunningServer): string[] => JSON.parse(readFileSync(join(s.dir, 'keyring.json'), 'utf8')) as string[];

async function answers(n: number, name: string): Promise<string[]> {
  const r = await dig(DNS, `${name}.default.cluster.local`, 'A', [], ip(n));
  return r.answer.map((a) => a.data);
}

before(async () => {
  agents.push(await startSerf('s1', SEED, RPC1, [`-keyring-file=${keyringFile('s1', [K1])}`]));
  agents.push(await startSerf('s2', `${ip(2)}:${GOSSIP}`, RPC2, [`-keyring-file=${keyringFile('s2', [K1])}`, `-join=${SEED}`]));
  ours.push(await startOurs(11), await startOurs(12));
  for (const a of agents) await waitSerf(a, (m) => ['s1', 's2', 'p11', 'p12'].every((n) => m.get(n)?.status === 'alive'), 'all four alive');
});

after(async () => {
  for (const s of ours.splice(0)) await s.stop('SIGKILL');
  await stopAllSerf();
});

describe('serf keys in a cluster with podswarm-dns nodes', () => {
  it('installs a key on every member, and the podswarm-dns nodes write it to their keyring file', async () => {
    assert.match(await keys(`-install=${K2}`), /Successfully installed key!/);
    assert.deepEqual(await listed(), [`${K1} [4/4]`, `${K2} [4/4]`].sort());
    for (const s of ours) assert.deepEqual(fileKeys(s), [K1, K2]);
  });

  it('makes the new key primary on every member', async () => {
    assert.match(await keys(`-use=${K2}`), /Successfully changed primary key!/);
    for (const s of ours) assert.deepEqual(fileKeys(s), [K2, K1]);
  });

  it('reports the error of a member that refuses, as serf does', async () => {
    // the primary key cannot be removed: every member says so
    await assert.rejects(keys(`-remove=${K2}`), (err: { stdout: string }) => {
      for (const name of ['s1', 's2', 'p11', 'p12']) assert.match(err.stdout, new RegExp(`failed:\\s+${name}\\s+Removing the primary key is not allowed`));
      assert.match(err.stdout, /Error removing key: 4\/4 nodes reported failure/);
      return true;
    });
  });

  it('removes the old key everywhere; the cluster keeps working on the new one alone', async () => {
    assert.match(await keys(`-remove=${K1}`), /Successfully removed key!/);
    assert.deepEqual(await listed(), [`${K2} [4/4]`]);
    for (const s of ours) assert.deepEqual(fileKeys(s), [K2]);
    // a registry change still reaches the other podswarm-dns node, encrypted with K2 only
    writeFileSync(join(ours[0]!.dir, 'services.yaml'), registry({ web11: '203.0.113.11', fresh: '203.0.113.99' }));
    await eventually(
      () => answers(12, 'fresh'),
      (a) => a.includes('203.0.113.99'),
      'fresh on p12 after the rotation',
    );
    assert.doesNotMatch(ours.map((s) => s.output()).join('\n'), /no installed keys could decrypt/);
  });

  it('applies a keyring file edited by hand on reload, live', async () => {
    const K3 = randomBytes(32).toString('base64');
    const p11 = ours[0]!;
    writeFileSync(join(p11.dir, 'keyring.json'), JSON.stringify([K2, K3]));
    p11.proc.kill('SIGUSR1');
    await p11.waitFor(/plugin\/gossip: keyring reloaded from \S+keyring\.json: 2 keys/);
    assert.doesNotMatch(p11.output(), /settings changed: leaving/);
    assert.deepEqual(await listed(), [`${K2} [4/4]`, `${K3} [1/4]`].sort());
  });
});

describe('keyring_file in the Corefile', () => {
  async function refused(lines: string, files: Record<string, string> = {}): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'podswarm-test-'));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    writeFileSync(join(dir, 'Corefile'), `cluster.local:${DNS} {\n  bind 127.0.0.1\n  gossip {\n    ${lines}\n  }\n}\n`);
    const { code, output } = await runCli(['-conf', join(dir, 'Corefile'), '-node', 'x']);
    assert.equal(code, 1, output);
    return output;
  }

  it('is refused with FILE:LINE when missing, malformed or beside encrypt', async () => {
    assert.match(await refused('keyring_file none.json'), /Corefile:4: gossip: keyring_file: \S+none\.json: ENOENT/);
    assert.match(
      await refused('keyring_file k.json', { 'k.json': '["c2hvcnQ="]' }),
      /Corefile:4: gossip: keyring_file: \S+k\.json: a key must be base64 of 16, 24 or 32 bytes/,
    );
    assert.match(
      await refused(`encrypt ${K1}\n    keyring_file k.json`, { 'k.json': JSON.stringify([K1]) }),
      /Corefile:5: gossip: keyring_file: not with encrypt/,
    );
  });
});
