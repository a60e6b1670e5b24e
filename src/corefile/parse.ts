// Corefile grammar (CoreDNS / coredns-caddy parse.go), producing a tree:
//   file      = { block | snippet | import }
//   block     = KEY {KEY} ( "{" directives "}" | directives-to-EOF )
//   snippet   = "(" NAME ")" "{" tokens "}"        stored, spliced in by import
//   directive = NAME {ARG} [ "{" directives "}" ]  "{" on the directive's line
// `import` is expanded by splicing tokens into the stream where it stands, so
// an import works anywhere a line can start, as in CoreDNS.

import { dirname, isAbsolute, join, resolve } from 'node:path';
import { expandEnv, type Env } from './env.js';
import { nodeFiles, type FileAccess } from './files.js';
import { checkDuplicateKeys, parseServerKey } from './keys.js';
import { lex, type LexToken } from './lexer.js';
import { CorefileError, type Directive, type ServerBlock, type Token } from './types.js';
import { where } from './where.js';

export interface ParseOptions extends Partial<FileAccess> {
  /** Source of `{$VAR}` / `{%VAR%}` values; default process.env. */
  env?: Env;
  /** Port assumed for keys without one when checking for duplicate zones; default 53. */
  defaultPort?: number;
}

/** Bounds import expansion so cycles (a imports b imports a) end in an error. */
export const MAX_IMPORTS = 10000;

export function parseCorefile(text: string, file: string, opts: ParseOptions = {}): ServerBlock[] {
  const files: FileAccess = { readFile: opts.readFile ?? nodeFiles.readFile, glob: opts.glob ?? nodeFiles.glob };
  const blocks = new Parser(lex(text, file), opts.env ?? process.env, files).serverBlocks();
  checkDuplicateKeys(blocks, opts.defaultPort ?? 53);
  return blocks;
}

interface Snippet {
  at: Token;
  body: LexToken[];
}

const isBrace = (t: LexToken, brace: '{' | '}'): boolean => !t.quoted && t.text === brace;
const isImport = (t: LexToken): boolean => !t.quoted && t.text === 'import';

class Parser {
  private i = 0;
  private imports = 0;
  private readonly snippets = new Map<string, Snippet>();

  constructor(
    private readonly tokens: LexToken[],
    private readonly env: Env,
    private readonly files: FileAccess,
  ) {}

  /** The token at `k`, which the caller knows is there (it checked the length). */
  private tok(k: number): LexToken {
    const t = this.tokens[k];
    if (!t) throw new Error(`Corefile parser: no token ${k} of ${this.tokens.length}`);
    return t;
  }

  serverBlocks(): ServerBlock[] {
    const blocks: ServerBlock[] = [];
    while (this.i < this.tokens.length) {
      const t = this.tok(this.i);
      if (isImport(t) && t.lineStart) {
        this.expandImport();
        continue;
      }
      if (isBrace(t, '{')) throw CorefileError.at(t, "expected a server block key before '{'");
      const keys = this.keys();
      const snippet = keys.find((k) => /^\(.*\)$/.test(k.text));
      if (snippet && keys.length > 1) throw CorefileError.at(snippet, `snippet ${snippet.text} must be the only key of its block`);
      if (snippet) {
        this.defineSnippet(snippet);
        continue;
      }
      const parsed = keys.map(parseServerKey);
      const open = this.tokens[this.i];
      // CoreDNS accepts the server block's "{" on the next line; without one the block runs to end of file.
      if (open && isBrace(open, '{')) {
        this.i++;
        blocks.push({ keys: parsed, directives: this.directives(open) });
      } else {
        blocks.push({ keys: parsed, directives: this.directives(null) });
      }
    }
    return blocks;
  }

  /** Keys run to the end of the line or to "{"; a trailing comma carries them onto the next line. */
  private keys(): Token[] {
    const keys: Token[] = [];
    let carry = false;
    let last = this.tok(this.i);
    while (this.i < this.tokens.length) {
      const t = this.tok(this.i);
      if (isBrace(t, '{')) {
        if (carry) throw CorefileError.at(t, "expected another key after ',' but found '{'");
        break;
      }
      if (t !== last && t.lineStart && !carry) break;
      if (isBrace(t, '}')) throw CorefileError.at(t, "unexpected '}'");
      let text = expandEnv(t.text, this.env);
      carry = text.endsWith(',');
      if (carry) text = text.slice(0, -1);
      if (text !== '') keys.push({ text, file: t.file, line: t.line });
      last = t;
      this.i++;
    }
    if (carry) throw CorefileError.at(last, "expected another key after ',' but the file ended");
    if (keys.length === 0) throw CorefileError.at(last, 'empty server block key');
    return keys;
  }

