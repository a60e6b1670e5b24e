import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  argCount,
  checkDuplicateKeys,
  CorefileError,
  lex,
  MAX_IMPORTS,
  noBlock,
  parseCorefile,
  parseDuration,
  parseServerKey,
  parseUint,
  subdirectives,
  unknownSubdirective,
  type Directive,
  type ParseOptions,
  type ServerBlock,
  type Token,
} from '../src/corefile/index.js';

const parse = (text: string, opts: ParseOptions = {}): ServerBlock[] => parseCorefile(text, 'Corefile', { env: {}, ...opts });

/** A directive as one line of text: `name args { sub; sub }`. */
function render(d: Directive): string {
  const head = [d.name.text, ...d.args.map((a) => a.text)].join(' ');
  return d.block ? `${head} { ${d.block.map(render).join('; ')} }` : head;
}

function shape(blocks: ServerBlock[]): { keys: string[]; directives: string[] }[] {
  return blocks.map((b) => ({ keys: b.keys.map((k) => k.token.text), directives: b.directives.map(render) }));
}

function fails(text: string, message: string, opts: ParseOptions = {}): void {
  assert.throws(
    () => parse(text, opts),
    (err: unknown) => {
      assert.ok(err instanceof CorefileError, `not a CorefileError: ${String(err)}`);
      assert.equal(err.message, message);
      return true;
    },
  );
}

const tok = (text: string, line = 1): Token => ({ text, file: 'Corefile', line });

describe('lexer', () => {
  test('splits on whitespace and records lines', () => {
    const tokens = lex('a\tb  c\n\n  d\n', 'F');
    assert.deepEqual(
      tokens.map((t) => [t.text, t.line, t.lineStart]),
      [
        ['a', 1, true],
        ['b', 1, false],
        ['c', 1, false],
        ['d', 3, true],
      ],
    );
    assert.equal(tokens[0]!.file, 'F');
  });

  test('quotes keep spaces; only \\" is an escape', () => {
    const tokens = lex('"a b" "say \\"hi\\"" "c:\\dir" "" x"y', 'F');
    assert.deepEqual(
      tokens.map((t) => [t.text, t.quoted]),
      [
        ['a b', true],
        ['say "hi"', true],
        ['c:\\dir', true],
        ['', true],
        ['x"y', false],
      ],
    );
  });

  test('a quoted token spanning lines keeps its start line; the next line counts on', () => {
    const tokens = lex('a "x\ny"\nb', 'F');
    assert.deepEqual(
      tokens.map((t) => [t.text, t.line]),
      [
        ['a', 1],
        ['x\ny', 1],
        ['b', 3],
      ],
    );
  });

  test('# comments to end of line, even mid-word, but not inside quotes', () => {
    const tokens = lex('a # b c\nd#e f\n"g # h"', 'F');
    assert.deepEqual(
      tokens.map((t) => t.text),
      ['a', 'd', 'g # h'],
    );
  });

  test('\\r is ignored and a leading BOM dropped', () => {
    const tokens = lex('\ufeffa b\r\nc\r\n', 'F');
    assert.deepEqual(
      tokens.map((t) => [t.text, t.line]),
      [
        ['a', 1],
        ['b', 1],
        ['c', 2],
      ],
    );
  });
});

