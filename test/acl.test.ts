// acl in the real server: block (REFUSED + EDE Blocked), filter (empty
// NOERROR + EDE Filtered) and drop (no reply at all, UDP and TCP), chosen by
// query type, source network and zone; the first matching policy wins.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { parseDig, type DigResult } from './helpers/dig.js';
import { freePort } from './helpers/ports.js';
import { startServer, type RunningServer } from './helpers/server.js';

const PORT = await freePort();
const run = promisify(execFile);

/** dig from `source`; a query that gets no reply comes back as status TIMEOUT (dig exits non-zero then). */
async function query(name: string, type: string, source = '127.0.0.1', extra: string[] = []): Promise<DigResult> {
  const args = ['@127.0.0.1', '-p', String(PORT), '-b', source, name, type, '+norec', '+time=1', '+tries=1', ...extra];
  try {
    return parseDig((await run('dig', args)).stdout);
  } catch (e) {
    return parseDig((e as { stdout?: string }).stdout ?? '');
  }
}

const COREFILE = `example.org:${PORT} {
  bind 127.0.0.1
  acl {
    drop type SRV
    allow net 127.0.0.2
    block type TXT net 127.0.0.0/8
    filter type AAAA
  }
  acl secret.example.org {
    block net 127.0.0.1
  }
  hosts {
    10.0.0.1 web.example.org secret.example.org
    fd00::1 web.example.org
  }
}
`;

describe('acl: end to end', () => {
  let srv: RunningServer;
  before(async () => {
    srv = await startServer({ corefile: COREFILE });
  });
  after(() => srv?.stop());

  it('lets unmatched queries through', async () => {
    const r = await query('web.example.org', 'A');
    assert.equal(r.status, 'NOERROR');
    assert.deepEqual(
      r.answer.map((x) => x.data),
      ['10.0.0.1'],
    );
  });

  it('block: REFUSED with an Extended DNS Error, by type and net', async () => {
    const r = await query('web.example.org', 'TXT');
    assert.equal(r.status, 'REFUSED');
    assert.match(r.raw, /EDE: 15 \(Blocked\)/);
    assert.deepEqual(r.answer, []);
  });

  it('filter: empty NOERROR with an Extended DNS Error', async () => {
    const r = await query('web.example.org', 'AAAA');
    assert.equal(r.status, 'NOERROR');
    assert.match(r.raw, /EDE: 17 \(Filtered\)/);
    assert.deepEqual(r.answer, []);
  });

  it('allow: an earlier allow for the source net wins over later block and filter', async () => {
    const txt = await query('web.example.org', 'TXT', '127.0.0.2');
    assert.equal(txt.status, 'NOERROR');
    assert.doesNotMatch(txt.raw, /EDE/);
    const aaaa = await query('web.example.org', 'AAAA', '127.0.0.2');
    assert.deepEqual(
      aaaa.answer.map((x) => x.data),
      ['fd00::1'],
    );
  });

  it('drop: no reply over UDP or TCP, and the server writes no SERVFAIL instead', async () => {
    assert.equal((await query('web.example.org', 'SRV')).status, 'TIMEOUT');
    assert.equal((await query('web.example.org', 'SRV', '127.0.0.1', ['+tcp'])).status, 'TIMEOUT');
    assert.equal((await query('web.example.org', 'A')).status, 'NOERROR');
    assert.doesNotMatch(srv.output(), /without writing a reply/);
  });

  it('a rule for a narrower zone applies there only', async () => {
    assert.equal((await query('secret.example.org', 'A')).status, 'REFUSED');
    assert.equal((await query('secret.example.org', 'A', '127.0.0.2')).status, 'NOERROR');
    assert.equal((await query('web.example.org', 'A')).status, 'NOERROR');
  });
});
