// Source-address matching for `net CIDR...`: CIDRs and bare addresses in a
// node BlockList, and the client address as the socket reports it.

import { BlockList, isIP } from 'node:net';
import { pluginError } from '../../src/corefile/args.js';
import type { Token } from '../../src/corefile/types.js';

/** A set of networks; `*` (or none given) stands for every address. */
export class NetSet {
  private readonly list = new BlockList();
  private all = false;

  /** Adds `CIDR`, a bare address (a /32 or /128) or `*`; throws with FILE:LINE when it is neither. */
  add(tok: Token): void {
    if (tok.text === '*') {
      this.all = true;
      return;
    }
    const slash = tok.text.indexOf('/');
    const ip = slash >= 0 ? tok.text.slice(0, slash) : tok.text;
    const family = isIP(ip);
    const max = family === 4 ? 32 : 128;
    const bits = slash >= 0 ? tok.text.slice(slash + 1) : String(max);
    if (family === 0 || !/^\d{1,3}$/.test(bits) || Number(bits) > max) {
      throw pluginError('acl', tok, `illegal CIDR notation '${tok.text}'`);
    }
    this.list.addSubnet(ip, Number(bits), family === 4 ? 'ipv4' : 'ipv6');
  }

  has(ip: string): boolean {
    if (this.all) return true;
    const family = isIP(ip);
    return family !== 0 && this.list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  }
}
