// A registry source key (source-id.ts) is held by the instances that feed
// it (a registry file, a Podman socket, kube YAML), through the one helper
// for what survives a reload (src/chain/kept-across-reload.ts). A reload
// starts the new config's instance before it stops the old one's, so for a
// moment both hold the key: the newest one writes, and the entries leave
// the registry only when the last one lets go. A reload that keeps the
// source never drops them, and one that is refused leaves them to the
// instance that keeps serving.

import type { App } from '../app.js';
import { KeptAcrossReload, type Share } from '../chain/kept-across-reload.js';

const keys = new KeptAcrossReload<string>({ name: 'registry source', dispose: (key, app) => app.registry.removeSource(key) });

/** Holds `key` for one source instance: write while `newest`, release when it stops. */
export function claimSource(app: App, key: string): Promise<Share<string>> {
  return keys.use(app, key, () => key);
}
