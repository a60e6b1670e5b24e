// The cluster DNS scenarios every registry backend passes alike
// (cluster-nodes.ts, which gossip-cluster.test.ts runs over gossip), run
// with the etcd backend against a real etcd: three podswarm-dns processes,
// each in a network namespace of its own with its own registry file, and one
// or three etcd members in further namespaces of the same lab. Then what is
// etcd's own: the SkyDNS layout in etcd, a killed node's keys gone with its
// lease, a member of three down, a watch resumed past a compaction after a
// partition, and etcd stopped (answers keep serving, /ready and the metrics
// say degraded) and started again (the nodes catch up).
// Needs root (`ip netns`) and etcd (scripts/install-deps.sh).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClusterNodes, NODES, type N, clusterScenarios } from './cluster-nodes.js';
import { type EtcdCluster, startEtcd } from './etcd.js';
import { eventually } from './eventually.js';
import { createLab, type Lab } from './netns.js';

const DNS_PORT = 1053;
const HTTP_PORT = 8181;
/** Short, so a killed node's endpoints leave within the test's patience; etcd's minimum is 2 s. */
const LEASE_TTL_S = 3;

export function etcdClusterSuite(members: 1 | 3, subnet: string): void {
  let lab: Lab | undefined;
  let etcd: EtcdCluster | undefined;
  const addr = (i: number): string => `${subnet}.${i}`;

  const corefile = (i: N): string => `cluster.local:${DNS_PORT} {
    bind ${addr(i)}
    ready ${addr(i)}:${HTTP_PORT} {
        monitor continuously
    }
    prometheus ${addr(i)}:${HTTP_PORT}
    etcd cluster.local {
        endpoint ${etcd!.urls.join(' ')}
        lease_ttl ${LEASE_TTL_S}s
    }
    cluster cluster.local {
        registry {{dir}}/services.yaml
    }
    srv cluster.local
}
`;
  const nodes = new ClusterNodes({ lab: () => lab!, dnsPort: () => DNS_PORT, corefile });
  const register = nodes.register.bind(nodes);
  const waitAnswers = nodes.waitAnswers.bind(nodes);
  const converged = nodes.converged.bind(nodes);

  /** Call before causing it: the returned wait ends at the next line of node `i` matching `re` (not at one it printed before). */
  const nextLine = (i: N, re: RegExp): (() => Promise<string>) => {
    const s = nodes.server(i);
    const seen = s.output().match(new RegExp(re.source, 'g'))?.length ?? 0;
    return () => s.waitFor(new RegExp(`(?:[\\s\\S]*?${re.source}){${seen + 1}}`), 60_000);
  };
  const http = (i: N, path: string): Promise<string> => lab!.exec(i, 'curl', ['-s', '-w', '\n%{http_code}', `http://${addr(i)}:${HTTP_PORT}${path}`]);
  const metric = async (i: N, name: string): Promise<number | undefined> => {
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(await http(i, '/metrics'));
    return m ? Number(m[1]) : undefined;
  };

  before(async () => {
    lab = await createLab(`ietcd${process.pid}`, subnet, NODES.length + members);
    etcd = await startEtcd(
      lab,
      Array.from({ length: members }, (_, m) => NODES.length + 1 + m),
    );
    for (const i of NODES) await nodes.start(i);
  });

  after(async () => {
    await nodes.stopAll();
    await etcd?.destroy();
    await lab?.destroy();
  });

  describe(`three podswarm-dns nodes on an etcd of ${members} member${members === 1 ? '' : 's'}`, () => {
    clusterScenarios(() => nodes, 'its lease expired');

    it('writes healthy endpoints in the SkyDNS layout CoreDNS’s etcd plugin reads', async () => {
      const tree = await etcd!.getPrefix('/skydns/local/cluster/default/svc1/');
      assert.deepEqual([...tree.keys()], ['/skydns/local/cluster/default/svc1/203-0-113-1-n1']);
      const value = JSON.parse([...tree.values()][0]!) as Record<string, unknown>;
      assert.equal(value.host, '203.0.113.1');
      assert.equal(value.port, 8080);
      assert.equal(value.ttl, 60);
      const ours = value.podswarm as { owner: string; endpoint: Record<string, unknown> };
      assert.equal(ours.owner, 'n1');
      assert.equal(ours.endpoint.name, '203-0-113-1');
      assert.equal(ours.endpoint.healthy, true);
      const defs = await etcd!.getPrefix('/podswarm-dns/services/default/svc1/');
      assert.deepEqual(
        [...defs.entries()],
        [
          [
            '/podswarm-dns/services/default/svc1/n1',
            JSON.stringify({
              podswarm: { owner: 'n1', service: { namespace: 'default', name: 'svc1', ports: [{ name: 'http', port: 8080, protocol: 'tcp' }] } },
            }),
          ],
        ],
      );
      const fields = await etcd!.ctl(['get', '/skydns/local/cluster/default/svc1/203-0-113-1-n1', '-w', 'fields']);
      assert.match(fields, /"Lease" : [1-9]\d*/, 'the key is under a lease');
      // an unhealthy endpoint has no key: a stock CoreDNS would serve it
      register(2, 'ill', '203.0.113.107', false);
      register(2, 'well', '203.0.113.108');
      await waitAnswers(1, 'well', ['203.0.113.108'], 'registered on n2 with ill');
      assert.deepEqual([...(await etcd!.getPrefix('/skydns/local/cluster/default/ill/')).keys()], []);
      assert.deepEqual([...(await etcd!.getPrefix('/podswarm-dns/services/default/ill/')).keys()], ['/podswarm-dns/services/default/ill/n2']);
      register(2, 'ill', undefined);
      register(2, 'well', undefined);
      await converged('ill and well removed');
    });

    it('takes a killed node’s keys out of etcd with its lease', async () => {
      const key = '/skydns/local/cluster/default/svc1/203-0-113-1-n1';
      assert.deepEqual([...(await etcd!.getPrefix(key)).keys()], [key]);
      await nodes.server(1).stop('SIGKILL');
      await eventually(
        () => etcd!.getPrefix(key),
        (m) => m.size === 0,
        'etcd deleted n1’s key with its lease',
      );
      await nodes.start(1);
      await converged('n1 restarted');
    });

    if (members === 3) {
      it('keeps replicating with one member of three down', async () => {
        await etcd!.stop(0);
        register(1, 'quorum', '203.0.113.102');
        await waitAnswers(3, 'quorum', ['203.0.113.102'], 'two members of three up');
        await eventually(
          () => http(2, '/ready'),
          (r) => r === 'OK\n200',
          'n2 not degraded with a quorum up',
        );
        await etcd!.start(0);
        await converged('member 0 back');
      });
    }

    it('reads the tree again when its watch resumes past a compaction, after a partition', async () => {
      const disconnected = nextLine(3, /watch disconnected/);
      await lab!.cut(3);
      // gRPC pings find the silent connection dead; until then the lease keepalive says degraded
      await disconnected();
      for (const i of [1, 2] as const) await waitAnswers(i, 'svc3', [], 'n3 cut off, its lease expired');
      register(1, 'apart', '203.0.113.104');
      register(2, 'svc2', '203.0.113.22');
      // in etcd (n1 and n2 see each other's), so the compaction below removes revisions n3 has not seen
      await waitAnswers(2, 'apart', ['203.0.113.104'], 'registered on n1 while n3 is cut off');
      await waitAnswers(1, 'svc2', ['203.0.113.22'], 'moved on n2 while n3 is cut off');
      const status = JSON.parse(await etcd!.ctl(['endpoint', 'status', '-w', 'json'])) as Array<{ Status: { header: { revision: number } } }>;
      await etcd!.ctl(['compact', String(status[0]!.Status.header.revision)]);
      await waitAnswers(3, 'svc2', ['203.0.113.2'], 'n3 cut off: the last known registry');
      await lab!.heal(3);
      await converged('healed: n3 read the tree again, its own entries written again');
      assert.match(
        nodes.server(3).output(),
        /etcd cancelled the watch of \/skydns\/local\/cluster\/ \(its revision compacted away\); reading it again/,
        'the resumed watch was refused as compacted',
      );
    });

    it('keeps answering while etcd is down, says so in /ready and the metrics, and catches up when it is back', async () => {
      await converged('before etcd stops');
      const leasesLost = NODES.map((i) => nextLine(i, /lease lost/));
      await etcd!.stop();
      for (const i of NODES) {
        const ready = await eventually(
          () => http(i, '/ready'),
          (r) => r.startsWith('OK\ndegraded: etcd: '),
          `n${i} /ready says degraded`,
        );
        assert.match(ready, /serving the last known registry\n200$/);
        assert.equal(await metric(i, 'podswarm_etcd_up'), 0);
      }
      // past every lease's TTL, and nothing is forgotten
      for (const wait of leasesLost) await wait();
      await converged('etcd down: the last known registry');
      register(1, 'during', '203.0.113.103');
      register(2, 'svc2', undefined);
      await waitAnswers(1, 'during', ['203.0.113.103'], 'n1’s own registration while etcd is down');
      await waitAnswers(3, 'during', [], 'n3 cannot know yet');
      await etcd!.start();
      await converged('etcd back');
      for (const i of NODES) await waitAnswers(i, 'svc2', [], 'n2 dropped svc2 while etcd was down');
      for (const i of NODES) {
        await eventually(
          () => http(i, '/ready'),
          (r) => r === 'OK\n200',
          `n${i} /ready OK again`,
        );
        assert.equal(await metric(i, 'podswarm_etcd_up'), 1);
        assert.equal(await metric(i, 'podswarm_etcd_pending_writes'), 0);
      }
    });
  });
}
