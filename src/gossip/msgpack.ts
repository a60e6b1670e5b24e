// The msgpack subset hashicorp/go-msgpack (codec.MsgpackHandle defaults) speaks:
// old-spec raw strings for both []byte and string, structs as maps with keys
// sorted by Go field name, unsigned vs signed integer encodings kept apart.

export type MsgValue = null | boolean | number | bigint | Buffer | MsgValue[] | MsgMap;
export interface MsgMap {
  [key: string]: MsgValue;
}

/** How one Go struct field is written. */
export type Field =
  | { kind: 'uint'; value: number | bigint }
  | { kind: 'int'; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'str'; value: string }
  | { kind: 'bytes'; value: Buffer | null }
  | { kind: 'float64'; value: number }
  | { kind: 'raw'; value: Buffer }; // an already encoded msgpack value

export class MsgWriter {
  private chunks: Buffer[] = [];

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  private push(b: Buffer): void {
    this.chunks.push(b);
  }

  private byte(...b: number[]): void {
    this.push(Buffer.from(b));
  }

  nil(): void {
    this.byte(0xc0);
  }

  bool(v: boolean): void {
    this.byte(v ? 0xc3 : 0xc2);
  }

  uint(v: number | bigint): void {
    const n = BigInt(v);
    if (n < 0n) throw new RangeError(`uint field got ${v}`);
    if (n <= 0x7fn) this.byte(Number(n));
    else if (n <= 0xffn) this.byte(0xcc, Number(n));
    else if (n <= 0xffffn) {
      const b = Buffer.alloc(3);
      b[0] = 0xcd;
      b.writeUInt16BE(Number(n), 1);
      this.push(b);
    } else if (n <= 0xffffffffn) {
      const b = Buffer.alloc(5);
      b[0] = 0xce;
      b.writeUInt32BE(Number(n), 1);
      this.push(b);
    } else {
      const b = Buffer.alloc(9);
      b[0] = 0xcf;
      b.writeBigUInt64BE(n, 1);
      this.push(b);
    }
  }

  /**
   * Go `int`. go-msgpack 0.5.x (serf/memberlist 0.2.x on this machine) writes
   * non-negative ints in the unsigned formats; go-msgpack v2 writes ints above
   * 127 as signed 0xd1/0xd2/0xd3 (`signedPositive`). Go decoders accept both.
   */
  int(v: number, signedPositive = false): void {
    if (!Number.isSafeInteger(v)) throw new RangeError(`int field got ${v}`);
    if (v >= 0 && !signedPositive) this.uint(v);
    else if (v >= -32 && v <= 127) this.byte(v & 0xff);
    else if (v > 127) {
      if (v <= 0x7fff) this.sized(0xd1, 2, v);
      else if (v <= 0x7fffffff) this.sized(0xd2, 4, v);
      else this.sized(0xd3, 8, v);
    } else if (v >= -128) this.sized(0xd0, 1, v);
    else if (v >= -32768) this.sized(0xd1, 2, v);
    else if (v >= -2147483648) this.sized(0xd2, 4, v);
    else this.sized(0xd3, 8, v);
  }

  private sized(tag: number, size: 1 | 2 | 4 | 8, v: number): void {
    const b = Buffer.alloc(1 + size);
    b[0] = tag;
    if (size === 8) b.writeBigInt64BE(BigInt(v), 1);
    else b.writeIntBE(v, 1, size);
    this.push(b);
  }

  float64(v: number): void {
    const b = Buffer.alloc(9);
    b[0] = 0xcb;
    b.writeDoubleBE(v, 1);
    this.push(b);
  }

  /** Old-spec raw: fixstr, str16, str32. Go never writes str8 or bin here. */
  raw(v: Buffer): void {
    const n = v.length;
    if (n < 32) this.byte(0xa0 | n);
    else if (n <= 0xffff) {
      const b = Buffer.alloc(3);
      b[0] = 0xda;
      b.writeUInt16BE(n, 1);
      this.push(b);
    } else {
      const b = Buffer.alloc(5);
      b[0] = 0xdb;
      b.writeUInt32BE(n, 1);
      this.push(b);
    }
    this.push(v);
  }