describe('server blocks and directives', () => {
  test('keys, directives, args and lines', () => {
    const blocks = parse('# comment\n.:53 {\n  errors\n  forward . 1.1.1.1 "8.8.8.8"\n}\n');
    assert.deepEqual(shape(blocks), [{ keys: ['.:53'], directives: ['errors', 'forward . 1.1.1.1 8.8.8.8'] }]);
    const fwd = blocks[0]!.directives[1]!;
    assert.deepEqual(fwd.name, { text: 'forward', file: 'Corefile', line: 4 });
    assert.deepEqual(fwd.args[2], { text: '8.8.8.8', file: 'Corefile', line: 4 });
    assert.equal(fwd.block, null);
    assert.deepEqual(blocks[0]!.keys[0]!.token, { text: '.:53', file: 'Corefile', line: 2 });
  });

  test('several blocks, several keys per block', () => {
    const blocks = parse('example.org org {\n whoami\n}\ncluster.local:1053 {\n log\n}\n');
    assert.deepEqual(shape(blocks), [
      { keys: ['example.org', 'org'], directives: ['whoami'] },
      { keys: ['cluster.local:1053'], directives: ['log'] },
    ]);
    assert.deepEqual(
      blocks[0]!.keys.map((k) => k.zones),
      [['example.org.'], ['org.']],
    );
  });

  test('a trailing comma carries keys onto the next line', () => {
    const blocks = parse('a.org,\nb.org, c.org,\n  d.org {\n whoami\n}\n');
    assert.deepEqual(shape(blocks)[0]!.keys, ['a.org', 'b.org', 'c.org', 'd.org']);
    assert.deepEqual(
      blocks[0]!.keys.map((k) => k.token.line),
      [1, 2, 2, 3],
    );
    // Without a trailing comma the line ends the keys.
    assert.deepEqual(shape(parse('a.org b.org\nwhoami\n')), [{ keys: ['a.org', 'b.org'], directives: ['whoami'] }]);
  });

  test('a comma before "{" or at end of file is an error', () => {
    fails('a.org, {\n}\n', "Corefile:1: expected another key after ',' but found '{'");
    fails('a.org,\n', "Corefile:1: expected another key after ',' but the file ended");
  });

  test('the server block brace may sit on the next line', () => {
    assert.deepEqual(shape(parse('a.org\n{\n whoami\n}\n')), [{ keys: ['a.org'], directives: ['whoami'] }]);
  });

  test('a single block may omit braces: every later line is a directive', () => {
    assert.deepEqual(shape(parse('example.org:1053\nwhoami\nforward . 1.1.1.1 {\n  policy random\n}\nlog\n')), [
      { keys: ['example.org:1053'], directives: ['whoami', 'forward . 1.1.1.1 { policy random }', 'log'] },
    ]);
    assert.deepEqual(shape(parse('.\n')), [{ keys: ['.'], directives: [] }]);
    fails('example.org\nwhoami\n}\n', "Corefile:3: unexpected '}'");
  });

  test('nested blocks, two levels deep', () => {
    const text = 'k {\n  kubernetes cluster.local {\n    pods insecure\n    opt {\n      deep 1 2\n    }\n  }\n  cache\n}\n';
    const block = parse(text)[0]!;
    assert.deepEqual(block.directives.map(render), ['kubernetes cluster.local { pods insecure; opt { deep 1 2 } }', 'cache']);
    assert.equal(block.directives[0]!.block?.[1]!.block?.[0]!.name.line, 5);
  });

  test('a directive may follow "{" on its line; a one-line block closes with "}"', () => {
    assert.deepEqual(shape(parse('.:53 { whoami\n forward . 1.1.1.1 { policy random }\n}\n'))[0]!.directives, [
      'whoami',
      'forward . 1.1.1.1 { policy random }',
    ]);
  });

  test('quoted braces and quoted import are plain arguments', () => {
    assert.deepEqual(shape(parse('. {\n template "{" "}"\n "import" x\n}\n'))[0]!.directives, ['template { }', 'import x']);
  });

  test('an empty file has no blocks', () => {
    assert.deepEqual(parse('# nothing\n\n'), []);
  });

  test('brace errors name the file and line', () => {
    fails('. {\n whoami\n}\n\n\n\n}\n', "Corefile:7: unexpected '}'");
    fails('a {\n b\n}\nc {\n d }\n}\n', "Corefile:6: unexpected '}'");
    fails('a {\n b\n', 'Corefile:1: unclosed block opened here');
    fails('a {\n b {\n  c\n', 'Corefile:2: unclosed block opened here');
    fails('a {\n b {\n  c\n }\n', 'Corefile:1: unclosed block opened here');
    fails('a {\n b\n {\n c\n }\n}\n', 'Corefile:3: block must open on the same line as its directive');
    fails('{\n}\n', "Corefile:1: expected a server block key before '{'");
    fails('a {\n {\n }\n}\n', "Corefile:2: unexpected '{'");
  });
});

