// The podswarm-dns process (Corefile `gossip`) in a cluster with a real
// `serf agent` on loopback: membership with our tags, failure and graceful
// leave as serf sees them, encryption with the same and with a wrong key,
// Corefile errors. Ports from helpers/ports.ts.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { eventually } from './helpers/eventually.js';
import { freePorts } from './helpers/ports.js';
import { runCli, startServer, type RunningServer } from './helpers/server.js';
import { serfMembers, startSerf, stopAllSerf, stopSerf, waitSerf } from './helpers/serf.js';

const [SERF_PORT, SERF_RPC, OURS_PORT, DNS, METRICS] = await freePorts(5);
const SERF = `127.0.0.1:${SERF_PORT}`;
const OURS = `127.0.0.2:${OURS_PORT}`;

const servers: RunningServer[] = [];

function corefile(gossipExtra = ''): string {
  return `cluster.local:${DNS} {
    bind 127.0.0.1
    prometheus 127.0.0.1:${METRICS}
    gossip {
        bind ${OURS}
        join ${SERF}
        profile local
        probe_interval 200ms
        probe_timeout 100ms
        gossip_interval 50ms
        suspicion_mult 3
        reconnect_interval 500ms
        tags zone=lab
        ${gossipExtra}
    }
    cluster cluster.local
}
`;
}

async function startOurs(gossipExtra = ''): Promise<RunningServer> {
  const s = await startServer({ corefile: corefile(gossipExtra), args: ['-node', 'psdns'] });
  servers.push(s);
  return s;
}

async function members(state: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${METRICS}/metrics`)).text();
  return Number(new RegExp(`^podswarm_gossip_members\\{state="${state}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? -1);
}

afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop('SIGKILL');
  await stopAllSerf();
});

describe('podswarm-dns process with a serf agent', () => {
  it('is listed alive with role=podswarm-dns; killed, serf marks it failed', async () => {
    const serf = await startSerf('serf1', SERF, SERF_RPC);
    const ours = await startOurs();
    await ours.waitFor(/plugin\/gossip: joined the cluster \(1 of 1 seeds answered\)/);
    const m = await waitSerf(serf, (m) => m.get('psdns')?.status === 'alive', 'psdns alive');
    assert.equal(m.get('psdns')!.addr, OURS);
    assert.deepEqual(m.get('psdns')!.tags, { role: 'podswarm-dns', zone: 'lab' });
    await eventually(
      () => members('alive'),
      (n) => n === 2,
      'two alive members in our metric',
    );
    await ours.stop('SIGKILL');
    await waitSerf(serf, (m) => m.get('psdns')?.status === 'failed', 'psdns failed');
  });

  it('leaves gracefully on SIGTERM: serf shows it left', async () => {
    const serf = await startSerf('serf2', SERF, SERF_RPC);
    const ours = await startOurs();
    await waitSerf(serf, (m) => m.get('psdns')?.status === 'alive', 'psdns alive');
    assert.equal(await ours.stop('SIGTERM'), 0);
    await waitSerf(serf, (m) => m.get('psdns')?.status === 'left', 'psdns left');
  });

  it('keeps running through a reload; changed settings restart it', async () => {
    const serf = await startSerf('serf6', SERF, SERF_RPC);
    const ours = await startOurs();
    await waitSerf(serf, (m) => m.get('psdns')?.status === 'alive', 'psdns alive');
    const reload = async (text: string, nth: number): Promise<void> => {
      writeFileSync(ours.corefilePath, text);
      ours.proc.kill('SIGUSR1');
      await ours.waitFor(new RegExp(`(?:plugin/reload: reloaded configuration[^]*){${nth}}`));
    };
    // same gossip settings, another plugin changed: the node is handed over
    await reload(corefile().replace('cluster cluster.local', 'cluster cluster.local {\n        ttl 5\n    }'), 1);
    assert.doesNotMatch(ours.output(), /settings changed/);
    assert.equal((await serfMembers(serf)).get('psdns')?.status, 'alive');
    assert.doesNotMatch(serf.log(), /EventMemberLeave/);
    // a new tag: leave, start again, serf sees the new tags
    await reload(corefile().replace('zone=lab', 'zone=lab2'), 2);
    assert.match(ours.output(), /plugin\/gossip: settings changed: leaving and starting again/);
    await waitSerf(serf, (m) => m.get('psdns')?.status === 'alive' && m.get('psdns')?.tags.zone === 'lab2', 'psdns alive with zone=lab2');
  });

  it('retries the join until the seed is up, and marks a killed serf agent dead', async () => {
    const ours = await startOurs();
    await ours.waitFor(new RegExp(`plugin/gossip: join failed, retrying in 1s: failed to join 127\\.0\\.0\\.1:${SERF_PORT}`));
    const serf = await startSerf('serf3', SERF, SERF_RPC);
    await ours.waitFor(/plugin\/gossip: joined the cluster/);
    await waitSerf(serf, (m) => m.get('psdns')?.status === 'alive', 'psdns alive');
    await stopSerf(serf, 'SIGKILL');
    await ours.waitFor(/memberlist: marking serf3 as failed/);
    await eventually(
      () => members('dead'),
      (n) => n === 1,
      'one dead member in our metric',
    );
  });

  it('joins an encrypted cluster with the same key', async () => {
    const key = randomBytes(32).toString('base64');
    const serf = await startSerf('serf4', SERF, SERF_RPC, [`-encrypt=${key}`]);
    const ours = await startOurs(`encrypt ${key}`);
    await ours.waitFor(new RegExp(`gossiping on 127\\.0\\.0\\.2:${OURS_PORT}, advertising 127\\.0\\.0\\.2:${OURS_PORT}, encrypted`));
    await waitSerf(serf, (m) => m.get('psdns')?.status === 'alive', 'psdns alive (encrypted)');
    assert.doesNotMatch(ours.output(), /\[ERROR\]/);
  });

  it('with a wrong key: no membership, and the log says why', async () => {
    const serf = await startSerf('serf5', SERF, SERF_RPC, [`-encrypt=${randomBytes(32).toString('base64')}`]);
    const ours = await startOurs(`encrypt ${randomBytes(32).toString('base64')}`);
    // one WARNING line per attempt, with the reason
    await ours.waitFor(
      new RegExp(
        `\\[WARNING\\] plugin/gossip: join failed, retrying in 1s: failed to join 127\\.0\\.0\\.1:${SERF_PORT}: .*no installed keys could decrypt the message`,
      ),
    );
    await ours.waitFor(/\[WARNING\] plugin\/gossip: join failed, retrying in 2s/);
    // and serf's own join towards us fails the same way
    await assert.rejects(promisify(execFile)('serf', ['join', `-rpc-addr=${serf.rpc}`, OURS]));
    await ours.waitFor(/\[ERROR\] plugin\/gossip: memberlist: .*no installed keys could decrypt the message from=127\.0\.0\.1:/);
    assert.equal((await serfMembers(serf)).has('psdns'), false);
    assert.doesNotMatch(ours.output(), /joined the cluster/);
  });
});

