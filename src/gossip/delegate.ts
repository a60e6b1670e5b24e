// The two layers above memberlist's protocol, as memberlist sees them. The
// application's hooks (GossipDelegate) are handed over once, in
// GossipConfig.delegate, when the Memberlist is made (memberlist's
// Config.Delegate), and never swapped afterwards. Between the two sits serf
// (MemberlistDelegate, implemented in serf-delegate.ts): memberlist calls it,
// and it calls the application.

/** Application hooks; all optional. */
export interface GossipDelegate {
  /** A user message from another node (broadcast or direct). `from` is the sender's address. */
  onUserMessage?(msg: Buffer, from: string): void;
  /** Our application state for a push/pull (`join`: the one a join makes); null: none. */
  localState?(join: boolean): Buffer | null;
  /** The application state a remote node sent in a push/pull. `from` is its address. */
  mergeRemoteState?(state: Buffer, join: boolean, from: string): void;
}

/**
 * What memberlist itself calls (memberlist delegate.go's Delegate, with the
 * tags' encoding, and the two steps serf adds to a join and a leave): the
 * layer above memberlist, which is serf (serf-delegate.ts). It hands the
 * application's part on to the GossipDelegate.
 */
export interface MemberlistDelegate {
  /** NodeMeta: the node meta that carries our tags. */
  nodeMeta(tags: Record<string, string>): Buffer;
  /** A member's tags, from the node meta it announced. */
  tagsOf(meta: Buffer | null): Record<string, string>;
  /** An application message framed so that notifyMsg tells it from the layer's own. */
  appMessage(msg: Buffer): Buffer;
  /** NotifyMsg: a user message from another node (never empty); `from` is its address. */
  notifyMsg(msg: Buffer, from: string): void;
  /** LocalState: the user state of our side of a push/pull. */
  localState(join: boolean): Buffer;
  /** MergeRemoteState: the other side's user state; throws when it cannot be read. */
  mergeRemoteState(state: Buffer, join: boolean, from: string): void;
  /** We became a member, or joined more of the cluster: serf's join intent. */
  joined(): void;
  /** We are leaving: serf's leave intent; resolves once it has been gossiped its last time. */
  leaving(): Promise<void>;
}
