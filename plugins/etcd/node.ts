// One running etcd backend: the client, the publisher of this node's own
// entries (under its lease) and the mirror of everyone else's (a watch).
// Ready once the mirror has read etcd once; startup waits for that
// (bounded), so a restarted node answers for the other nodes' services from
// its first query, as the gossip node waits for its first join. The client
// library (gRPC) is loaded only here, so nodes without etcd never load it.

import type { Etcd3 } from 'etcd3';
import type { App } from '../../src/app.js';
import { EtcdMirror } from '../../src/etcd/mirror.js';
import { EtcdPublisher } from '../../src/etcd/publisher.js';
import { skydnsPrefix, type Layout } from '../../src/etcd/layout.js';
import type { Rejection } from '../../src/replication/validate.js';
import type { Logger } from '../../src/log.js';
import { LocalChanges } from '../../src/registry/local-changes.js';
import type { EtcdSettings } from './config.js';

/** Longest the startup waits for the first read of etcd (as gossip's first join). */
const FIRST_SYNC_WAIT_MS = 5000;
/**
 * The client's defaults wait up to 30 s between watch reconnects and shut a
 * failed member out for 5 s: a node would catch up long after etcd is back.
 * We reconnect within 2 s and try a failed member again after 1 s (a few
 * cheap failed connects while etcd is down).
 */
const WATCH_BACKOFF = { initialDelay: 100, maxDelay: 2000 };
const MEMBER_RETRY_MS = 1000;
/**
 * gRPC pings on the connection: without them a member cut off without a
 * reset (a partition, a host gone) holds the watch open and silent for as
 * long as TCP retries. etcd refuses pings more often than every 5 s
 * (`--grpc-keepalive-min-time`).
 */
const GRPC_KEEPALIVE = { 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 5000 };
/**
 * The first read of a tree is one response: gRPC's default 4 MiB limit
 * refused it from about 7,000 endpoints on (10,000 were 6.3 MB). Reads in
 * pages would lift the limit altogether.
 */
const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

export class EtcdNode {
  private client: Etcd3 | undefined;
  private publisher: EtcdPublisher | undefined;
  private mirror: EtcdMirror | undefined;
  private changes: LocalChanges | undefined;
  private readonly log: Logger;

  constructor(
    private readonly app: App,
    private readonly settings: EtcdSettings,
    private readonly onReject: (rejected: Rejection[]) => void,
  ) {
    this.log = app.pluginLog('etcd');
  }

  /** The other nodes' entries have been read once. */
  get ready(): boolean {
    return this.mirror?.isSynced ?? false;
  }

  /** Entries of other nodes served from etcd; writes of ours not yet in etcd. */
  get counts(): { remote: number; pending: number } {
    return { remote: this.mirror?.size ?? 0, pending: this.publisher?.pendingWrites ?? 0 };
  }

  /** Why the view may be stale or our entries unpublished; undefined while etcd answers. */
  degraded(): string | undefined {
    const why = this.mirror?.failure ?? this.publisher?.failure;
    return why === undefined ? undefined : `${why}; serving the last known registry`;
  }

  async start(): Promise<void> {
    const [{ Etcd3, isRecoverableError }, { circuitBreaker, handleWhen, ConsecutiveBreaker, ExponentialBackoff }] = await Promise.all([
      import('etcd3'),
      import('cockatiel'),
    ]);
    const s = this.settings;
    const node = this.app.options.nodeName;
    const layout: Layout = { endpointsPrefix: skydnsPrefix(s.path, s.zone), servicesPrefix: `${s.servicesPath}/`, ttl: s.ttl };
    this.client = new Etcd3({
      hosts: s.endpoints,
      dialTimeout: s.dialTimeoutMs,
      grpcOptions: { ...GRPC_KEEPALIVE, 'grpc.max_receive_message_length': MAX_RESPONSE_BYTES },
      faultHandling: {
        host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: MEMBER_RETRY_MS, breaker: new ConsecutiveBreaker(3) }),
        watchBackoff: new ExponentialBackoff(WATCH_BACKOFF).next(),
      },
    });
    const publisher = new EtcdPublisher(this.client, { node, layout, leaseTtlSeconds: s.leaseTtlSeconds, log: this.log });
    const mirror = new EtcdMirror(this.client, this.app.registry, { node, layout, log: this.log, onReject: this.onReject });
    this.publisher = publisher;
    this.mirror = mirror;
    this.changes = new LocalChanges(this.app.registry, (changes) => publisher.apply(changes));
    publisher.start(this.changes.start());
    mirror.start();
    this.log.info(
      `node ${node} publishing to etcd ${s.endpoints.join(' ')} under ${layout.endpointsPrefix} and ${layout.servicesPrefix} (lease ${s.leaseTtlSeconds}s)`,
    );
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([mirror.synced.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), FIRST_SYNC_WAIT_MS)))]);
    clearTimeout(timer);
    if (!waited)
      this.log.warn(
        `etcd: no answer within ${FIRST_SYNC_WAIT_MS / 1000}s (${mirror.failure ?? 'unknown'}); serving this node's own registry, and the rest once etcd answers`,
      );
  }

  /** `revoke`: take our keys out of etcd at once, else they expire with the lease (no gap for a restart). */
  async stop(revoke: boolean): Promise<void> {
    this.changes?.stop();
    await this.publisher?.stop(revoke);
    await this.mirror?.stop();
    this.client?.close();
  }
}
