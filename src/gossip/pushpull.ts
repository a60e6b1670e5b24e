// Push/pull state exchange (memberlist net.go, state.go): our node list and
// the delegate's user state out, the remote's checked for protocol
// compatibility and merged in.
import { joinHostPort } from '../util/hostport.js';
import type { GossipCore } from './core.js';
import { mergeState } from './membership.js';
import { MessageType, NodeStateType, type PushNodeState, decodePushPull, encodePushPull } from './messages.js';
import { exchange } from './send.js';

export function localState(core: GossipCore, join: boolean): Buffer {
  const nodes: PushNodeState[] = core.nodes.map((n) => ({
    name: n.name,
    addr: n.addr,
    port: n.port,
    meta: n.meta,
    incarnation: n.incarnation,
    state: n.state,
    vsn: Buffer.from(n.vsn),
  }));
  return encodePushPull(join, nodes, core.delegate.localState(join));
}

export async function pushPullNode(core: GossipCore, host: string, port: number, join: boolean): Promise<void> {
  const reply = await exchange(core, host, port, localState(core, join), core.config.tcpTimeoutMs);
  if (reply.type !== MessageType.pushPull) throw new Error(`received invalid msgType (${reply.type}), expected pushPullMsg (6)`);
  const remote = reply.pushPull ?? decodePushPull(reply.body);
  mergeRemoteState(core, join, remote.nodes, remote.userState, joinHostPort(host, port));
}

/** `from`: the remote's address, for the delegate's log lines. */
export function mergeRemoteState(core: GossipCore, join: boolean, nodes: PushNodeState[], userState: Buffer | null, from: string): void {
  verifyProtocol(core, nodes);
  mergeState(core, nodes);
  if (!userState || userState.length === 0) return;
  try {
    core.delegate.mergeRemoteState(userState, join, from);
  } catch (err) {
    core.log.warn(`memberlist: ignoring remote user state: ${(err as Error).message}`);
  }
}

/** Every live node's current protocol must fit every live node's [min, max] range. */
function verifyProtocol(core: GossipCore, remote: PushNodeState[]): void {
  const ranges: number[][] = [];
  for (const r of remote) if (r.state === NodeStateType.alive && r.vsn && r.vsn.length >= 6) ranges.push([...r.vsn]);
  for (const n of core.nodes) if (n.state === NodeStateType.alive) ranges.push(n.vsn);
  const maxPMin = Math.max(0, ...ranges.map((v) => v[0]!));
  const minPMax = Math.min(255, ...ranges.map((v) => v[1]!));
  const maxDMin = Math.max(0, ...ranges.map((v) => v[3]!));
  const minDMax = Math.min(255, ...ranges.map((v) => v[4]!));
  for (const v of ranges) {
    if (v[2]! < maxPMin || v[2]! > minPMax) throw new Error(`protocol version (${v[2]}) is incompatible: [${maxPMin}, ${minPMax}]`);
    if (v[5]! < maxDMin || v[5]! > minDMax) throw new Error(`delegate protocol version (${v[5]}) is incompatible: [${maxDMin}, ${minDMax}]`);
  }
}