describe('environment substitution', () => {
  test('{$VAR} and {%VAR%} inside any token; unset is empty', () => {
    const env = { ZONE: 'Example.org', PORT: '1053', UP: '9.9.9.9', POL: 'random' };
    const blocks = parse('{$ZONE}:{%PORT%} {\n forward . {$UP}:53 "x{$NOPE}y" {\n  policy {%POL%}\n }\n}\n', { env });
    assert.deepEqual(shape(blocks), [{ keys: ['Example.org:1053'], directives: ['forward . 9.9.9.9:53 xy { policy random }'] }]);
    assert.deepEqual(blocks[0]!.keys[0]!.zones, ['example.org.']);
    assert.equal(blocks[0]!.keys[0]!.port, 1053);
  });

  test('a value with spaces stays one token and is not expanded again', () => {
    const block = parse('. {\n hosts {$A}\n}\n', { env: { A: 'x y {$B}', B: 'no' } })[0]!;
    assert.deepEqual(
      block.directives[0]!.args.map((a) => a.text),
      ['x y {$B}'],
    );
  });

  test('defaults to process.env', () => {
    process.env.PODSWARM_COREFILE_TEST = 'from-env';
    try {
      const block = parseCorefile('. {\n log {$PODSWARM_COREFILE_TEST}\n}\n', 'Corefile')[0]!;
      assert.equal(block.directives[0]!.args[0]!.text, 'from-env');
    } finally {
      delete process.env.PODSWARM_COREFILE_TEST;
    }
  });
});

describe('snippets', () => {
  test('stored, not served, and spliced where imported, even twice and nested', () => {
    const text = '(common) {\n log\n errors\n}\n(one) { whoami }\n. {\n import common\n import one\n import one\n forward . 1.1.1.1 {\n  import one\n }\n}\n';
    assert.deepEqual(shape(parse(text)), [{ keys: ['.'], directives: ['log', 'errors', 'whoami', 'whoami', 'forward . 1.1.1.1 { whoami }'] }]);
  });

  test('spliced tokens keep the snippet lines; env is expanded at the import', () => {
    const block = parse('(s) {\n cache {$TTL}\n}\n. {\n import s\n}\n', { env: { TTL: '30' } })[0]!;
    assert.deepEqual(block.directives[0]!.name, { text: 'cache', file: 'Corefile', line: 2 });
    assert.equal(block.directives[0]!.args[0]!.text, '30');
  });

  test('a snippet imported at top level may hold whole server blocks', () => {
    assert.deepEqual(shape(parse('(blocks) {\n a.org {\n  whoami\n }\n}\nimport blocks\n')), [{ keys: ['a.org'], directives: ['whoami'] }]);
  });

  test('redeclaring a snippet is an error', () => {
    fails('(s) {\n log\n}\n(s) {\n errors\n}\n', 'Corefile:4: snippet (s) is defined more than once (first at line 1)');
  });

  test('snippet syntax errors', () => {
    fails('(s)\n', "Corefile:1: snippet (s) must be followed by '{'");
    fails('(s) a.org {\n}\n', 'Corefile:1: snippet (s) must be the only key of its block');
    fails('(s) {\n log {\n}\n', 'Corefile:1: unclosed block opened here');
  });

  test('a snippet importing itself stops at the expansion cap', () => {
    fails('(s) {\n import s\n}\n. {\n import s\n}\n', `Corefile:2: import: more than ${MAX_IMPORTS} imports, probably an import cycle`);
  });
});

