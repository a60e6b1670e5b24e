// Where a msgpack value ends, found without decoding it and resumably: a
// stream is scanned as its bytes arrive, each byte looked at once, so a
// message of many MB costs linear time however it is cut into TCP chunks.
import { MsgpackError } from './msgpack.js';

/** Bytes of one item's header and scalar payload, and how many values it contains; null while its header is incomplete. */
function extent(buf: Buffer, pos: number): { size: number; children: number } | null {
  if (pos >= buf.length) return null;
  const t = buf[pos]!;
  const has = (n: number): boolean => pos + n <= buf.length;
  if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) return { size: 1, children: 0 };
  if ((t & 0xe0) === 0xa0) return { size: 1 + (t & 0x1f), children: 0 };
  if ((t & 0xf0) === 0x80) return { size: 1, children: 2 * (t & 0x0f) };
  if ((t & 0xf0) === 0x90) return { size: 1, children: t & 0x0f };
  switch (t) {
    case 0xc4:
    case 0xd9:
      return has(2) ? { size: 2 + buf[pos + 1]!, children: 0 } : null;
    case 0xc5:
    case 0xda:
      return has(3) ? { size: 3 + buf.readUInt16BE(pos + 1), children: 0 } : null;
    case 0xc6:
    case 0xdb:
      return has(5) ? { size: 5 + buf.readUInt32BE(pos + 1), children: 0 } : null;
    case 0xcc:
    case 0xd0:
      return { size: 2, children: 0 };
    case 0xcd:
    case 0xd1:
      return { size: 3, children: 0 };
    case 0xca:
    case 0xce:
    case 0xd2:
      return { size: 5, children: 0 };
    case 0xcb:
    case 0xcf:
    case 0xd3:
      return { size: 9, children: 0 };
    case 0xdc:
      return has(3) ? { size: 3, children: buf.readUInt16BE(pos + 1) } : null;
    case 0xdd:
      return has(5) ? { size: 5, children: buf.readUInt32BE(pos + 1) } : null;
    case 0xde:
      return has(3) ? { size: 3, children: 2 * buf.readUInt16BE(pos + 1) } : null;
    case 0xdf:
      return has(5) ? { size: 5, children: 2 * buf.readUInt32BE(pos + 1) } : null;
    default:
      throw new MsgpackError(`msgpack: unsupported type byte 0x${t.toString(16)}`);
  }
}

/** Scans one value from `start`; call `advance` again with more bytes until it returns the end offset. */
export class MsgpackScanner {
  private pos: number;
  /** Values still to pass: a map or an array adds its elements. */
  private pending = 1;

  constructor(readonly start: number) {
    this.pos = start;
  }

  /** The offset just past the value once all of it is in `buf`, else null. */
  advance(buf: Buffer): number | null {
    while (this.pending > 0) {
      const item = extent(buf, this.pos);
      if (item === null || this.pos + item.size > buf.length) return null;
      this.pos += item.size;
      this.pending += item.children - 1;
    }
    return this.pos;
  }
}
