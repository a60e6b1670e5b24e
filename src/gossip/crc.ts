// CRC32 (IEEE) for the hasCrc wrapper memberlist adds for peers with protocol max >= 5.
import { MessageType } from './messages.js';

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** `[12][crc32 be32][msg]` */
export function addCrc(msg: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head[0] = MessageType.hasCrc;
  head.writeUInt32BE(crc32(msg), 1);
  return Buffer.concat([head, msg]);
}

/**
 * Strips a CRC wrapper if present. Returns null when the checksum does not
 * match (the packet must be dropped).
 */
export function stripCrc(buf: Buffer): Buffer | null {
  if (buf.length < 5 || buf[0] !== MessageType.hasCrc) return buf;
  const body = buf.subarray(5);
  return crc32(body) === buf.readUInt32BE(1) ? body : null;
}
