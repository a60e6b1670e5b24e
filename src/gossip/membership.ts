// SWIM state transitions (memberlist state.go): alive, suspect and dead
// messages, refuting accusations against ourselves, and merging the node list
// a push/pull brought.
import { joinHostPort } from '../util/hostport.js';
import { ipFromWire } from './address.js';
import { type GossipCore, STATUS } from './core.js';
import { type Alive, type Dead, NodeStateType, type PushNodeState, type Suspect, encodeAlive, encodeDead, encodeSuspect } from './messages.js';
import { send } from './send.js';
import { type Member, Suspicion, suspicionTimeout } from './state.js';
import { printable, quote } from './quote.js';

function broadcastMsg(core: GossipCore, name: string, msg: Buffer, finished?: () => void): void {
  core.broadcasts.queue({ name, msg, finished });
}

export function aliveNode(core: GossipCore, a: Alive, bootstrap: boolean): void {
  const isLocal = a.node === core.config.name;
  if (core.left && isLocal) return;
  if (a.addr.length !== 4 && a.addr.length !== 16) {
    core.log.warn(`memberlist: ignoring an alive message for ${quote(a.node)}: its address has ${a.addr.length} bytes, not 4 (IPv4) or 16 (IPv6)`);
    return;
  }
  if (a.vsn && a.vsn.length >= 3) {
    const [pmin, pmax] = [a.vsn[0]!, a.vsn[1]!];
    if (pmin === 0 || pmax === 0 || pmin > pmax) {
      core.log.warn(`memberlist: ignoring an alive message for ${quote(a.node)} because protocol version(s) are wrong`);
      return;
    }
  }
  let state = core.byName.get(a.node);
  let updatesNode = false;
  if (!state) {
    state = {
      name: a.node,
      addr: a.addr,
      port: a.port,
      meta: a.meta,
      state: NodeStateType.dead,
      incarnation: 0,
      stateChange: Date.now(),
      vsn: [0, 0, 0, 0, 0, 0],
    };
    if (a.vsn && a.vsn.length > 5) state.vsn = [...a.vsn.subarray(0, 6)] as Member['vsn'];
    core.byName.set(a.node, state);
    // random position so probes of a new node are spread out
    const offset = Math.floor(Math.random() * (core.nodes.length + 1));
    core.nodes.splice(offset, 0, state);
  } else if (!state.addr.equals(a.addr) || state.port !== a.port) {
    if (state.state === NodeStateType.left) {
      core.log.info(`memberlist: updating address for left node ${printable(state.name)} to ${address(a.addr, a.port)}`);
      updatesNode = true;
    } else {
      core.log.error(
        `memberlist: conflicting address for ${printable(state.name)}. Mine: ${address(state.addr, state.port)} Theirs: ${address(a.addr, a.port)} Old state: ${STATUS[state.state]}`,
      );
      return;
    }
  }
  if (a.incarnation <= state.incarnation && !isLocal && !updatesNode) return;
  if (a.incarnation < state.incarnation && isLocal) return;

  core.suspicions.get(a.node)?.cancel();
  core.suspicions.delete(a.node);
  const oldState = state.state;
  const oldMeta = state.meta;

  if (!bootstrap && isLocal) {
    if (a.incarnation === state.incarnation && bufEq(a.meta, state.meta) && bufEq(a.vsn, Buffer.from(state.vsn))) return;
    refute(core, state, a.incarnation);
    core.log.warn(`memberlist: refuting an alive message for ${quote(a.node)}`);
    return;
  }
  broadcastMsg(core, a.node, encodeAlive(a));
  if (a.vsn && a.vsn.length >= 6) state.vsn = [...a.vsn.subarray(0, 6)] as Member['vsn'];
  state.incarnation = a.incarnation;
  state.meta = a.meta;
  state.addr = a.addr;
  state.port = a.port;
  if (state.state !== NodeStateType.alive) {
    state.state = NodeStateType.alive;
    state.stateChange = Date.now();
  }
  if (oldState === NodeStateType.dead || oldState === NodeStateType.left) {
    warnIfUnreachable(core, state);
    core.events.emit('join', core.info(state));
  } else {
    if (oldState === NodeStateType.suspect) core.events.emit('alive', core.info(state));
    if (!bufEq(oldMeta, state.meta)) core.events.emit('update', core.info(state));
  }
}

/** A member of the other address family stays in the list, but this node cannot talk to it: say so once per join. */
function warnIfUnreachable(core: GossipCore, m: Member): void {
  const why = core.transport.unreachable(ipFromWire(m.addr));
  if (why) core.log.warn(`memberlist: ${printable(m.name)} at ${address(m.addr, m.port)} is out of reach: ${why}; this node does not probe or gossip to it`);
}

function address(addr: Buffer, port: number): string {
  return joinHostPort(ipFromWire(addr), port);
}

