// Splits Corefile text into tokens the way CoreDNS's lexer does: whitespace
// separates tokens, "..." quotes one (only \" is an escape), an unquoted #
// comments out the rest of the line, \r is ignored, a leading BOM is dropped.

import type { Token } from './types.js';

/** A token plus what the parser needs and the public Token does not carry. */
export interface LexToken extends Token {
  /** Quoted tokens are always plain text, even `"{"` or `"import"`. */
  quoted: boolean;
  /** First token on its line; lines, not (file, line) pairs, delimit directives so spliced imports stay separate. */
  lineStart: boolean;
}

export function lex(text: string, file: string): LexToken[] {
  const tokens: LexToken[] = [];
  let line = 1;
  let newLine = true;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;

  while (i < text.length) {
    const ch = text.charAt(i);
    if (ch === '\n') {
      line++;
      newLine = true;
      i++;
    } else if (ch === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (/\s/u.test(ch)) {
      i++;
    } else {
      const start = { file, line, lineStart: newLine };
      newLine = false;
      let value = '';
      if (ch === '"') {
        i++;
        // An unterminated quote runs to end of input, as in CoreDNS.
        while (i < text.length && text[i] !== '"') {
          if (text[i] === '\\' && text[i + 1] === '"') i++;
          else if (text[i] === '\n') line++;
          if (text[i] !== '\r') value += text[i];
          i++;
        }
        i++;
        tokens.push({ ...start, text: value, quoted: true });
      } else {
        // A '#' inside a bare word still starts a comment, as in CoreDNS.
        while (i < text.length && !/\s/u.test(text.charAt(i)) && text[i] !== '#') {
          value += text[i];
          i++;
        }
        tokens.push({ ...start, text: value, quoted: false });
      }
    }
  }
  return tokens;
}
