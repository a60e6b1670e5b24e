// Public surface of the Corefile package.

export { CorefileError, type Directive, type ServerBlock, type ServerKey, type Token } from './types.js';
export { parseCorefile, MAX_IMPORTS, type ParseOptions } from './parse.js';
export { parseServerKey, checkDuplicateKeys } from './keys.js';
export { argCount, noBlock, parseDuration, parseUint, subdirectives, unknownSubdirective } from './args.js';
export { lex, type LexToken } from './lexer.js';
export { expandEnv, type Env } from './env.js';
export type { FileAccess } from './files.js';
