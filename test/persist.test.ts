// API registrations survive a restart (src/api/persist.ts, src/state/): a
// burst of concurrent PUTs and DELETEs cut by kill -9 at a random moment,
// three times, then every acknowledged change is on the restarted node and,
// by gossip, on the other; a corrupt state file is set aside and said so; a
// state directory that cannot be written stops the start with the reason.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { builtCli } from './helpers/dist.js';
import { eventually } from './helpers/eventually.js';
import { fastGossip } from './helpers/gossip-timing.js';
import { freePorts } from './helpers/ports.js';
import { addressesFrom, deregister, register, served, type ApiNode } from './helpers/registrations.js';
import { runCli, startServer, type RunningServer } from './helpers/server.js';

const TOKEN = 'persist-token';
const FILE = 'api-registrations.json';
const CLI = builtCli();
const running = new Set<RunningServer>();
const dirs: string[] = [];

after(async () => {
  for (const s of running) await s.stop('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'podswarm-state-'));
  dirs.push(d);
  return d;
}

interface Ports {
  dns: number;
  api: number;
  gossip?: number;
  join?: number;
}

function corefile(p: Ports): string {
  const gossip =
    p.gossip === undefined
      ? ''
      : `gossip {
    bind 127.0.0.1:${p.gossip}
    join 127.0.0.1:${p.join}
    ${fastGossip('    ')}
    reconnect_interval 500ms
  }`;
  return `.:${p.dns} {
  bind 127.0.0.1
  ${gossip}
  api {
    listen 127.0.0.1:${p.api}
    token_file {{dir}}/token
  }
  cluster cluster.local
}
`;
}

async function start(p: Ports, node: string, state: string): Promise<RunningServer> {
  const s = await startServer({ corefile: corefile(p), files: { token: TOKEN }, args: ['-node', node, '-state', state, '-log.level', 'warn'] });
  running.add(s);
  return s;
}

async function stop(s: RunningServer, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  await s.stop(signal);
  running.delete(s);
}

const apiOf = (port: number): ApiNode => ({ base: `http://127.0.0.1:${port}/api/v1`, token: TOKEN });

/** One key's state as the client knows it: the last acknowledged address (null: absent) and an unanswered change. */
interface KeyState {
  acked: string | null;
  pending?: string | null;
}

const KEYS = 200;
const OPS = 1000;
const CONCURRENCY = 50;

/**
 * OPS changes over KEYS keys from CONCURRENCY clients; each key belongs to
 * one client, so its changes are ordered. `kill` runs after `killAfter`
 * acknowledgements; the clients stop at their first refused connection.
 */
async function burst(node: ApiNode, keys: KeyState[], round: number, killAfter: number, kill: () => void): Promise<number> {
  let started = 0;
  let acked = 0;
  const client = async (c: number): Promise<void> => {
    const mine = keys.map((_, i) => i).filter((i) => i % CONCURRENCY === c);
    for (;;) {
      if (started++ >= OPS) return;
      const k = mine[Math.floor(Math.random() * mine.length)]!;
      const st = keys[k]!;
      const remove = st.acked !== null && Math.random() < 0.4;
      const target = remove ? null : `10.${round}.${k >> 8}.${(k & 255) ^ Math.floor(Math.random() * 256)}`;
      st.pending = target;
      let status: number;
      try {
        status =
          target === null
            ? await deregister(node, 'burst', 'web', `k${k}`)
            : await register(node, 'burst', 'web', `k${k}`, { address: target, ports: [{ name: 'http', port: 80 }] });
      } catch {
        return; // killed: this change may or may not have been made
      }
      assert.ok(status === 200 || status === 201 || status === 204, `k${k}: status ${status}`);
      st.acked = target;
      delete st.pending;
      if (++acked === killAfter) kill();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, c) => client(c)));
  return acked;
}

/** Every acknowledged change is there; an unanswered one may or may not be. Returns the problems. */
function lost(keys: KeyState[], actual: Record<string, string>): string[] {
  const problems: string[] = [];
  keys.forEach((st, k) => {
    const have = actual[`k${k}`] ?? null;
    if (have === st.acked || ('pending' in st && have === st.pending)) return;
    problems.push(`k${k}: have ${have}, acknowledged ${st.acked}${'pending' in st ? ` (unanswered: ${st.pending})` : ''}`);
  });
  return problems;
}

describe('persisted registrations', () => {
  test('every acknowledged PUT and DELETE survives kill -9 mid-burst, here and on the other node', async () => {
    const [dnsA, apiA, gossipA, dnsB, apiB, gossipB] = await freePorts(6);
    const a: Ports = { dns: dnsA, api: apiA, gossip: gossipA, join: gossipB };
    const b: Ports = { dns: dnsB, api: apiB, gossip: gossipB, join: gossipA };
    const stateA = tempDir();
    const nodeB = await start(b, 'pb', tempDir());
    let nodeA = await start(a, 'pa', stateA);
    const keys: KeyState[] = Array.from({ length: KEYS }, () => ({ acked: null }));
    for (let round = 1; round <= 3; round++) {
      const killAfter = 100 + Math.floor(Math.random() * 800);
      const victim = nodeA;
      const acked = await burst(apiOf(a.api), keys, round, killAfter, () => victim.proc.kill('SIGKILL'));
      await stop(victim, 'SIGKILL');
      assert.ok(acked >= killAfter, `round ${round}: ${acked} acknowledged, kill after ${killAfter}`);

      nodeA = await start(a, 'pa', stateA);
      const here = addressesFrom(await served(apiOf(a.api), 'burst', 'web'), 'api');
      assert.deepEqual(lost(keys, here), [], `round ${round} (killed after ${killAfter} acknowledgements)`);
      // What survived is the truth from here on, unanswered changes settled either way.
      keys.forEach((st, k) => {
        st.acked = here[`k${k}`] ?? null;
        delete st.pending;
      });
      await eventually(
        async () => addressesFrom(await served(apiOf(b.api), 'burst', 'web'), 'gossip:pa'),
        (there) => JSON.stringify(there) === JSON.stringify(here),
        `round ${round}: pb serves what pa restored (${Object.keys(here).length} endpoints)`,
        30_000,
        200,
      );
    }
    await stop(nodeA);
    await stop(nodeB);
  });

  test('a corrupt or truncated state file is kept aside, logged with the reason, and the node starts without it', async () => {
    const [dns, api] = await freePorts(2);
    const p: Ports = { dns, api };
    const good = JSON.stringify({
      format: 1,
      endpoints: [{ namespace: 'shop', service: 'db', name: 'db-0', nodeName: 'pc', address: '10.0.8.1', ports: [], healthy: true, updatedAt: 1 }],
    });
    const cases: Array<[string, string, RegExp]> = [
      ['truncated', good.slice(0, good.length / 2), /not JSON \(truncated\?\)/],
      ['invalid', good.replace('10.0.8.1', '10.0.8'), /endpoints\[0\]\.address: not an IP address/],
    ];
    for (const [what, text, reason] of cases) {
      const state = tempDir();
      const path = join(state, FILE);
      writeFileSync(path, text);
      const s = await start(p, 'pc', state);
      const line = await s.waitFor(/\[ERROR\] plugin\/api: state file .*/);
      assert.ok(line.includes(`state file ${path} refused`), `${what}: ${line}`);
      assert.match(line, reason, what);
      const kept = readdirSync(state).filter((f) => f.startsWith(`${FILE}.corrupt-`));
      assert.equal(kept.length, 1, `${what}: ${readdirSync(state).join(' ')}`);
      assert.ok(line.includes(`kept as ${join(state, kept[0]!)}`), line);
      assert.equal(readFileSync(join(state, kept[0]!), 'utf8'), text, `${what}: the bad file is kept as it was`);
      assert.deepEqual(await served(apiOf(p.api), 'shop', 'db'), []);
      // The node works on: a new registration is saved and comes back after a restart.
      assert.equal(await register(apiOf(p.api), 'shop', 'db', 'db-1', { address: '10.0.8.2' }), 201);
      await stop(s);
      const again = await start(p, 'pc', state);
      assert.deepEqual(addressesFrom(await served(apiOf(p.api), 'shop', 'db'), 'api'), { 'db-1': '10.0.8.2' }, what);
      await stop(again);
    }
  });

  test('a state directory that cannot be written stops the start with the reason', async () => {
    const dir = tempDir();
    const conf = join(dir, 'Corefile');
    const [dns, api] = await freePorts(2);
    writeFileSync(conf, corefile({ dns, api }).replaceAll('{{dir}}', dir));
    writeFileSync(join(dir, 'token'), TOKEN);

    const notDir = join(dir, 'state-file');
    writeFileSync(notDir, 'a file where the directory should be');
    const file = await runCli(['-conf', conf, '-state', notDir]);
    assert.equal(file.code, 1, file.output);
    assert.match(file.output, new RegExp(`\\[FATAL\\] api: state directory ${notDir} is not a directory`));

    // Root ignores permission bits: a read-only bind mount, in a mount namespace of its own.
    const ro = join(dir, 'ro');
    const script = 'mkdir -p "$0" && mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && exec "$@"';
    const r = await new Promise<{ code: number | null; output: string }>((resolve) =>
      execFile(
        'unshare',
        ['--mount', '--propagation', 'private', 'sh', '-c', script, ro, process.execPath, CLI, '-conf', conf, '-state', ro],
        { env: { ...process.env, UPSTREAM_DNS: '' } },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, output: stdout + stderr }),
      ),
    );
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, new RegExp(`\\[FATAL\\] api: state directory ${ro} is not writable: EROFS`));
  });
});
