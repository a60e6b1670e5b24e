// app.lameduckMs is the longest lameduck among the health directives of the
// configs serving now. A reload starts the new config before it stops the
// old one, so each config claims its value and gives it back when it stops.

import type { App } from '../../src/app.js';

const claimsByApp = new WeakMap<App, Set<{ ms: number }>>();

/** Adds `ms` to the claims; the returned function removes it again. */
export function claimLameduck(app: App, ms: number): () => void {
  let claims = claimsByApp.get(app);
  if (!claims) {
    claims = new Set();
    claimsByApp.set(app, claims);
  }
  const set = claims;
  const claim = { ms };
  set.add(claim);
  update(app, set);
  return () => {
    set.delete(claim);
    update(app, set);
  };
}

function update(app: App, claims: Set<{ ms: number }>): void {
  let ms = 0;
  for (const c of claims) ms = Math.max(ms, c.ms);
  app.lameduckMs = ms;
}