  str(v: string): void {
    this.raw(Buffer.from(v, 'utf8'));
  }

  /** A nil []byte is written as nil, an empty one as an empty raw. */
  bytesOrNil(v: Buffer | null): void {
    if (v === null) this.nil();
    else this.raw(v);
  }

  mapHeader(n: number): void {
    if (n < 16) this.byte(0x80 | n);
    else if (n <= 0xffff) this.sized16(0xde, n);
    else this.sized32(0xdf, n);
  }

  arrayHeader(n: number): void {
    if (n < 16) this.byte(0x90 | n);
    else if (n <= 0xffff) this.sized16(0xdc, n);
    else this.sized32(0xdd, n);
  }

  private sized16(tag: number, n: number): void {
    const b = Buffer.alloc(3);
    b[0] = tag;
    b.writeUInt16BE(n, 1);
    this.push(b);
  }

  private sized32(tag: number, n: number): void {
    const b = Buffer.alloc(5);
    b[0] = tag;
    b.writeUInt32BE(n, 1);
    this.push(b);
  }

  field(f: Field): void {
    switch (f.kind) {
      case 'uint':
        return this.uint(f.value);
      case 'int':
        return this.int(f.value);
      case 'bool':
        return this.bool(f.value);
      case 'str':
        return this.str(f.value);
      case 'bytes':
        return this.bytesOrNil(f.value);
      case 'float64':
        return this.float64(f.value);
      case 'raw':
        return this.push(f.value);
    }
  }

  /**
   * A Go struct: keys sorted by field name; fields listed in `omitEmpty`
   * are dropped when they hold their zero value.
   */
  struct(fields: Record<string, Field>, omitEmpty: readonly string[] = []): void {
    const names = Object.keys(fields)
      .filter((k) => !(omitEmpty.includes(k) && isZero(fields[k]!)))
      .sort(compareGoNames);
    this.mapHeader(names.length);
    for (const name of names) {
      this.str(name);
      this.field(fields[name]!);
    }
  }
}

// Go sorts field names bytewise; field names are ASCII so UTF-16 order matches.
function compareGoNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isZero(f: Field): boolean {
  switch (f.kind) {
    case 'uint':
    case 'int':
    case 'float64':
      return Number(f.value) === 0;
    case 'bool':
      return !f.value;
    case 'str':
      return f.value === '';
    case 'bytes':
    case 'raw':
      return f.value === null || f.value.length === 0;
  }
}

/** Encodes one Go struct value. */
export function encodeStruct(fields: Record<string, Field>, omitEmpty: readonly string[] = []): Buffer {
  const w = new MsgWriter();
  w.struct(fields, omitEmpty);
  return w.bytes();
}

export class MsgpackError extends Error {}
/** The data ended early: on a stream, wait for more bytes. */
export class MsgpackIncomplete extends MsgpackError {}

/**
 * Decodes one value starting at `offset`. Every string-ish format (fixstr,
 * str8/16/32, bin8/16/32) becomes a Buffer; map keys become strings.
 * Returns the value and the offset just past it.
 */
