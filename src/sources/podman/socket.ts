// Where Podman's API listens, and the Corefile `socket PATH` subdirective
// that moves it. Shared by the plugins that talk to Podman (podman,
// containers, kube), so none of them imports another.

import { argCount } from '../../corefile/args.js';
import { CorefileError, type Directive } from '../../corefile/types.js';

/** Where the root `podman.socket` unit (and `podman system service`) listens. */
export const DEFAULT_SOCKET = '/run/podman/podman.sock';

/** `socket PATH` (also `unix://PATH`); `plugin` names the directive in the error. */
export function parseSocket(sub: Directive, plugin: string): string {
  const tok = argCount(sub, 1)[0]!;
  const path = tok.text.replace(/^unix:\/\//, '');
  if (!path.startsWith('/')) throw CorefileError.at(tok, `${plugin}: socket '${tok.text}' must be an absolute path`);
  return path;
}
