// DNS numeric constants used across the core and plugins.

export const Type = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  DNAME: 39,
  OPT: 41,
  DS: 43,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
} as const;

export const Class = { IN: 1, CH: 3, ANY: 255 } as const;

export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  BADVERS: 16, // extended: upper 8 bits travel in the OPT TTL
} as const;

export const Opcode = { QUERY: 0 } as const;

// Header flag bits (second 16-bit word of the header).
export const Flag = {
  QR: 0x8000,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
  AD: 0x0020,
  CD: 0x0010,
} as const;

const typeNames = new Map<number, string>(Object.entries(Type).map(([k, v]) => [v, k]));
const rcodeNames = new Map<number, string>(Object.entries(Rcode).map(([k, v]) => [v, k]));
const typeByName = new Map<string, number>(Object.entries(Type));

export function typeName(t: number): string {
  return typeNames.get(t) ?? `TYPE${t}`;
}

export function rcodeName(r: number): string {
  return rcodeNames.get(r) ?? `RCODE${r}`;
}

/** Parses a type mnemonic ("A", "srv", "TYPE65") or returns undefined. */
export function parseTypeName(s: string): number | undefined {
  const up = s.toUpperCase();
  const known = typeByName.get(up);
  if (known !== undefined) return known;
  const m = /^TYPE(\d{1,5})$/.exec(up);
  return m ? Number(m[1]) : undefined;
}
