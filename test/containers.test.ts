// The containers plugin against the real aardvark-dns: containers on
// DNS-enabled netavark networks ask the same questions of aardvark (their
// network's gateway) and of podswarm-dns (the node address 169.254.20.10 on
// the namespace's lo), and get the same answers. Then scoping over two
// networks, removal, PTR, and what is passed on.
//
// Everything runs in a network namespace and a Podman storage of our own
// (psw-names-<pid>, helpers/podman-lab.ts) with no default route: podman
// subnets 10.250.10.0/24 and 10.250.11.0/24, and the node address. aardvark forwards what it does not know to the host's
// resolver, which is unreachable from here, so those questions are not asked
// of it. Every container gets --dns 169.254.20.10; queries name their server.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseDig } from './helpers/dig.js';
import { eventually } from './helpers/eventually.js';
import { createPodmanLab, type PodmanLab } from './helpers/podman-lab.js';
import { podmanPrefix } from './helpers/podman-names.js';
import { digInContainer, pinBridgeMacs } from './helpers/podman-netns.js';
import { startServer, type RunningServer } from './helpers/server.js';

const run = promisify(execFile);

const NS = `psw-names-${process.pid}`;
const PREFIX = 'psw-names-';
/** aardvark-dns keeps its configuration per network name in one directory for every Podman on the host. */
const NET_PREFIX = podmanPrefix('psw-names');
const NET_A = `${NET_PREFIX}a`;
const NET_B = `${NET_PREFIX}b`;
const GW_A = '10.250.10.1';
const NODE = '169.254.20.10';
const IMAGE = 'localhost/busybox:latest';
const OUTSIDE = 'outside.example';
const OUTSIDE_ADDR = '198.51.100.7'; // only ever an answer

let lab: PodmanLab | undefined;
const podman = (...args: string[]): Promise<string> => lab!.podman(...args);

/** A long-running container on `networks`, resolving through the node. */
async function container(name: string, networks: string[], ...extra: string[]): Promise<void> {
  await podman('run', '-d', '--name', PREFIX + name, '--network', networks.join(','), '--dns', NODE, ...extra, IMAGE, 'sleep', '3600');
}

async function ipOn(name: string, net: string): Promise<string> {
  return podman('inspect', '--format', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, PREFIX + name);
}

async function shortId(name: string): Promise<string> {
  return (await podman('inspect', '--format', '{{.Id}}', PREFIX + name)).slice(0, 12);
}

interface Answer {
  status: string;
  /** `TYPE DATA TTL`, sorted; owner names left out (aardvark lowercases them, and owns PTRs by `.`). */
  records: string[];
  owners: string[];
}

/** dig from the client container's own address (its network namespace) to `server`. */
async function ask(client: string, server: string, name: string, type = 'A'): Promise<Answer> {
  const r = await digInContainer(podman, PREFIX + client, server, name, type);
  return { status: r.status, records: r.answer.map((a) => `${a.type} ${a.data} ${a.ttl}`).sort(), owners: r.answer.map((a) => a.name) };
}

/** The same question of aardvark (the client's gateway) and of the node: equal answers. */
async function same(client: string, name: string, type = 'A'): Promise<Answer> {
  const [theirs, ours] = [await ask(client, GW_A, name, type), await ask(client, NODE, name, type)];
  assert.deepEqual({ status: ours.status, records: ours.records }, { status: theirs.status, records: theirs.records }, `${client}: ${name} ${type}`);
  return ours;
}

