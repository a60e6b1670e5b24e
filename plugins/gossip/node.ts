// One running gossip node: the memberlist, the registry replication over it,
// the first join and reconnects. Ready once joined (or with no seeds).
// Startup waits (bounded) for the first join, so a restarted node answers
// for the other nodes' services from its first query, as CoreDNS's
// kubernetes plugin waits for its first sync.

import type { App } from '../../src/app.js';
import { joinHostPort } from '../../src/util/hostport.js';
import type { Logger } from '../../src/log.js';
import type { Memberlist } from '../../src/gossip/memberlist.js';
import { RegistryReplicator } from '../../src/replication/replicator.js';
import { sourceKind } from '../../src/sources/source-id.js';
import { type GossipSettings, keyringFileKeys, memberlistConfig } from './config.js';
import { logMembers } from './member-log.js';
import { rejectedEntriesCounter } from './metrics.js';
import { reportRejections } from './reject-log.js';
import { Reconnector, joinWithRetry } from './rejoin.js';

const LEAVE_TIMEOUT_MS = 3000;
/** Longest the startup waits for the first join attempt (CoreDNS kubernetes: 5 s). */
const FIRST_JOIN_WAIT_MS = 5000;
/** How often the readiness of the registry's sources is checked until @synced goes out. */
const SYNC_POLL_MS = 100;
/** Readiness reporters that say nothing about what this node registers. */
const NOT_SOURCES = new Set(['gossip', 'forward', 'lameduck']);

export class GossipNode {
  readonly ml: Memberlist;
  private readonly replicator: RegistryReplicator;
  private readonly reconnector: Reconnector;
  private readonly log: Logger;
  private joining: { cancel(): void } | undefined;
  private readonly stopMemberLog: () => void;
  private joined: boolean;
  private stopped = false;
  private syncTimer: NodeJS.Timeout | undefined;

  /** The configured join list, then the members the node this one follows knew (see the constructor). */
  private readonly seeds: readonly string[];

  /**
   * `knownPeers`: the members the previous gossip node of this process knew
   * alive when it stopped (a reload with other settings, or one refused).
   * They are joined too, as serf rejoins what its snapshot lists: a seed
   * node with no join list would otherwise come back alone, its peers
   * having seen it leave.
   */
  constructor(
    private readonly app: App,
    private readonly settings: GossipSettings,
    knownPeers: readonly string[] = [],
  ) {
    this.log = app.pluginLog('gossip');
    this.replicator = new RegistryReplicator(app.registry, memberlistConfig(settings, app.options.nodeName, this.log), {
      keepDepartedMs: settings.keepDepartedMs,
      keepDeadMs: settings.keepDeadMs,
      onReject: reportRejections(this.log, rejectedEntriesCounter(app)),
      onSendError: (peer, err) => this.log.debug(`replication to ${peer}: ${err.message}`),
    });
    this.ml = this.replicator.ml;
    this.reconnector = new Reconnector(this.ml, settings.reconnectIntervalMs, settings.reconnectTimeoutMs, this.log);
    this.seeds = [...new Set([...settings.join, ...knownPeers])];
    this.joined = this.seeds.length === 0;
    this.stopMemberLog = logMembers(this.ml, this.log);
  }

  /** What replication has sent to peers so far (metrics). */
  sentTotals(): ReturnType<RegistryReplicator['sentTotals']> {
    return this.replicator.sentTotals();
  }

  get ready(): boolean {
    return this.joined;
  }

  async start(): Promise<void> {
    this.replicator.start();
    await this.ml.start();
    const me = this.ml.localNode();
    const encrypted = this.ml.config.keyring ? ', encrypted' : '';
    this.log.info(
      `node ${me.name} gossiping on ${joinHostPort(this.ml.config.bindAddr, this.ml.port)}, advertising ${joinHostPort(me.addr, me.port)}${encrypted}`,
    );
    this.reconnector.start();
    if (this.joined) return;
    const seeds = this.seeds;
    const joining = joinWithRetry(this.ml, seeds, this.log, async (answered) => {
      await this.replicator.syncWithPeer();
      this.joined = true;
      this.log.info(`joined the cluster (${answered} of ${seeds.length} seeds answered)`);
    });
    this.joining = joining;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([joining.firstAttempt, new Promise<void>((r) => (timer = setTimeout(r, FIRST_JOIN_WAIT_MS)))]);
    clearTimeout(timer);
  }

  /**
   * Once this node's registry sources have loaded (their readiness), tells
   * the cluster it is synced: peers then drop what it registered before this
   * start and no longer does. Call after every plugin has started. Gives up
   * waiting when the peers' own resync time is up anyway.
   */
  announceSyncedWhenReady(): void {
    const deadline = Date.now() + Math.max(this.settings.keepDepartedMs, this.settings.keepDeadMs);
    const check = (): void => {
      if (this.stopped) return;
      const pending = [...this.app.readiness].filter(([name, ready]) => !NOT_SOURCES.has(name) && !ready()).map(([name]) => name);
      if (pending.length === 0 || Date.now() >= deadline) {
        this.replicator.markSynced();
        if (pending.length > 0) this.log.warn(`announcing this node's registry as complete although ${pending.join(', ')} is not ready`);
        return;
      }
      this.syncTimer = setTimeout(check, SYNC_POLL_MS);
    };
    check();
  }

  /**
   * On a reload that keeps this node: the keyring file may have been edited
   * (a rotation by hand), so its keys replace the running ones, live.
   */
  reloadKeyring(): void {
    const file = this.settings.keyringFile;
    const keyring = this.ml.config.keyring;
    if (file === undefined || !keyring) return;
    const keys = keyringFileKeys(file);
    const before = keyring.getKeys().map((k) => k.toString('base64'));
    if (keys.join() === before.join()) return;
    keyring.replaceKeys(keys.map((k) => Buffer.from(k, 'base64')));
    this.log.info(`keyring reloaded from ${file}: ${keys.length} ${keys.length === 1 ? 'key' : 'keys'}`);
  }

  /** The live members other than this node, as join addresses: what the node started after this one joins. */
  peerAddresses(): string[] {
    const me = this.ml.localNode().name;
    return this.ml
      .liveMembers()
      .filter((n) => n.name !== me)
      .map((n) => joinHostPort(n.addr, n.port));
  }

  /** Leaves gracefully when `leave` (peers drop our endpoints at once), then closes; what peers contributed leaves the registry. */
  async stop(leave: boolean): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.syncTimer);
    this.joining?.cancel();
    this.reconnector.stop();
    if (leave) {
      await this.ml.leave(LEAVE_TIMEOUT_MS).catch((err: Error) => this.log.warn(`leave: ${err.message}`));
    }
    this.replicator.stop();
    await this.ml.shutdown();
    this.stopMemberLog();
    const registry = this.app.registry;
    for (const source of registry.sourceIds()) if (sourceKind(source) === 'gossip') registry.removeSource(source);
  }
}