describe('gossip Corefile errors', () => {
  async function refused(gossipBlock: string): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'podswarm-test-'));
    writeFileSync(join(dir, 'Corefile'), `cluster.local:17885 {\n  bind 127.0.0.1\n  gossip {\n    ${gossipBlock}\n  }\n}\n`);
    const { code, output } = await runCli(['-conf', join(dir, 'Corefile'), '-node', 'x']);
    assert.equal(code, 1, output);
    return output;
  }

  it('says FILE:LINE and what is wrong', async () => {
    assert.match(await refused('probe_interval 0'), /Corefile:4: gossip: probe_interval: must be more than 0/);
    assert.match(await refused('tags role=web'), /Corefile:4: gossip: tags: 'role' is reserved/);
    assert.match(await refused('encrypt c2hvcnQ='), /Corefile:4: gossip: encrypt: a key must be base64 of 16, 24 or 32 bytes/);
    assert.match(await refused('profile fast'), /Corefile:4: gossip: profile: expected lan, wan or local, got 'fast'/);
    assert.match(
      await refused('bind localhost:7946'),
      /Corefile:4: gossip: bind: 'localhost:7946': 'localhost' is not an IP address \(expected IPV4\[:PORT\], \[IPV6\]\[:PORT\] or IPV6\)/,
    );
    assert.match(await refused('bind [::1:7946'), /Corefile:4: gossip: bind: '\[::1:7946': missing '\]'/);
    assert.match(await refused('join [::1]:7946 [::1]x'), /Corefile:4: gossip: join: '\[::1\]x': expected ':PORT' after '\]', got 'x'/);
    assert.match(await refused('advertise 2001:db8:::1'), /Corefile:4: gossip: advertise: '2001:db8:::1': '2001:db8:::1' is not an IPv6 address/);
    assert.match(await refused('gossip_nodes x'), /Corefile:4: gossip: gossip_nodes: expected an integer/);
    assert.match(await refused('fanout 3'), /Corefile:4: gossip: unknown property 'fanout'/);
  });
});
