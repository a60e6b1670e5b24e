// Bearer-token check for the registration routes. Without a configured token
// registration is off (403), so an API left on its defaults cannot be written to.

import { createHash, timingSafeEqual } from 'node:crypto';

export type AuthResult = { ok: true } | { ok: false; status: 401 | 403; error: string };

export function checkBearer(configured: string | undefined, header: string | undefined): AuthResult {
  if (configured === undefined) {
    return { ok: false, status: 403, error: 'endpoint registration is disabled: configure a token with `token_file FILE` in the api plugin' };
  }
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m) return { ok: false, status: 401, error: 'missing bearer token: send "Authorization: Bearer <token>"' };
  // Compare digests so the comparison takes the same time whatever the length.
  if (!timingSafeEqual(digest(m[1]!), digest(configured))) return { ok: false, status: 401, error: 'invalid bearer token' };
  return { ok: true };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
