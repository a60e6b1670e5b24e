// Two nodes register the same endpoint name for one service through their
// APIs: every node qualifies the clash the same way (src/registry/unique-names.ts),
// so each SRV target resolves to exactly its own address.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { dig } from './helpers/dig.js';
import { eventually } from './helpers/eventually.js';
import { fastGossip } from './helpers/gossip-timing.js';
import { freePorts } from './helpers/ports.js';
import { deregister, register, served, type ApiNode } from './helpers/registrations.js';
import { startServer, type RunningServer } from './helpers/server.js';

const TOKEN = 'unique-token';
const [dnsA, apiA, gossipA, dnsB, apiB, gossipB] = await freePorts(6);
const NODES = {
  ua: { dns: dnsA, api: apiA, gossip: gossipA, join: gossipB },
  ub: { dns: dnsB, api: apiB, gossip: gossipB, join: gossipA },
};
type Name = keyof typeof NODES;
const running: RunningServer[] = [];
after(async () => {
  for (const s of running) await s.stop();
});

function corefile(n: Name): string {
  const p = NODES[n];
  return `.:${p.dns} {
  bind 127.0.0.1
  gossip {
    bind 127.0.0.1:${p.gossip}
    join 127.0.0.1:${p.join}
    ${fastGossip('    ')}
  }
  api {
    listen 127.0.0.1:${p.api}
    token_file {{dir}}/token
  }
  srv cluster.local
  cluster cluster.local
}
`;
}

const api = (n: Name): ApiNode => ({ base: `http://127.0.0.1:${NODES[n].api}/api/v1`, token: TOKEN });
const SRV = '_http._tcp.web.shop.svc.cluster.local';

/** SRV target → the addresses its own A query answers, as node `n` serves them. */
async function srvTargets(n: Name): Promise<Record<string, string[]>> {
  const srv = await dig(NODES[n].dns, SRV, 'SRV');
  const out: Record<string, string[]> = {};
  for (const rr of srv.answer) {
    const target = rr.data.split(/\s+/)[3]!;
    out[target] = (await dig(NODES[n].dns, target, 'A')).answer.map((a) => a.data).sort();
  }
  return out;
}

describe('endpoint names stay unique across nodes', () => {
  test('the same name registered on two nodes: every SRV target resolves to exactly its own address, on both', async () => {
    for (const n of ['ua', 'ub'] as const) running.push(await startServer({ corefile: corefile(n), files: { token: TOKEN }, args: ['-node', n] }));
    const ports = [{ name: 'http', port: 8080 }];
    // Both at the same moment: neither node knows of the other's when it accepts its own.
    const statuses = await Promise.all([
      register(api('ua'), 'shop', 'web', 'db-0', { address: '10.0.7.1', ports }),
      register(api('ub'), 'shop', 'web', 'db-0', { address: '10.0.7.2', ports }),
    ]);
    assert.deepEqual(statuses, [201, 201]);
    // The smallest node name keeps the plain name, whichever PUT arrived first.
    const want = { 'db-0.web.shop.svc.cluster.local.': ['10.0.7.1'], 'db-0-ub.web.shop.svc.cluster.local.': ['10.0.7.2'] };
    for (const n of ['ua', 'ub'] as const) {
      await eventually(
        () => srvTargets(n),
        (t) => JSON.stringify(t) === JSON.stringify(want),
        `${n}: SRV targets, each with its own address`,
        15_000,
        100,
      );
      const srv = await dig(NODES[n].dns, SRV, 'SRV');
      assert.deepEqual(
        srv.additional.map((r) => `${r.name} ${r.data}`).sort(),
        ['db-0-ub.web.shop.svc.cluster.local. 10.0.7.2', 'db-0.web.shop.svc.cluster.local. 10.0.7.1'],
        n,
      );
      const eps = (await served(api(n), 'shop', 'web')).map((e) => `${e.name} ${e.nodeName} ${e.address} ${e.source}`);
      assert.deepEqual(eps, ['db-0 ua 10.0.7.1 ' + (n === 'ua' ? 'api' : 'gossip:ua'), 'db-0-ub ub 10.0.7.2 ' + (n === 'ub' ? 'api' : 'gossip:ub')], n);
    }
    // Each node still deletes its own by the name it registered; the other keeps the plain name.
    assert.equal(await deregister(api('ub'), 'shop', 'web', 'db-0'), 204);
    const rest = { 'db-0.web.shop.svc.cluster.local.': ['10.0.7.1'] };
    for (const n of ['ua', 'ub'] as const)
      await eventually(
        () => srvTargets(n),
        (t) => JSON.stringify(t) === JSON.stringify(rest),
        `${n}: only ua's db-0 left`,
        15_000,
        100,
      );
    // ua's endpoint reached ub by gossip: not ub's to delete.
    assert.equal(await deregister(api('ub'), 'shop', 'web', 'db-0'), 409);
  });
});
