// LZW exactly as Go's compress/lzw with LSB order and 8-bit literals (what
// memberlist uses): 9..12-bit codes, clear=256, eof=257, an initial clear code,
// width grows when the next code reaches 512/1024/2048, table reset at 4095.

const CLEAR = 256;
const EOF = 257;
const MAX_CODE = 4095;
const MAX_WIDTH = 12;

/** Go's 40 MiB limit on memberlist decompression. */
export const MAX_DECOMPRESSED_BYTES = 40 * 1024 * 1024;

class BitWriter {
  private out: number[] = [];
  private bits = 0;
  private nBits = 0;

  write(code: number, width: number): void {
    this.bits |= code << this.nBits;
    this.nBits += width;
    while (this.nBits >= 8) {
      this.out.push(this.bits & 0xff);
      this.bits >>>= 8;
      this.nBits -= 8;
    }
  }

  finish(): Buffer {
    if (this.nBits > 0) this.out.push(this.bits & 0xff);
    return Buffer.from(this.out);
  }
}

export function lzwCompress(input: Buffer): Buffer {
  const w = new BitWriter();
  let width = 9;
  let hi = EOF;
  let overflow = 512;
  // (prefix code << 8 | byte) -> code
  let table = new Map<number, number>();
  w.write(CLEAR, width);
  if (input.length === 0) {
    w.write(EOF, width);
    return w.finish();
  }
  // Mirrors Go's incHi: returns false when the table was reset.
  const incHi = (): boolean => {
    hi++;
    if (hi === overflow) {
      width++;
      overflow <<= 1;
    }
    if (hi === MAX_CODE) {
      w.write(CLEAR, width);
      width = 9;
      hi = EOF;
      overflow = 512;
      table = new Map();
      return false;
    }
    return true;
  };
  let code = input[0]!;
  for (let i = 1; i < input.length; i++) {
    const lit = input[i]!;
    const key = (code << 8) | lit;
    const hit = table.get(key);
    if (hit !== undefined) {
      code = hit;
      continue;
    }
    w.write(code, width);
    code = lit;
    if (incHi()) table.set(key, hi);
  }
  w.write(code, width);
  incHi();
  w.write(EOF, width);
  return w.finish();
}

export function lzwDecompress(input: Buffer, limit = MAX_DECOMPRESSED_BYTES): Buffer {
  const prefix = new Uint16Array(1 << MAX_WIDTH);
  const suffix = new Uint8Array(1 << MAX_WIDTH);
  const chunks: Buffer[] = [];
  let out = Buffer.alloc(Math.min(Math.max(input.length * 4, 1024), limit + 1));
  let o = 0;
  let total = 0;
  const emit = (bytes: Uint8Array): void => {
    if (total + bytes.length > limit) throw new Error(`decompressed message is larger than limit (${limit})`);
    if (o + bytes.length > out.length) {
      chunks.push(out.subarray(0, o));
      out = Buffer.alloc(Math.max(out.length * 2, bytes.length));
      o = 0;
    }
    out.set(bytes, o);
    o += bytes.length;
    total += bytes.length;
  };
  let width = 9;
  let hi = EOF;
  let overflow = 512;
  let last = -1;
  let bits = 0;
  let nBits = 0;
  let pos = 0;
  const scratch = new Uint8Array(1 << MAX_WIDTH);
  for (;;) {
    while (nBits < width) {
      if (pos >= input.length) throw new Error('lzw: unexpected EOF');
      bits |= input[pos++]! << nBits;
      nBits += 8;
    }
    const code = bits & ((1 << width) - 1);
    bits >>>= width;
    nBits -= width;
    if (code === CLEAR) {
      width = 9;
      hi = EOF;
      overflow = 512;
      last = -1;
      continue;
    }
    if (code === EOF) break;
    if (code < CLEAR) {
      scratch[0] = code;
      emit(scratch.subarray(0, 1));
      if (last !== -1) {
        suffix[hi] = code;
        prefix[hi] = last;
      }
    } else if (code <= hi) {
      // expand into the tail of scratch, walking the prefix chain backwards
      let i = scratch.length - 1;
      let c = code;
      if (code === hi) {
        if (last === -1) throw new Error('lzw: invalid code');
        c = last;
        while (c >= CLEAR) c = prefix[c]!;
        scratch[i--] = c;
        c = last;
      }
      while (c >= CLEAR) {
        scratch[i--] = suffix[c]!;
        c = prefix[c]!;
      }
      scratch[i] = c;
      emit(scratch.subarray(i));
      if (last !== -1) {
        suffix[hi] = c;
        prefix[hi] = last;
      }
    } else {
      throw new Error('lzw: invalid code');
    }
    last = code;
    hi++;
    if (hi >= overflow) {
      if (width === MAX_WIDTH) {
        last = -1;
        hi--;
      } else {
        width++;
        overflow <<= 1;
      }
    }
  }
  chunks.push(out.subarray(0, o));
  return Buffer.concat(chunks);
}