describe('containers plugin, side by side with aardvark-dns', { timeout: 300_000 }, () => {
  let server: RunningServer | undefined;
  const ip: Record<string, string> = {};

  before(async () => {
    await run('podman', ['image', 'exists', IMAGE]).catch(() => {
      throw new Error(`image ${IMAGE} is missing: run scripts/podman-image.sh (as root)`);
    });
    lab = await createPodmanLab(NS, IMAGE, [`${NODE}/32`]);
    await podman('network', 'create', '--subnet', '10.250.10.0/24', NET_A);
    await podman('network', 'create', '--subnet', '10.250.11.0/24', NET_B);
    await container('web', [NET_A], '--network-alias', 'www');
    await container('db', [NET_B], '--network-alias', 'sql');
    await container('app', [NET_A, NET_B]);
    await container('client-a', [NET_A]);
    await container('client-b', [NET_B]);
    await container('client-ab', [NET_A, NET_B]);
    await pinBridgeMacs(NS);
    for (const [name, net] of [
      ['web', NET_A],
      ['db', NET_B],
      ['app', NET_A],
      ['app', NET_B],
    ] as const)
      ip[`${name}@${net}`] = await ipOn(name, net);
    server = await startServer({
      prefix: ['ip', 'netns', 'exec', NS],
      corefile: `.:53 {
        bind ${NODE}
        containers {
          socket ${lab.socket}
        }
        hosts {
          ${OUTSIDE_ADDR} ${OUTSIDE}
          fallthrough
        }
      }`,
    });
    await server.waitFor(/plugin\/containers: synced \d+ container\(s\)/);
  });

  after(async () => {
    await server?.stop();
    await lab?.destroy();
  });

  test('container names, aliases and <name>.dns.podman: same answers as aardvark, TTL 86400', async () => {
    const web = await same('client-a', `${PREFIX}web`);
    assert.deepEqual(web.records, [`A ${ip[`web@${NET_A}`]} 86400`]);
    assert.deepEqual((await same('client-a', 'www')).records, web.records);
    assert.deepEqual((await same('client-a', `${PREFIX}web.dns.podman`)).records, web.records);
    assert.deepEqual((await same('client-a', 'www.dns.podman')).records, web.records);
    assert.deepEqual((await same('client-a', await shortId('web'))).records, web.records, 'Podman 4 aliases the short id');
    assert.deepEqual((await same('client-a', `${PREFIX}WEB`)).records, web.records);
    // Our question case comes back (aardvark lowercases the owner).
    assert.deepEqual((await ask('client-a', NODE, 'PSW-names-WeB')).owners, ['PSW-names-WeB.']);
  });

  test('a v4-only container: AAAA and other types are NODATA; unknown names NXDOMAIN, as aardvark', async () => {
    for (const type of ['AAAA', 'MX', 'TXT']) {
      const r = await same('client-a', `${PREFIX}web`, type);
      assert.deepEqual([r.status, r.records], ['NOERROR', []], type);
    }
    for (const name of ['nope', 'nope.dns.podman', `${PREFIX}db`, 'sql.dns.podman']) {
      assert.equal((await same('client-a', name)).status, 'NXDOMAIN', name);
    }
  });

  test('a container on two networks: seen with its address on the client network, both for a client on both', async () => {
    assert.deepEqual((await same('client-a', `${PREFIX}app`)).records, [`A ${ip[`app@${NET_A}`]} 86400`]);
    assert.deepEqual((await same('client-ab', `${PREFIX}app`)).records, [`A ${ip[`app@${NET_A}`]} 86400`, `A ${ip[`app@${NET_B}`]} 86400`].sort());
    assert.deepEqual((await same('client-ab', `${PREFIX}db`)).records, [`A ${ip[`db@${NET_B}`]} 86400`]);
  });

  test('scoping: each client sees the names of its own networks only', async () => {
    const sees = async (client: string, name: string): Promise<string> => (await ask(client, NODE, name)).status;
    assert.deepEqual(
      [await sees('client-a', `${PREFIX}web`), await sees('client-a', `${PREFIX}db`), await sees('client-a', 'sql')],
      ['NOERROR', 'NXDOMAIN', 'NXDOMAIN'],
    );
    assert.deepEqual(
      [await sees('client-b', `${PREFIX}web`), await sees('client-b', 'www'), await sees('client-b', `${PREFIX}db`), await sees('client-b', 'sql')],
      ['NXDOMAIN', 'NXDOMAIN', 'NOERROR', 'NOERROR'],
    );
    assert.deepEqual((await ask('client-b', NODE, `${PREFIX}app`)).records, [`A ${ip[`app@${NET_B}`]} 86400`]);
    assert.deepEqual([await sees('client-ab', `${PREFIX}web`), await sees('client-ab', 'sql.dns.podman')], ['NOERROR', 'NOERROR']);
  });

  test('PTR: every name of a visible address, as aardvark; an address off the client networks is passed on', async () => {
    const reverse = (addr: string): string => `${addr.split('.').reverse().join('.')}.in-addr.arpa`;
    const web = reverse(ip[`web@${NET_A}`]!);
    const r = await same('client-a', web, 'PTR');
    assert.deepEqual(r.records, [`PTR ${await shortId('web')}. 86400`, 'PTR psw-names-web. 86400', 'PTR www. 86400']);
    assert.deepEqual(r.owners, [`${web}.`, `${web}.`, `${web}.`]);
    // Not ours to answer (aardvark forwards it upstream); here no plugin after us knows it.
    assert.equal((await ask('client-a', NODE, reverse(ip[`db@${NET_B}`]!), 'PTR')).status, 'SERVFAIL');
  });

  test('busybox nslookup in a client container gets the same addresses from both servers', async () => {
    const lookup = async (server: string): Promise<string[]> => {
      const out = await podman(
        'exec',
        `${PREFIX}client-ab`,
        'sh',
        '-c',
        `nslookup -type=a ${PREFIX}app ${server}; nslookup -type=a www ${server}; nslookup -type=a sql ${server}`,
      );
      // The "Address:" lines after each "Name:", not the server's own.
      return out
        .split('\n')
        .filter((l) => /^Address: \d/.test(l))
        .map((l) => l.slice(9))
        .sort();
    };
    const ours = await lookup(NODE);
    assert.deepEqual(ours, await lookup(GW_A));
    assert.deepEqual(ours, [ip[`app@${NET_A}`], ip[`app@${NET_B}`], ip[`web@${NET_A}`], ip[`db@${NET_B}`]].sort());
  });

  test('names outside Podman, and clients that are no container, go to the next plugin', async () => {
    const outside = await ask('client-a', NODE, OUTSIDE);
    assert.deepEqual(outside.records, [`A ${OUTSIDE_ADDR} 3600`]);
    // The namespace itself asks from the node address: not a container, so not answered by containers.
    const { stdout } = await run('ip', ['netns', 'exec', NS, 'dig', `@${NODE}`, `${PREFIX}web`, '+time=2', '+tries=1']);
    const fromHost = parseDig(stdout);
    assert.deepEqual([fromHost.status, fromHost.answer], ['SERVFAIL', []], stdout);
  });

  test('a removed container leaves the answers (both servers agree)', async () => {
    await container('gone', [NET_A], '--network-alias', 'gone-alias');
    await eventually(
      () => ask('client-a', NODE, 'gone-alias'),
      (r) => r.status === 'NOERROR',
      'the new container to be answered',
      10_000,
    );
    await same('client-a', `${PREFIX}gone`);
    await podman('rm', '-f', '-t', '0', `${PREFIX}gone`);
    await eventually(
      () => ask('client-a', NODE, `${PREFIX}gone`),
      (r) => r.status === 'NXDOMAIN',
      'the removed container to leave',
      10_000,
    );
    assert.equal((await same('client-a', 'gone-alias')).status, 'NXDOMAIN');
  });
});
