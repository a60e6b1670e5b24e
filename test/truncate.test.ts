// truncate() on replies whose RRsets are spelt differently on the wire (an
// upstream's compression), decoded with dns-packet as the reference.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { truncate } from '../src/dns/truncate.js';
import { decode } from './helpers/raw.js';

/**
 * a.example CNAME b.example, then b.example A ×3 where the second A's owner is
 * written out in full while the others point at the CNAME's target.
 */
function mixedOwners(): Buffer {
  const header = Buffer.from([0, 1, 0x81, 0x80, 0, 1, 0, 4, 0, 0, 0, 0]);
  const qname = Buffer.from([1, 0x61, 7, ...Buffer.from('example'), 0]);
  const question = Buffer.concat([qname, Buffer.from([0, 1, 0, 1])]);
  // CNAME rdata "b" + pointer to "example" (offset 14); the target starts at offset 12+15+12 = 39.
  const cname = Buffer.concat([Buffer.from([0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 4, 1, 0x62, 0xc0, 14])]);
  const full = Buffer.from([1, 0x62, 7, ...Buffer.from('example'), 0]);
  const toTarget = Buffer.from([0xc0, 39]);
  const a = (owner: Buffer, last: number): Buffer => Buffer.concat([owner, Buffer.from([0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, last])]);
  return Buffer.concat([header, question, cname, a(toTarget, 1), a(full, 2), a(toTarget, 3)]);
}

test('the reference decoder reads the sample as one CNAME and one A RRset', () => {
  const m = decode(mixedOwners());
  assert.deepEqual(
    m.answers.map((r) => [r.name, r.type, r.data]),
    [
      ['a.example', 'CNAME', 'b.example'],
      ['b.example', 'A', '10.0.0.1'],
      ['b.example', 'A', '10.0.0.2'],
      ['b.example', 'A', '10.0.0.3'],
    ],
  );
});

test('cuts before an RRset whose owners are spelt two ways, not inside it', () => {
  const msg = mixedOwners();
  const out = decode(truncate(msg, msg.length - 1));
  assert.ok(out.flag_tc);
  assert.deepEqual(
    out.answers.map((r) => [r.name, r.type]),
    [['a.example', 'CNAME']],
  );
});

test('returns a reply that fits unchanged', () => {
  const msg = mixedOwners();
  assert.equal(truncate(msg, msg.length), msg);
});
