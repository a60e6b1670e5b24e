// Text a peer chose (labels, node names, tags, error texts), made safe for a
// log line: a newline or a control character in it must not start a forged
// line or rewrite the terminal. Go memberlist logs such text with %q.

/** Control, format (bidi overrides) and line/paragraph separators, which JSON.stringify leaves as they are. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

/** Double-quoted with escapes, as Go's %q: `"a\nb"`. */
export function quote(s: string): string {
  return JSON.stringify(s).replace(UNSAFE, (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`);
}

/** As it is when it is plain printable ASCII without quotes or backslashes (a usual node name), else quoted. */
export function printable(s: string): string {
  return /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s) ? s : quote(s);
}
