// The registry's source keys: their spelling is what the API, `lookup` and
// the operator log show, and whether a key is this node's own decides what
// gossip and etcd publish and what the health checker probes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type SourceId, isOwnSource, sourceKey, sourceKind } from '../src/sources/source-id.js';

describe('source ids', () => {
  it('spells every kind as the API shows it, and reads the kind back', () => {
    const ids: [SourceId, string][] = [
      [{ kind: 'api' }, 'api'],
      [{ kind: 'file', detail: '/etc/podswarm/services.yaml' }, 'file:/etc/podswarm/services.yaml'],
      [{ kind: 'podman', detail: '/run/podman/podman.sock' }, 'podman:/run/podman/podman.sock'],
      [{ kind: 'kube', detail: '/k/a.yaml,/k/b' }, 'kube:/k/a.yaml,/k/b'],
      [{ kind: 'gossip', detail: 'n2' }, 'gossip:n2'],
      [{ kind: 'etcd', detail: 'n3' }, 'etcd:n3'],
    ];
    for (const [id, key] of ids) {
      assert.equal(sourceKey(id), key);
      assert.equal(sourceKind(key), id.kind, key);
    }
    // a path with a colon in it is still one file source
    assert.equal(sourceKind(sourceKey({ kind: 'file', detail: '/srv/a:b.yaml' })), 'file');
  });

  it('knows no kind in a key no source makes', () => {
    for (const key of ['test', 'api:x', 'gossip', 'other:n2', ':n2']) assert.equal(sourceKind(key), undefined, key);
  });

  it("tells this node's own sources from the ones replicated from other nodes", () => {
    assert.equal(isOwnSource('gossip:n2'), false);
    assert.equal(isOwnSource('etcd:n2'), false);
    assert.equal(isOwnSource('api'), true);
    assert.equal(isOwnSource('podman:default'), true);
    assert.equal(isOwnSource('file:/r.yaml'), true);
    assert.equal(isOwnSource('kube:/k.yaml'), true);
    assert.equal(isOwnSource('test'), true);
  });
});
