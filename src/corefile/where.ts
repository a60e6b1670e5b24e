// How an error points back at an earlier token: "line N" within the same
// file, "FILE:N" across files (imports).

import type { Token } from './types.js';

export function where(first: Token, current: Token): string {
  return first.file === current.file ? `line ${first.line}` : `${first.file}:${first.line}`;
}
