// What the application above gossip gives memberlist (memberlist delegate.go's
// Delegate): handed over once, in GossipConfig.delegate, when the Memberlist
// is made, as memberlist's Config.Delegate, and never swapped afterwards.

/** Application hooks; all optional. */
export interface GossipDelegate {
  /** A user message from another node (broadcast or direct). `from` is the sender's address. */
  onUserMessage?(msg: Buffer, from: string): void;
  /** Our application state for a push/pull (`join`: the one a join makes); null: none. */
  localState?(join: boolean): Buffer | null;
  /** The application state a remote node sent in a push/pull. `from` is its address. */
  mergeRemoteState?(state: Buffer, join: boolean, from: string): void;
}
