// The one helper for what survives a reload (src/chain/kept-across-reload.ts):
// shares hand a running value from the old config to the new one, the last
// one out disposes of it, and changed settings replace it.

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { App } from '../src/app.js';
import { KeptAcrossReload, KeptForLife } from '../src/chain/kept-across-reload.js';
import { createLogger } from '../src/log.js';

const newApp = () =>
  new App({ corefile: 'Corefile', quiet: true, nodeName: 't' }, createLogger({ json: false, out: new Writable({ write: (_c, _e, cb) => cb() }) }));

/** A helper that records what it disposed and replaced. */
function recording() {
  const disposed: string[] = [];
  const replaced: string[] = [];
  const kept = new KeptAcrossReload<string>({
    name: 'test value',
    dispose: (v) => void disposed.push(v),
    replace: (v) => void replaced.push(v),
  });
  return { kept, disposed, replaced };
}

describe('KeptAcrossReload', () => {
  it('hands the running value to the next config and disposes of it with the last share', async () => {
    const { kept, disposed } = recording();
    const app = newApp();
    let made = 0;
    const create = () => `v${++made}`;
    const old = await kept.use(app, 'k', create);
    const next = await kept.use(app, 'k', create);
    assert.deepEqual([old.value, old.created, next.value, next.created], ['v1', true, 'v1', false]);
    assert.deepEqual([old.newest, next.newest], [false, true]);
    await old.release();
    await old.release();
    assert.deepEqual(disposed, []);
    assert.equal(kept.current(app, 'k'), 'v1');
    await next.release();
    assert.deepEqual(disposed, ['v1']);
    assert.equal(kept.current(app, 'k'), undefined);
  });

  it('gives newest back to the older share when the newer one is released (a refused reload)', async () => {
    const { kept, disposed } = recording();
    const app = newApp();
    const serving = await kept.use(app, 'k', () => 'v');
    const refused = await kept.use(app, 'k', () => 'unused');
    await refused.release();
    assert.equal(serving.newest, true);
    assert.deepEqual(disposed, []);
  });

  it('replaces a value whose settings changed; the old config lets go of nothing then', async () => {
    const { kept, disposed, replaced } = recording();
    const app = newApp();
    const old = await kept.use(app, '', () => 'a', '{"port":1}');
    const next = await kept.use(app, '', () => 'b', '{"port":2}');
    assert.deepEqual([replaced, next.created, kept.current(app, '')], [['a'], true, 'b']);
    await old.release();
    assert.deepEqual(disposed, []);
    await next.release();
    assert.deepEqual(disposed, ['b']);
  });

  it('makes the replaced value again when its replacement fails to start: the old config keeps what it had', async () => {
    const { kept, disposed, replaced } = recording();
    const app = newApp();
    let made = 0;
    const old = await kept.use(app, '', () => `a${++made}`, '{"port":1}');
    await assert.rejects(
      kept.use(
        app,
        '',
        () => {
          throw new Error('listen EADDRINUSE');
        },
        '{"port":2}',
      ),
      /EADDRINUSE/,
    );
    assert.deepEqual([replaced, old.value, kept.current(app, '')], [['a1'], 'a2', 'a2']);
    await old.release();
    assert.deepEqual(disposed, ['a2']);
    assert.equal(kept.current(app, ''), undefined);
  });

  it('makes the replaced value again when the config that replaced it is refused later', async () => {
    const { kept, disposed, replaced } = recording();
    const app = newApp();
    const old = await kept.use(app, '', () => 'a', '{"port":1}');
    const refused = await kept.use(app, '', () => 'b', '{"port":2}');
    await refused.release();
    assert.deepEqual([replaced, disposed, old.value, kept.current(app, ''), old.newest], [['a'], ['b'], 'a', 'a', true]);
  });

  it('makes nothing again once the old config has let go (a reload that succeeded)', async () => {
    const { kept, disposed } = recording();
    const app = newApp();
    let made = 0;
    const old = await kept.use(app, '', () => `a${++made}`, '{"port":1}');
    const next = await kept.use(app, '', () => 'b', '{"port":2}');
    await old.release();
    await next.release();
    assert.deepEqual([made, disposed, kept.current(app, '')], [1, ['b'], undefined]);
  });

  it('logs, and leaves nothing running, when the replaced value cannot be made again', async () => {
    const lines: string[] = [];
    const app = new App(
      { corefile: 'Corefile', quiet: true, nodeName: 't' },
      createLogger({ json: false, out: new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }) }),
    );
    const kept = new KeptAcrossReload<string>({ name: 'test value', dispose: () => {} });
    let tries = 0;
    const create = () => {
      if (++tries > 1) throw new Error('port taken meanwhile');
      return 'a';
    };
    const old = await kept.use(app, 'k', create, '1');
    await assert.rejects(
      kept.use(
        app,
        'k',
        () => {
          throw new Error('bad');
        },
        '2',
      ),
      /bad/,
    );
    assert.equal(kept.current(app, 'k'), undefined);
    assert.equal(old.value, 'a');
    assert.match(lines.join(''), /the test value k a refused reload replaced could not start again: port taken meanwhile/);
  });

  it('keeps nothing when create throws, and keeps values of two apps apart', async () => {
    const { kept } = recording();
    const app = newApp();
    await assert.rejects(
      kept.use(app, 'k', () => {
        throw new Error('cannot bind');
      }),
      /cannot bind/,
    );
    assert.equal(kept.current(app, 'k'), undefined);
    const mine = await kept.use(app, 'k', () => 'mine');
    const theirs = await kept.use(newApp(), 'k', () => 'theirs');
    assert.deepEqual([mine.value, theirs.value, theirs.created], ['mine', 'theirs', true]);
  });
});

describe('KeptForLife', () => {
  it('makes a value once per app and key', () => {
    const kept = new KeptForLife<object>();
    const app = newApp();
    const a = kept.get(app, 'x', () => ({}));
    assert.equal(
      kept.get(app, 'x', () => ({})),
      a,
    );
    assert.notEqual(
      kept.get(newApp(), 'x', () => ({})),
      a,
    );
    assert.equal(kept.current(app, 'y'), undefined);
  });
});