export function decodeAt(buf: Buffer, offset = 0): { value: MsgValue; end: number } {
  let pos = offset;
  const need = (n: number): void => {
    if (pos + n > buf.length) throw new MsgpackIncomplete('msgpack: unexpected end of data');
  };
  const readRaw = (n: number): Buffer => {
    need(n);
    const b = buf.subarray(pos, pos + n);
    pos += n;
    return Buffer.from(b);
  };
  const u8 = (): number => {
    need(1);
    return buf[pos++]!;
  };
  const u16 = (): number => {
    need(2);
    const v = buf.readUInt16BE(pos);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = buf.readUInt32BE(pos);
    pos += 4;
    return v;
  };
  const big = (signed: boolean): number | bigint => {
    need(8);
    const v = signed ? buf.readBigInt64BE(pos) : buf.readBigUInt64BE(pos);
    pos += 8;
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  let depth = 0;
  const value = (): MsgValue => {
    if (++depth > 64) throw new MsgpackError('msgpack: nesting too deep');
    try {
      const t = u8();
      if (t <= 0x7f) return t;
      if (t >= 0xe0) return t - 0x100;
      if ((t & 0xe0) === 0xa0) return readRaw(t & 0x1f);
      if ((t & 0xf0) === 0x80) return map(t & 0x0f);
      if ((t & 0xf0) === 0x90) return array(t & 0x0f);
      switch (t) {
        case 0xc0:
          return null;
        case 0xc2:
          return false;
        case 0xc3:
          return true;
        case 0xc4:
        case 0xd9:
          return readRaw(u8());
        case 0xc5:
        case 0xda:
          return readRaw(u16());
        case 0xc6:
        case 0xdb:
          return readRaw(u32());
        case 0xca: {
          need(4);
          const v = buf.readFloatBE(pos);
          pos += 4;
          return v;
        }
        case 0xcb: {
          need(8);
          const v = buf.readDoubleBE(pos);
          pos += 8;
          return v;
        }
        case 0xcc:
          return u8();
        case 0xcd:
          return u16();
        case 0xce:
          return u32();
        case 0xcf:
          return big(false);
        case 0xd0: {
          const v = u8();
          return v > 0x7f ? v - 0x100 : v;
        }
        case 0xd1: {
          const v = u16();
          return v > 0x7fff ? v - 0x10000 : v;
        }
        case 0xd2: {
          need(4);
          const v = buf.readInt32BE(pos);
          pos += 4;
          return v;
        }
        case 0xd3:
          return big(true);
        case 0xdc:
          return array(u16());
        case 0xdd:
          return array(u32());
        case 0xde:
          return map(u16());
        case 0xdf:
          return map(u32());
        default:
          throw new MsgpackError(`msgpack: unsupported type byte 0x${t.toString(16)}`);
      }
    } finally {
      depth--;
    }
  };
  const array = (n: number): MsgValue[] => {
    // every element takes at least one byte: do not allocate past the data
    need(n);
    const out: MsgValue[] = [];
    for (let i = 0; i < n; i++) out.push(value());
    return out;
  };
  const map = (n: number): MsgMap => {
    need(n * 2);
    const out: MsgMap = Object.create(null) as MsgMap;
    for (let i = 0; i < n; i++) {
      const k = value();
      out[Buffer.isBuffer(k) ? k.toString('utf8') : String(k)] = value();
    }
    return out;
  };
  const v = value();
  return { value: v, end: pos };
}

export function decode(buf: Buffer): MsgValue {
  return decodeAt(buf, 0).value;
}

/** Typed reads of decoded Go structs; absent or nil fields read as Go zero values. */
export function asMap(v: MsgValue, what: string): MsgMap {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || Buffer.isBuffer(v)) {
    throw new MsgpackError(`msgpack: ${what} is not a map`);
  }
  return v;
}

export function getUint(m: MsgMap, key: string): number {
  const v = m[key];
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === 'bigint' && v >= 0n) return Number(v);
  throw new MsgpackError(`msgpack: field ${key} is not an unsigned integer`);
}

export function getInt(m: MsgMap, key: string): number {
  const v = m[key];
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  throw new MsgpackError(`msgpack: field ${key} is not an integer`);
}

export function getBool(m: MsgMap, key: string): boolean {
  const v = m[key];
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  throw new MsgpackError(`msgpack: field ${key} is not a bool`);
}

export function getBytes(m: MsgMap, key: string): Buffer | null {
  const v = m[key];
  if (v === undefined || v === null) return null;
  if (Buffer.isBuffer(v)) return v;
  // go-msgpack also accepts an array of small ints for []byte
  if (Array.isArray(v) && v.every((x) => typeof x === 'number' && x >= 0 && x <= 255)) {
    return Buffer.from(v as number[]);
  }
  throw new MsgpackError(`msgpack: field ${key} is not bytes`);
}

export function getStr(m: MsgMap, key: string): string {
  return getBytes(m, key)?.toString('utf8') ?? '';
}
