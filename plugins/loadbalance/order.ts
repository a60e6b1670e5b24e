// The answer order CoreDNS loadbalance produces (plugin/loadbalance
// roundRobin): CNAMEs first, then other types, then the address records
// shuffled, then MX shuffled. When every record is an address record of one
// type, they are simply shuffled.

import { Type } from '../../src/dns/constants.js';

/** A new order for records of these types, as indices into `types`. */
export function shuffledOrder(types: readonly number[]): number[] {
  const idx = types.map((_, i) => i);
  const first = types[0];
  if ((first === Type.A || first === Type.AAAA) && types.every((t) => t === first)) return shuffle(idx);
  const cname = idx.filter((i) => types[i] === Type.CNAME);
  const rest = idx.filter((i) => types[i] !== Type.CNAME && !isAddress(types[i]!) && types[i] !== Type.MX);
  const address = shuffle(idx.filter((i) => isAddress(types[i]!)));
  const mx = shuffle(idx.filter((i) => types[i] === Type.MX));
  return [...cname, ...rest, ...address, ...mx];
}

export function isAddress(t: number): boolean {
  return t === Type.A || t === Type.AAAA;
}

/** Fisher-Yates, in place. */
function shuffle(a: number[]): number[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a;
}