function refute(core: GossipCore, me: Member, accusedInc: number): void {
  let inc = ++core.incarnation;
  if (accusedInc >= inc) inc = core.incarnation = accusedInc + 1;
  me.incarnation = inc;
  core.awareness.applyDelta(1);
  broadcastMsg(core, me.name, encodeAlive({ incarnation: inc, node: me.name, addr: me.addr, port: me.port, meta: me.meta, vsn: Buffer.from(me.vsn) }));
  core.events.emit('alive', core.info(me));
}

export function suspectNode(core: GossipCore, s: Suspect): void {
  const state = core.byName.get(s.node);
  if (!state || s.incarnation < state.incarnation) return;
  const timer = core.suspicions.get(s.node);
  if (timer) {
    if (timer.confirm(s.from)) broadcastMsg(core, s.node, encodeSuspect(s));
    return;
  }
  if (state.state === NodeStateType.dead || state.state === NodeStateType.left) {
    tellSuspecterItIsGone(core, state, s.from);
    return;
  }
  if (state.state !== NodeStateType.alive) return;
  if (state.name === core.config.name) {
    refute(core, state, s.incarnation);
    core.log.warn(`memberlist: refuting a suspect message (from: ${printable(s.from)})`);
    return;
  }
  broadcastMsg(core, s.node, encodeSuspect(s));
  state.incarnation = s.incarnation;
  state.state = NodeStateType.suspect;
  const changeTime = Date.now();
  state.stateChange = changeTime;

  const n = core.nodes.length;
  let k = core.config.suspicionMult - 2;
  if (n - 2 < k) k = 0;
  const min = suspicionTimeout(core.config.suspicionMult, n, core.config.probeIntervalMs);
  const max = core.config.suspicionMaxTimeoutMult * min;
  core.suspicions.set(
    s.node,
    new Suspicion(s.from, k, min, max, (confirmations) => {
      if (!core.running) return;
      const cur = core.byName.get(s.node);
      if (!cur || cur.state !== NodeStateType.suspect || cur.stateChange !== changeTime) return;
      core.log.info(`memberlist: marking ${printable(cur.name)} as failed, suspect timeout reached (${confirmations} peer confirmations)`);
      deadNode(core, { incarnation: cur.incarnation, node: cur.name, from: core.config.name });
    }),
  );
}

/**
 * A suspicion about a member we hold as left or dead means the suspecter
 * missed the dead message (gossip picks random targets; with a low
 * retransmit multiplier some member may never be picked). It would wait out
 * a suspicion nobody confirms, SuspicionMaxTimeoutMult times the minimum,
 * and a serf agent shows a member that left cleanly as `leaving` all that
 * time. memberlist ignores such a suspicion; we send the suspecter the dead
 * message, one packet per suspicion heard, to its listed address only.
 */
function tellSuspecterItIsGone(core: GossipCore, gone: Member, suspecter: string): void {
  const to = core.byName.get(suspecter);
  if (!to || to.name === core.config.name || to.state !== NodeStateType.alive) return;
  const from = gone.state === NodeStateType.left ? gone.name : core.config.name;
  core.log.debug(`memberlist: ${printable(suspecter)} suspects ${printable(gone.name)}, which is ${STATUS[gone.state]}: telling it`);
  send(core, ipFromWire(to.addr), to.port, encodeDead({ incarnation: gone.incarnation, node: gone.name, from }), 'dead message');
}

export function deadNode(core: GossipCore, d: Dead, finished?: () => void): void {
  const state = core.byName.get(d.node);
  if (!state || d.incarnation < state.incarnation) {
    finished?.();
    return;
  }
  core.suspicions.get(d.node)?.cancel();
  core.suspicions.delete(d.node);
  if (state.state === NodeStateType.dead || state.state === NodeStateType.left) {
    finished?.();
    return;
  }
  if (state.name === core.config.name && !core.left) {
    refute(core, state, d.incarnation);
    core.log.warn(`memberlist: refuting a dead message (from: ${printable(d.from)})`);
    return;
  }
  broadcastMsg(core, d.node, encodeDead(d), finished);
  state.incarnation = d.incarnation;
  state.state = d.node === d.from ? NodeStateType.left : NodeStateType.dead;
  state.stateChange = Date.now();
  core.events.emit(state.state === NodeStateType.left ? 'leave' : 'dead', core.info(state));
}

export function mergeState(core: GossipCore, remote: PushNodeState[]): void {
  for (const r of remote) {
    switch (r.state) {
      case NodeStateType.alive:
        aliveNode(core, { incarnation: r.incarnation, node: r.name, addr: r.addr, port: r.port, meta: r.meta, vsn: r.vsn }, false);
        break;
      case NodeStateType.left:
        deadNode(core, { incarnation: r.incarnation, node: r.name, from: r.name });
        break;
      case NodeStateType.dead:
      case NodeStateType.suspect:
        suspectNode(core, { incarnation: r.incarnation, node: r.name, from: core.config.name });
        break;
    }
  }
}

function bufEq(a: Buffer | null, b: Buffer | null): boolean {
  return (a ?? Buffer.alloc(0)).equals(b ?? Buffer.alloc(0));
}
