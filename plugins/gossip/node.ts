// One running gossip node: the memberlist, the registry replication over it,
// the first join and reconnects. Ready once joined (or with no seeds).

import type { App } from '../../src/app.js';
import { joinHostPort } from '../../src/util/hostport.js';
import type { Logger } from '../../src/log.js';
import { Memberlist } from '../../src/gossip/memberlist.js';
import { GOSSIP_SOURCE_PREFIX, RegistryReplicator } from '../../src/gossip/replication.js';
import { type GossipSettings, memberlistConfig } from './config.js';
import { logMembers } from './member-log.js';
import { Reconnector, joinWithRetry } from './rejoin.js';

const LEAVE_TIMEOUT_MS = 3000;

export class GossipNode {
  readonly ml: Memberlist;
  private readonly replicator: RegistryReplicator;
  private readonly reconnector: Reconnector;
  private readonly log: Logger;
  private joining: { cancel(): void } | undefined;
  private readonly stopMemberLog: () => void;
  private joined: boolean;
  private stopped = false;

  constructor(
    private readonly app: App,
    private readonly settings: GossipSettings,
  ) {
    this.log = app.pluginLog('gossip');
    this.ml = new Memberlist(memberlistConfig(settings, app.options.nodeName, this.log));
    this.replicator = new RegistryReplicator(this.ml, app.registry);
    this.reconnector = new Reconnector(this.ml, settings.reconnectIntervalMs, settings.reconnectTimeoutMs, this.log);
    this.joined = settings.join.length === 0;
    this.stopMemberLog = logMembers(this.ml, this.log);
  }

  get ready(): boolean {
    return this.joined;
  }

  async start(): Promise<void> {
    this.replicator.start();
    await this.ml.start();
    const me = this.ml.localNode();
    const encrypted = this.ml.config.keyring ? ', encrypted' : '';
    this.log.info(`node ${me.name} gossiping on ${joinHostPort(this.ml.config.bindAddr, this.ml.port)}, advertising ${joinHostPort(me.addr, me.port)}${encrypted}`);
    this.reconnector.start();
    if (this.joined) return;
    const seeds = this.settings.join;
    this.joining = joinWithRetry(this.ml, seeds, this.log, (answered) => {
      this.joined = true;
      this.log.info(`joined the cluster (${answered} of ${seeds.length} seeds answered)`);
    });
  }

  /** Leaves gracefully when `leave` (peers drop our endpoints at once), then closes; what peers contributed leaves the registry. */
  async stop(leave: boolean): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.joining?.cancel();
    this.reconnector.stop();
    if (leave) {
      await this.ml.leave(LEAVE_TIMEOUT_MS).catch((err: Error) => this.log.warn(`leave: ${err.message}`));
    }
    this.replicator.stop();
    await this.ml.shutdown();
    this.stopMemberLog();
    const registry = this.app.registry;
    for (const source of registry.sourceIds()) if (source.startsWith(GOSSIP_SOURCE_PREFIX)) registry.removeSource(source);
  }
}
