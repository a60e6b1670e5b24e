// rewrite in the real server: name rules (exact, suffix, regex, with answer
// auto) change what the chain resolves while the client sees its own
// question and owner names; ttl rules clamp TTLs; errors come back with the
// client's question too.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { dig, type DigResult } from './helpers/dig.js';
import { CLI, startServer, type RunningServer } from './helpers/server.js';

const skip = existsSync(CLI) ? false : 'dist/src/cli.js not built (npx tsc -p tsconfig.json)';
const PORT = 18630;

/** The question line dig prints, e.g. ";alias.example.org.  IN  A". */
function question(r: DigResult): string {
  const m = /^;; QUESTION SECTION:\n;(\S+)\s+IN\s+(\S+)/m.exec(r.raw);
  return m ? `${m[1]} ${m[2]}` : '';
}

const rows = (r: DigResult): string[][] => r.answer.map((x) => [x.name, String(x.ttl), x.type, x.data]);

describe('rewrite: end to end', { skip }, () => {
  let srv: RunningServer;
  before(async () => {
    srv = await startServer({
      corefile: `.:${PORT} {
  bind 127.0.0.1
  rewrite continue ttl exact short.example.org 5
  rewrite continue ttl prefix api -120
  rewrite name exact alias.example.org web.example.org
  rewrite name suffix .corp.test .example.org answer auto
  rewrite stop {
    name regex (.*)-v2\\.example\\.org {1}.example.org
    answer auto
  }
  rewrite type TXT A
  hosts {
    10.0.0.1 web.example.org
    10.0.0.2 api.example.org
    10.0.0.3 short.example.org
  }
}
`,
    });
  });
  after(() => srv?.stop());

  it('exact: resolves the target, answers under the name asked', async () => {
    const r = await dig(PORT, 'alias.example.org');
    assert.equal(question(r), 'alias.example.org. A');
    assert.deepEqual(rows(r), [['alias.example.org.', '3600', 'A', '10.0.0.1']]);
  });

  it('keeps the letter case the client used', async () => {
    const r = await dig(PORT, 'Alias.Example.ORG');
    assert.equal(question(r), 'Alias.Example.ORG. A');
    assert.deepEqual(rows(r), [['Alias.Example.ORG.', '3600', 'A', '10.0.0.1']]);
  });

  it('suffix with answer auto', async () => {
    const r = await dig(PORT, 'api.corp.test');
    assert.equal(question(r), 'api.corp.test. A');
    assert.deepEqual(rows(r), [['api.corp.test.', '120', 'A', '10.0.0.2']]);
  });

  it('regex with answer auto (block form)', async () => {
    const r = await dig(PORT, 'web-v2.example.org');
    assert.equal(question(r), 'web-v2.example.org. A');
    assert.deepEqual(rows(r), [['web-v2.example.org.', '3600', 'A', '10.0.0.1']]);
  });

  it('ttl: a fixed value and a range cap', async () => {
    assert.deepEqual(rows(await dig(PORT, 'short.example.org')), [['short.example.org.', '5', 'A', '10.0.0.3']]);
    assert.deepEqual(rows(await dig(PORT, 'api.example.org')), [['api.example.org.', '120', 'A', '10.0.0.2']]);
    assert.deepEqual(rows(await dig(PORT, 'web.example.org')), [['web.example.org.', '3600', 'A', '10.0.0.1']], 'no rule: unchanged');
  });

  it('type: the rewritten type is resolved, the question keeps the client type', async () => {
    const r = await dig(PORT, 'web.example.org', 'TXT');
    assert.equal(question(r), 'web.example.org. TXT');
    assert.deepEqual(rows(r), [['web.example.org.', '3600', 'A', '10.0.0.1']]);
  });

  it('an error from the rewritten name carries the client question', async () => {
    const r = await dig(PORT, 'nope.corp.test');
    assert.equal(r.status, 'SERVFAIL');
    assert.equal(question(r), 'nope.corp.test. A');
  });
});
