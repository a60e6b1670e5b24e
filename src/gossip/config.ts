// Node configuration; defaults are memberlist's DefaultLANConfig.
import type { GossipDelegate } from './delegate.js';
import type { Keyring } from './security.js';

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface GossipConfig {
  /** Unique node name in the cluster. */
  name: string;
  bindAddr: string;
  /** 0 picks a free port (the same one for UDP and TCP). */
  bindPort: number;
  /** Address and port other nodes use to reach us; default the bind ones. */
  advertiseAddr?: string;
  advertisePort?: number;
  /** Cluster label sent in front of every packet and stream ('' = none). */
  label: string;
  keyring: Keyring | null;
  /** Serf's keyring file: rewritten when a `serf keys` query changes the keyring. */
  keyringFile?: string;
  gossipVerifyIncoming: boolean;
  gossipVerifyOutgoing: boolean;
  enableCompression: boolean;
  /** memberlist protocol version we speak (pmin 1, pmax 5). */
  protocolVersion: number;
  /** Delegate protocol range advertised in Vsn; serf speaks [2, 5] at 5 (Vsn[3..5]). */
  delegateProtocolMin: number;
  delegateProtocolMax: number;
  delegateProtocolVersion: number;

  probeIntervalMs: number;
  probeTimeoutMs: number;
  indirectChecks: number;
  disableTcpPings: boolean;
  suspicionMult: number;
  suspicionMaxTimeoutMult: number;
  awarenessMaxMultiplier: number;
  gossipIntervalMs: number;
  gossipNodes: number;
  gossipToTheDeadTimeMs: number;
  retransmitMult: number;
  pushPullIntervalMs: number;
  tcpTimeoutMs: number;
  udpBufferSize: number;

  /** Serf tags carried in the node meta, shown by `serf members`. */
  tags: Record<string, string>;
  logger: Logger;
  /** The application's hooks (memberlist's Config.Delegate); none: a member that only gossips. */
  delegate?: GossipDelegate;
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** memberlist's BindPort: also the port of a join address that names none. */
export const DEFAULT_PORT = 7946;

/** memberlist DefaultLANConfig (config.go). */
export function defaultLANConfig(name: string): GossipConfig {
  return {
    name,
    bindAddr: '0.0.0.0',
    bindPort: DEFAULT_PORT,
    label: '',
    keyring: null,
    gossipVerifyIncoming: true,
    gossipVerifyOutgoing: true,
    enableCompression: true,
    protocolVersion: 2,
    delegateProtocolMin: 2,
    delegateProtocolMax: 5,
    delegateProtocolVersion: 5,
    probeIntervalMs: 1000,
    probeTimeoutMs: 500,
    indirectChecks: 3,
    disableTcpPings: false,
    suspicionMult: 4,
    suspicionMaxTimeoutMult: 6,
    awarenessMaxMultiplier: 8,
    gossipIntervalMs: 200,
    gossipNodes: 3,
    gossipToTheDeadTimeMs: 30_000,
    retransmitMult: 4,
    pushPullIntervalMs: 30_000,
    tcpTimeoutMs: 10_000,
    udpBufferSize: 1400,
    tags: {},
    logger: silent,
  };
}

/** memberlist DefaultWANConfig. */
export function defaultWANConfig(name: string): GossipConfig {
  return {
    ...defaultLANConfig(name),
    tcpTimeoutMs: 30_000,
    suspicionMult: 6,
    pushPullIntervalMs: 60_000,
    probeTimeoutMs: 3000,
    probeIntervalMs: 5000,
    gossipNodes: 4,
    gossipIntervalMs: 500,
    gossipToTheDeadTimeMs: 60_000,
  };
}

/** memberlist DefaultLocalConfig: loopback and tests. */
export function defaultLocalConfig(name: string): GossipConfig {
  return {
    ...defaultLANConfig(name),
    tcpTimeoutMs: 1000,
    indirectChecks: 1,
    retransmitMult: 2,
    suspicionMult: 3,
    pushPullIntervalMs: 15_000,
    probeTimeoutMs: 200,
    probeIntervalMs: 1000,
    gossipIntervalMs: 100,
    gossipToTheDeadTimeMs: 15_000,
  };
}