describe('imports from files', () => {
  const withDir = (fn: (dir: string) => void): void => {
    const dir = mkdtempSync(join(tmpdir(), 'corefile-'));
    try {
      fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const write = (path: string, text: string): void => writeFileSync(path, text);
  const parseFile = (path: string, text: string): ServerBlock[] => {
    write(path, text);
    return parseCorefile(text, path, { env: {} });
  };

  test('a file import inside a block, resolved relative to the importing file', () => {
    withDir((dir) => {
      mkdirSync(join(dir, 'conf.d'));
      write(join(dir, 'conf.d', 'a.conf'), 'log\nimport b.conf\n');
      write(join(dir, 'conf.d', 'b.conf'), 'errors\n');
      const blocks = parseFile(join(dir, 'Corefile'), '. {\n import conf.d/a.conf\n whoami\n}\n');
      assert.deepEqual(shape(blocks)[0]!.directives, ['log', 'errors', 'whoami']);
      assert.deepEqual(blocks[0]!.directives[1]!.name, { text: 'errors', file: join(dir, 'conf.d', 'b.conf'), line: 1 });
    });
  });

  test('top-level imports bring whole blocks; errors point into the imported file', () => {
    withDir((dir) => {
      write(join(dir, 'zones.conf'), 'a.org {\n whoami\n}\n');
      assert.deepEqual(shape(parseFile(join(dir, 'Corefile'), 'import zones.conf\n. {\n log\n}\n')), [
        { keys: ['a.org'], directives: ['whoami'] },
        { keys: ['.'], directives: ['log'] },
      ]);
      write(join(dir, 'bad.conf'), 'x {\n y\n}\n}\n');
      assert.throws(() => parseFile(join(dir, 'Corefile'), 'import bad.conf\n'), { message: `${join(dir, 'bad.conf')}:4: unexpected '}'` });
    });
  });

  test('a glob with one * imports matches in sorted order; no match imports nothing', () => {
    withDir((dir) => {
      mkdirSync(join(dir, 'd'));
      write(join(dir, 'd', 'b.conf'), 'b.org {\n whoami\n}\n');
      write(join(dir, 'd', 'a.conf'), 'a.org {\n whoami\n}\n');
      write(join(dir, 'd', 'skip.txt'), 'not imported {\n}\n');
      mkdirSync(join(dir, 'd', 'dir.conf'));
      const blocks = parseFile(join(dir, 'Corefile'), 'import d/*.conf\nimport none/*.conf\n. {\n import *.missing\n}\n');
      assert.deepEqual(shape(blocks), [
        { keys: ['a.org'], directives: ['whoami'] },
        { keys: ['b.org'], directives: ['whoami'] },
        { keys: ['.'], directives: [] },
      ]);
    });
  });

  test('import errors', () => {
    withDir((dir) => {
      const main = join(dir, 'Corefile');
      mkdirSync(join(dir, 'sub'));
      assert.throws(() => parseFile(main, '. {\n log\n import x.conf\n}\n'), { message: `${main}:3: import: file not found: x.conf` });
      assert.throws(() => parseFile(main, 'import */*.conf\n'), { message: `${main}:1: import: pattern may contain at most one '*': */*.conf` });
      assert.throws(() => parseFile(main, 'import Corefile\n'), { message: `${main}:1: import: Corefile imports the importing file itself` });
      assert.throws(() => parseFile(main, 'import sub\n'), { message: `${main}:1: import: sub is a directory` });
      assert.throws(() => parseFile(main, '. {\n import\n}\n'), {
        message: `${main}:2: import: expected exactly one argument (a snippet name or file pattern), got 0`,
      });
      assert.throws(() => parseFile(main, 'import a b\n'), {
        message: `${main}:1: import: expected exactly one argument (a snippet name or file pattern), got 2`,
      });
      assert.throws(() => parseFile(main, 'import {$EMPTY}\n'), { message: `${main}:1: import: empty snippet name or file pattern` });
    });
  });

  test('an import cycle between files ends at the cap', () => {
    withDir((dir) => {
      write(join(dir, 'a.conf'), 'import b.conf\n');
      write(join(dir, 'b.conf'), 'import a.conf\n');
      assert.throws(
        () => parseFile(join(dir, 'Corefile'), 'import a.conf\n'),
        (err: unknown) => {
          assert.ok(err instanceof CorefileError);
          assert.match(err.message, /\.conf:1: import: more than 10000 imports, probably an import cycle$/);
          return true;
        },
      );
    });
  });

  test('snippets defined in an imported file are visible afterwards', () => {
    withDir((dir) => {
      write(join(dir, 'snippets.conf'), '(s) {\n whoami\n}\n');
      assert.deepEqual(shape(parseFile(join(dir, 'Corefile'), 'import snippets.conf\n. {\n import s\n}\n')), [{ keys: ['.'], directives: ['whoami'] }]);
    });
  });

  test('file access can be injected', () => {
    const files: Record<string, string> = { '/etc/dns/extra/x.conf': 'log\n', '/etc/dns/extra/y.conf': 'errors\n' };
    const seen: [string, string][] = [];
    const blocks = parseCorefile('. {\n import extra/*.conf\n import /etc/dns/extra/x.conf\n}\n', '/etc/dns/Corefile', {
      env: {},
      readFile: (p) => {
        if (!(p in files)) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
        return files[p]!;
      },
      glob: (pattern, baseDir) => {
        seen.push([pattern, baseDir]);
        return Object.keys(files).sort();
      },
    });
    assert.deepEqual(seen, [['extra/*.conf', '/etc/dns']]);
    assert.deepEqual(shape(blocks)[0]!.directives, ['log', 'errors', 'log']);
    assert.equal(blocks[0]!.directives[1]!.name.file, '/etc/dns/extra/y.conf');
  });
});

describe('server keys', () => {
  const key = (text: string) => {
    const k = parseServerKey(tok(text));
    return [k.zones, k.port];
  };
  const keyFails = (text: string, reason: string) => assert.throws(() => parseServerKey(tok(text, 4)), { message: `Corefile:4: ${reason}` });

  test('zones are lowercased and fully qualified; the port follows the last colon', () => {
    assert.deepEqual(key('.'), [['.'], undefined]);
    assert.deepEqual(key('.:53'), [['.'], 53]);
    assert.deepEqual(key('dns://.:1053'), [['.'], 1053]);
    assert.deepEqual(key('DNS://Example.ORG'), [['example.org.'], undefined]);
    assert.deepEqual(key('cluster.local.:0'), [['cluster.local.'], 0]);
    assert.equal(parseServerKey(tok('a.org')).scheme, 'dns');
  });

  test('other schemes are rejected', () => {
    keyFails('tls://.:853', 'scheme tls:// is not supported (only dns://): tls://.:853');
    keyFails('grpc://example.org', 'scheme grpc:// is not supported (only dns://): grpc://example.org');
  });

  test('bad ports and zones are rejected', () => {
    keyFails('example.org:abc', 'invalid port "abc" in key example.org:abc');
    keyFails('example.org:65536', 'invalid port "65536" in key example.org:65536');
    keyFails('example.org:', 'invalid port "" in key example.org:');
    keyFails(':53', 'invalid zone "" in key :53');
    keyFails('a..org', 'invalid zone "a..org" in key a..org');
    keyFails('10.0.0.0/33', 'invalid CIDR prefix "/33" in key 10.0.0.0/33 (expected 0-32)');
  });

  test('CIDR keys become reverse zones, split to the label boundary', () => {
    assert.deepEqual(key('10.0.0.0/8'), [['10.in-addr.arpa.'], undefined]);
    assert.deepEqual(key('10.1.2.3/8:1053'), [['10.in-addr.arpa.'], 1053]);
    assert.deepEqual(key('192.168.1.0/24'), [['1.168.192.in-addr.arpa.'], undefined]);
    assert.deepEqual(key('0.0.0.0/0'), [['in-addr.arpa.'], undefined]);
    const [zones27] = key('10.0.0.0/27') as [string[]];
    assert.equal(zones27.length, 32);
    assert.equal(zones27[0], '0.0.0.10.in-addr.arpa.');
    assert.equal(zones27[31], '31.0.0.10.in-addr.arpa.');
    const [zones12] = key('172.16.0.0/12') as [string[]];
    assert.deepEqual([zones12.length, zones12[0], zones12[15]], [16, '16.172.in-addr.arpa.', '31.172.in-addr.arpa.']);
  });

  test('IPv6 CIDR keys split on nibbles; a port may follow the prefix', () => {
    assert.deepEqual(key('fd00::/8'), [['d.f.ip6.arpa.'], undefined]);
    assert.deepEqual(key('fd00::/10:53'), [['0.d.f.ip6.arpa.', '1.d.f.ip6.arpa.', '2.d.f.ip6.arpa.', '3.d.f.ip6.arpa.'], 53]);
    assert.deepEqual(key('2001:db8::/32'), [['8.b.d.0.1.0.0.2.ip6.arpa.'], undefined]);
    assert.deepEqual(key('::ffff:10.0.0.0/120'), [[`0.0.0.0.a.0.f.f.f.f.${'0.'.repeat(20)}ip6.arpa.`], undefined]);
  });
});

describe('duplicate keys', () => {
  test('the same zone and port twice is an error, naming the first', () => {
    fails(
      'cluster.local:1053 {\n}\n\n\n\n\n\n\n\ncluster.local.:1053 {\n}\n',
      'Corefile:10: zone cluster.local.:1053 is defined more than once (first at line 1)',
    );
    fails('a.org b.org A.ORG {\n}\n', 'Corefile:1: zone a.org.:53 is defined more than once (first at line 1)');
    fails('a.org {\n}\na.org:53 {\n}\n', 'Corefile:3: zone a.org.:53 is defined more than once (first at line 1)');
    fails('10.0.0.0/8 {\n}\n10.in-addr.arpa {\n}\n', 'Corefile:3: zone 10.in-addr.arpa.:53 is defined more than once (first at line 1)');
  });

  test('different ports are different servers; the default port decides for keys without one', () => {
    const text = 'a.org {\n}\na.org:53 {\n}\n';
    assert.equal(parse('a.org {\n}\na.org:1053 {\n}\n').length, 2);
    assert.equal(parse(text, { defaultPort: 1053 }).length, 2);
    const blocks = parse('a.org {\n}\na.org:1053 {\n}\n');
    assert.throws(() => checkDuplicateKeys(blocks, 1053), { message: 'Corefile:3: zone a.org.:1053 is defined more than once (first at line 1)' });
  });
});

describe('setup helpers', () => {
  const block = parse('. {\n cache 1 2 3\n health\n forward . 1.1.1.1 {\n  max_fails 3\n  bogus\n }\n}\n')[0]!;
  const [cache, health, forward] = [0, 1, 2].map((k) => block.directives[k]!) as [Directive, Directive, Directive];

  test('argCount returns the args or says what was expected', () => {
    assert.equal(argCount(cache, 0, 3).length, 3);
    assert.deepEqual(argCount(health, 0, 1), []);
    assert.throws(() => argCount(cache, 0, 2), { message: 'Corefile:2: cache: expected at most 2 arguments, got 3' });
    assert.throws(() => argCount(cache, 1), { message: 'Corefile:2: cache: expected exactly 1 argument, got 3' });
    assert.throws(() => argCount(cache, 0, 0), { message: 'Corefile:2: cache: expected no arguments, got 3' });
    assert.throws(() => argCount(health, 1, Infinity), { message: 'Corefile:3: health: expected at least 1 argument, got 0' });
    assert.throws(() => argCount(health, 1, 2), { message: 'Corefile:3: health: expected 1 to 2 arguments, got 0' });
  });

  test('subdirectives, noBlock and unknownSubdirective', () => {
    assert.deepEqual(subdirectives(forward).map(render), ['max_fails 3', 'bogus']);
    assert.deepEqual(subdirectives(cache), []);
    noBlock(cache);
    assert.throws(() => noBlock(forward), { message: 'Corefile:4: forward: does not take a block' });
    const err = unknownSubdirective(forward, subdirectives(forward)[1]!);
    assert.ok(err instanceof CorefileError);
    assert.equal(err.message, "Corefile:6: forward: unknown property 'bogus'");
  });

  test('parseDuration reads Go durations into milliseconds', () => {
    const cases: [string, number][] = [
      ['300ms', 300],
      ['5s', 5000],
      ['1m30s', 90_000],
      ['2h', 7_200_000],
      ['1.5s', 1500],
      ['.5m', 30_000],
      ['1h2m3s4ms', 3_723_004],
      ['500us', 0.5],
      ['0', 0],
    ];
    for (const [text, ms] of cases) assert.equal(parseDuration(tok(text)), ms, text);
    for (const bad of ['5', '', '-1s', '5x', '1s ', 's', '1d']) {
      assert.throws(() => parseDuration(tok(bad, 9)), { message: `Corefile:9: invalid duration '${bad}' (expected e.g. 300ms, 5s, 1m30s, 2h)` }, bad);
    }
    assert.throws(() => parseDuration(tok('5x', 2), 'cache'), { message: "Corefile:2: cache: invalid duration '5x' (expected e.g. 300ms, 5s, 1m30s, 2h)" });
  });

  test('parseUint checks digits and range', () => {
    assert.equal(parseUint(tok('3'), 'max_fails'), 3);
    assert.equal(parseUint(tok('65535'), 'port', 1, 65535), 65535);
    for (const bad of ['-1', '1.5', 'x', '', '0x10']) {
      assert.throws(() => parseUint(tok(bad, 5), 'n', 0, 10), { message: `Corefile:5: n: expected an integer from 0 to 10, got '${bad}'` }, bad);
    }
    assert.throws(() => parseUint(tok('11', 5), 'n', 0, 10), { message: "Corefile:5: n: expected an integer from 0 to 10, got '11'" });
  });
});
