// Keeps a registry-backed handler's answer memo honest: cleared on every
// registry change while its configuration serves. Shared by the plugins
// that answer from the registry (cluster, srv).

import type { Handler, SetupContext } from '../chain/plugin.js';
import type { AnswerMemo } from '../dns/answer-memo.js';

export function clearMemoOnRegistryChange<H extends Handler & { memo: AnswerMemo }>(c: SetupContext, handler: H): H {
  const clear = (): void => handler.memo.clear();
  c.onStartup(() => void c.app.registry.on('change', clear));
  c.onShutdown(() => void c.app.registry.off('change', clear));
  return handler;
}