  private defineSnippet(key: Token): void {
    const name = key.text.slice(1, -1);
    const first = this.snippets.get(name);
    if (first) throw CorefileError.at(key, `snippet (${name}) is defined more than once (first at ${where(first.at, key)})`);
    const open = this.tokens[this.i];
    if (!open || !isBrace(open, '{')) throw CorefileError.at(key, `snippet (${name}) must be followed by '{'`);

    // Stored raw: env and imports inside are expanded where the snippet is imported.
    const start = ++this.i;
    for (let depth = 1; depth > 0; this.i++) {
      const t = this.tokens[this.i];
      if (!t) throw CorefileError.at(open, 'unclosed block opened here');
      if (isBrace(t, '{')) depth++;
      if (isBrace(t, '}')) depth--;
    }
    this.snippets.set(name, { at: key, body: this.tokens.slice(start, this.i - 1) });
  }

  /** Directives up to the "}" matching `open`, or to end of input when `open` is null. */
  private directives(open: LexToken | null): Directive[] {
    const out: Directive[] = [];
    for (;;) {
      const t = this.tokens[this.i];
      if (!t) {
        if (open) throw CorefileError.at(open, 'unclosed block opened here');
        return out;
      }
      if (isBrace(t, '}')) {
        if (!open) throw CorefileError.at(t, "unexpected '}'");
        this.i++;
        return out;
      }
      if (isBrace(t, '{')) throw CorefileError.at(t, "unexpected '{'");
      if (isImport(t)) this.expandImport();
      else out.push(this.directive());
    }
  }

  private directive(): Directive {
    const name = this.tok(this.i++);
    const args: Token[] = [];
    let block: Directive[] | null = null;
    while (this.i < this.tokens.length) {
      const t = this.tok(this.i);
      if (t.lineStart) {
        if (isBrace(t, '{')) throw CorefileError.at(t, 'block must open on the same line as its directive');
        break;
      }
      if (isBrace(t, '}')) break;
      this.i++;
      if (isBrace(t, '{')) {
        block = this.directives(t);
        break;
      }
      args.push(this.token(t));
    }
    return { name: this.token(name), args, block };
  }

  /** Replaces `import PATTERN` (the rest of its line) with the snippet's or files' tokens. */
  private expandImport(): void {
    const at = this.tok(this.i);
    let end = this.i + 1;
    while (end < this.tokens.length && !this.tok(end).lineStart) end++;
    if (end - this.i !== 2) {
      throw CorefileError.at(at, `import: expected exactly one argument (a snippet name or file pattern), got ${end - this.i - 1}`);
    }
    const pattern = expandEnv(this.tok(this.i + 1).text, this.env);
    if (pattern === '') throw CorefileError.at(at, 'import: empty snippet name or file pattern');
    if (++this.imports > MAX_IMPORTS) throw CorefileError.at(at, `import: more than ${MAX_IMPORTS} imports, probably an import cycle`);

    // Whatever is spliced starts a line of its own, even a one-line snippet body.
    const body = this.importedTokens(at, pattern).map((t, k) => (k === 0 ? { ...t, lineStart: true } : t));
    this.tokens.splice(this.i, 2, ...body);
  }

  private importedTokens(at: LexToken, pattern: string): LexToken[] {
    const snippet = this.snippets.get(pattern);
    if (snippet) return snippet.body;
    if (pattern.split('*').length > 2) throw CorefileError.at(at, `import: pattern may contain at most one '*': ${pattern}`);
    const baseDir = dirname(at.file);
    // A glob with no match imports nothing; a plain path must exist.
    const paths = pattern.includes('*') ? this.files.glob(pattern, baseDir) : [isAbsolute(pattern) ? pattern : join(baseDir, pattern)];
    return paths.flatMap((path) => this.readImport(at, pattern, path));
  }

  private readImport(at: LexToken, pattern: string, path: string): LexToken[] {
    if (resolve(path) === resolve(at.file)) throw CorefileError.at(at, `import: ${pattern} imports the importing file itself`);
    let text: string;
    try {
      text = this.files.readFile(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw CorefileError.at(at, `import: file not found: ${pattern}`);
      if (code === 'EISDIR') throw CorefileError.at(at, `import: ${pattern} is a directory`);
      throw CorefileError.at(at, `import: cannot read ${path}: ${(err as Error).message}`);
    }
    return lex(text, path);
  }

  /** The public token, env references expanded. */
  private token(t: LexToken): Token {
    return { text: expandEnv(t.text, this.env), file: t.file, line: t.line };
  }
}
