// The containers plugin's name index against libpod inspect shapes (no podman
// needed): aardvark-dns's scoping by the asking container's networks.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressesFor, buildIndex, clientOf, indexOfList, namesFor } from '../plugins/containers/names.js';
import type { ContainerInspect } from '../src/sources/podman/libpod.js';

const ctr = (name: string, networks: Record<string, { v4?: string; v6?: string; aliases?: string[] }>): ContainerInspect => ({
  Id: `${name}-id`,
  Name: name,
  State: { Running: true },
  Config: { Labels: null },
  NetworkSettings: {
    Networks: Object.fromEntries(
      Object.entries(networks).map(([n, a]) => [n, { IPAddress: a.v4 ?? '', GlobalIPv6Address: a.v6 ?? '', Aliases: a.aliases ?? null }]),
    ),
  },
});

const idx = buildIndex([
  ctr('Web', { front: { v4: '10.250.10.2', v6: 'fd00:0::2', aliases: ['www', 'abc123'] } }),
  ctr('db', { back: { v4: '10.250.11.2', aliases: ['sql'] } }),
  ctr('app', { front: { v4: '10.250.10.3' }, back: { v4: '10.250.11.3' } }),
  ctr('hostnet', { host: {} }),
]);

test('names: every address of a container identifies it, with all its networks', () => {
  assert.deepEqual(idx.clients.get('10.250.10.3'), ['back', 'front']);
  assert.deepEqual(idx.clients.get('10.250.11.3'), ['back', 'front']);
  assert.deepEqual(idx.clients.get('fd00::2'), ['front']);
  assert.equal(idx.clients.get('10.250.11.9'), undefined);
  assert.equal(idx.clients.size, 5, 'a host-network container has no address to ask from');
});

test('names: container name and aliases, case-insensitive, with or without the domain', () => {
  const front = idx.clients.get('10.250.10.2')!;
  assert.deepEqual(addressesFor(idx, front, 'web.', 'dns.podman'), ['10.250.10.2', 'fd00::2']);
  assert.deepEqual(addressesFor(idx, front, 'www.dns.podman.', 'dns.podman'), ['10.250.10.2', 'fd00::2']);
  assert.deepEqual(addressesFor(idx, front, 'abc123.', 'dns.podman'), ['10.250.10.2', 'fd00::2']);
  assert.deepEqual(addressesFor(idx, front, 'web.other.', 'dns.podman'), []);
});

test('names: a client sees only its own networks, and the addresses there', () => {
  const front = idx.clients.get('10.250.10.2')!;
  const back = idx.clients.get('10.250.11.2')!;
  const both = idx.clients.get('10.250.10.3')!;
  assert.deepEqual(addressesFor(idx, front, 'db.', 'dns.podman'), []);
  assert.deepEqual(addressesFor(idx, back, 'web.', 'dns.podman'), []);
  assert.deepEqual(addressesFor(idx, front, 'app.', 'dns.podman'), ['10.250.10.3']);
  assert.deepEqual(addressesFor(idx, back, 'app.', 'dns.podman'), ['10.250.11.3']);
  assert.deepEqual(addressesFor(idx, both, 'app.', 'dns.podman'), ['10.250.11.3', '10.250.10.3']);
  assert.deepEqual(addressesFor(idx, both, 'sql.', 'dns.podman'), ['10.250.11.2']);
});

test('names: PTR gives every name of the address, as Podman spells them, on the client networks only', () => {
  const front = idx.clients.get('10.250.10.3')!.filter((n) => n === 'front');
  assert.deepEqual(namesFor(idx, front, '10.250.10.2'), ['Web', 'www', 'abc123']);
  assert.deepEqual(namesFor(idx, front, 'fd00::2'), ['Web', 'www', 'abc123']);
  assert.deepEqual(namesFor(idx, front, '10.250.11.2'), []);
});

test('namespaces: a service container is in its podswarm.namespace (default without it); a plain client in none', () => {
  const labelled = (name: string, v4: string, labels: Record<string, string>): ContainerInspect => ({
    ...ctr(name, { front: { v4 } }),
    Config: { Labels: labels },
  });
  const i = buildIndex([
    labelled('api', '10.250.10.7', { 'podswarm.service': 'api', 'podswarm.namespace': 'shop' }),
    labelled('worker', '10.250.10.8', { 'podswarm.service': 'worker' }),
    labelled('cli', '10.250.10.9', { 'podswarm.namespace': 'shop' }),
    labelled('bad', '10.250.10.10', { 'podswarm.namespace': 'Not A Label' }),
  ]);
  assert.deepEqual(clientOf(i, '10.250.10.7'), { nets: ['front'], namespace: 'shop' });
  assert.deepEqual(clientOf(i, '10.250.10.8'), { nets: ['front'], namespace: 'default' });
  assert.deepEqual(clientOf(i, '10.250.10.9'), { nets: ['front'], namespace: 'shop' });
  assert.deepEqual(clientOf(i, '10.250.10.10'), { nets: ['front'], namespace: undefined });
  assert.deepEqual(clientOf(idx, '10.250.10.2'), { nets: ['front'], namespace: undefined });
  assert.equal(clientOf(i, '10.250.10.99'), undefined);
});

test('a compatible container list gives the whole index, for containers the events have not brought yet', () => {
  const found = indexOfList([
    {
      Id: 'new',
      Names: ['/newbie'],
      Labels: { 'podswarm.namespace': 'shop' },
      NetworkSettings: {
        Networks: {
          front: { IPAddress: '10.250.10.20', GlobalIPv6Address: '', Aliases: ['nb', 'abc'] },
          back: { IPAddress: '10.250.11.20', GlobalIPv6Address: 'fd00::20' },
        },
      },
    },
    { Id: 'hostnet', Names: ['/h'], Labels: null, NetworkSettings: { Networks: { host: { IPAddress: '', GlobalIPv6Address: '' } } } },
  ]);
  assert.deepEqual(clientOf(found, '10.250.11.20'), { nets: ['back', 'front'], namespace: 'shop' });
  assert.deepEqual(clientOf(found, 'fd00::20'), { nets: ['back', 'front'], namespace: 'shop' });
  assert.equal(found.clients.size, 3);
  assert.deepEqual(addressesFor(found, ['front'], 'newbie.', 'dns.podman'), ['10.250.10.20']);
  assert.deepEqual(addressesFor(found, ['front'], 'nb.dns.podman.', 'dns.podman'), ['10.250.10.20']);
});
