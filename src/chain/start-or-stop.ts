// A long-lived node a plugin creates in onStartup (the gossip node, the etcd
// backend) may fail half-way through its start, holding a socket or a
// watch. Startup then fails with the plugin's name on the error, and the
// half-started node is stopped quietly first (no leave, no revoke: it never
// joined), so a reload that fails this way leaves nothing bound behind it.

/** What start-or-stop needs of a node: a start that may throw, and a stop that says whether to tell the cluster. */
export interface Startable {
  start(): Promise<void>;
  stop(tellCluster: boolean): Promise<void>;
}

/** `node` started; or, when its start throws, stopped and the error rethrown as `PLUGIN: reason`. */
export async function startOrStop<T extends Startable>(plugin: string, node: T): Promise<T> {
  try {
    await node.start();
  } catch (err) {
    await node.stop(false);
    throw new Error(`${plugin}: ${(err as Error).message}`);
  }
  return node;
}
