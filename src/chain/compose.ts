// Builds one server block's chain from its handlers in plugin order. Only a
// chain with a handler that reads replyWriterName() names the handlers after
// it; every other chain is the plugins' own handlers and nothing else.

import { endOfChain, type Handler } from './plugin.js';
import { NamedHandler } from './reply-writer.js';

export interface ChainLink {
  factory: (next: Handler) => Handler;
  /** This handler reads replyWriterName(): the handlers after it must name their writes. */
  tracksWriter: boolean;
}

export function composeChain(links: readonly ChainLink[]): Handler {
  const tracker = links.findIndex((l) => l.tracksWriter);
  let chain: Handler = endOfChain;
  for (let i = links.length - 1; i >= 0; i--) {
    const h = links[i]!.factory(chain);
    chain = tracker >= 0 && i > tracker ? new NamedHandler(h) : h;
  }
  return chain;
}
