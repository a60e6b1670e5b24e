// The cache in the real server process (dist/, built by `npm test`): a
// repeat is served from the cache with a lower TTL, and an edited registry
// file shows at once although the old answer (and NXDOMAIN) was cached.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { dig } from './helpers/dig.js';
import { freePort } from './helpers/ports.js';
import { startServer, type RunningServer } from './helpers/server.js';

const PORT = await freePort();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('cache: end to end', () => {
  let srv: RunningServer | undefined;
  after(() => srv?.stop());

  it('serves hits with a lower TTL and drops registry answers when the registry changes', async () => {
    srv = await startServer({
      corefile: `.:${PORT} {\n bind 127.0.0.1\n cache\n cluster {\n  registry {{dir}}/r.yaml\n }\n}\n`,
      files: { 'r.yaml': 'services:\n  - name: web\n    endpoints:\n      - { address: 10.1.0.1 }\n' },
    });
    const first = await dig(PORT, 'web.default.cluster.local');
    assert.deepEqual(
      first.answer.map((a) => a.data),
      ['10.1.0.1'],
    );
    assert.equal((await dig(PORT, 'db.default.cluster.local')).status, 'NXDOMAIN');
    await sleep(1100);
    const second = await dig(PORT, 'web.default.cluster.local');
    assert.deepEqual(
      second.answer.map((a) => a.data),
      ['10.1.0.1'],
    );
    assert.ok(second.answer[0]!.ttl < first.answer[0]!.ttl, `TTL ${second.answer[0]!.ttl} should be below ${first.answer[0]!.ttl}`);

    writeFileSync(
      join(srv.dir, 'r.yaml'),
      'services:\n  - name: web\n    endpoints:\n      - { address: 10.1.0.1 }\n      - { address: 10.1.0.2 }\n  - name: db\n    endpoints:\n      - { address: 10.2.0.1 }\n',
    );
    // Cached for up to a minute otherwise; the registry change must show within the file watcher's delay.
    const deadline = Date.now() + 3000;
    let web: string[] = [];
    let db = '';
    while (Date.now() < deadline) {
      web = (await dig(PORT, 'web.default.cluster.local')).answer.map((a) => a.data);
      db = (await dig(PORT, 'db.default.cluster.local')).status;
      if (web.length === 2 && db === 'NOERROR') break;
      await sleep(50);
    }
    assert.deepEqual(web, ['10.1.0.1', '10.1.0.2']);
    assert.equal(db, 'NOERROR');
  });
});
