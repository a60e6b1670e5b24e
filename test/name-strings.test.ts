// src/dns/name-strings.ts: the name strings readName hands out again for the
// same bytes. Equal strings cannot be told apart in JavaScript, so what is
// checked is that every name reads back as its own bytes: repeated, after a
// different name with the same hash, past the bound, and through readName
// with case and escapes.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nameString } from '../src/dns/name-strings.js';
import { readName } from '../src/dns/wire.js';
import type { Latin1Buffer } from '../src/util/buffers.js';

const bytes = (text: string): Latin1Buffer => Buffer.from(text, 'latin1') as Latin1Buffer;

describe('name strings', () => {
  it('reads a name back as its own bytes, repeated and after a different name with the same hash', () => {
    // Same length, same hash: only the byte compare tells them apart.
    const [a, b] = ['alpha.test.', 'bravo.test.'];
    assert.deepEqual(
      [a, b, a, a, b].map((n) => nameString(bytes(n), n.length, 42)),
      [a, b, a, a, b],
    );
  });

  it('reads only the first n bytes', () => {
    assert.equal(nameString(bytes('api.default.cluster.local.junk'), 26, 7), 'api.default.cluster.local.');
    assert.equal(nameString(bytes('api.default.cluster.local.'), 4, 7), 'api.');
    assert.equal(nameString(bytes('api.default.cluster.local.'), 26, 7), 'api.default.cluster.local.');
  });

  it('stays right past its bound, for names read from the wire with case and escapes', () => {
    const wire = (labels: string[]): Buffer =>
      Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])), Buffer.from([0])]);
    for (let i = 0; i < 20_000; i++) assert.equal(readName(wire([`n${i}`, 'Test']), 0).name, `n${i}.test.`);
    assert.equal(readName(wire(['A.b', 'C\\d', '\u00ff']), 0).name, 'a\\.b.c\\\\d.\\255.');
    assert.equal(readName(wire(['MiXeD', 'Case']), 0, false).name, 'MiXeD.Case.');
    assert.equal(readName(wire(['MiXeD', 'Case']), 0).name, 'mixed.case.');
    const long = ['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63)];
    for (let i = 0; i < 2; i++) assert.equal(readName(wire(long), 0).name, `${long.join('.')}.`);
  });
});
