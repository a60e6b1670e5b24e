// The packet and stream pipelines around message bodies (memberlist net.go):
// out: compound -> compress -> crc -> encrypt -> label; in: the reverse.
import { addCrc, stripCrc } from './crc.js';
import { removeLabelHeader } from './label.js';
import { MAX_DECOMPRESSED_BYTES, lzwCompress, lzwDecompress } from './lzw.js';
import {
  MessageType,
  decodeCompound,
  decodeCompress,
  decodePushPull,
  decodeStreamUserMsg,
  encodeCompress,
} from './messages.js';
import { MsgpackIncomplete, decodeAt } from './msgpack.js';
import { type EncryptionVersion, type Keyring, decryptPayload, decryptStream, encryptPayload, encryptStream } from './security.js';

export interface WireSecurity {
  keyring: Keyring | null;
  encryptionVersion: EncryptionVersion;
  label: string;
  /** When false, undecryptable input is read as plaintext (rolling upgrades). */
  verifyIncoming: boolean;
  verifyOutgoing: boolean;
}

/** `[9][compress{Algo:0, Buf}]` */
export function compressPayload(msg: Buffer): Buffer {
  return encodeCompress({ algo: 0, buf: lzwCompress(msg) });
}

/** Body of a compress message (after the type byte) back to the inner message. */
export function decompressPayload(body: Buffer): Buffer {
  const c = decodeCompress(body);
  if (c.algo !== 0) throw new Error(`cannot decompress unknown algorithm ${c.algo}`);
  return lzwDecompress(c.buf, MAX_DECOMPRESSED_BYTES);
}

export interface PacketOptions extends WireSecurity {
  compress: boolean;
  /** Target speaks protocol 5+: add a CRC. */
  crc: boolean;
}

/** Everything after the label header; the transport adds the label. */
export function encodePacket(msg: Buffer, o: PacketOptions): Buffer {
  let out = msg;
  if (o.compress) {
    const c = compressPayload(out);
    if (c.length < out.length) out = c;
  }
  if (o.crc) out = addCrc(out);
  if (o.keyring && o.verifyOutgoing) {
    out = encryptPayload(o.encryptionVersion, o.keyring.primaryKey(), out, Buffer.from(o.label, 'utf8'));
  }
  return out;
}

export class PacketError extends Error {}

/** Label check, decryption and CRC check of one datagram. */
export function decodePacket(buf: Buffer, o: WireSecurity): Buffer {
  const { label, rest } = removeLabelHeader(buf);
  if (label !== o.label) throw new PacketError(`discarding packet with unacceptable label "${label}"`);
  let plain = rest;
  if (o.keyring) {
    try {
      plain = decryptPayload(o.keyring.getKeys(), rest, Buffer.from(label, 'utf8'));
    } catch (err) {
      if (o.verifyIncoming) throw new PacketError(`decrypt packet failed: ${(err as Error).message}`);
    }
  }
  const checked = stripCrc(plain);
  if (checked === null) throw new PacketError('invalid checksum for UDP packet');
  return checked;
}

export interface Leaf {
  type: number;
  body: Buffer;
}

/**
 * Unwraps compound and compress messages into the messages they carry.
 * Errors in one part do not drop its siblings; they are reported via onError.
 */
export function flattenMessage(msg: Buffer, onError: (err: Error) => void, depth = 0): Leaf[] {
  if (msg.length < 1) {
    onError(new Error('missing message type byte'));
    return [];
  }
  if (depth > 8) {
    onError(new Error('message nesting too deep'));
    return [];
  }
  const type = msg[0]!;
  const body = msg.subarray(1);
  try {
    if (type === MessageType.compound) {
      const { parts, truncated } = decodeCompound(body);
      if (truncated > 0) onError(new Error(`compound request had ${truncated} truncated messages`));
      return parts.flatMap((p) => flattenMessage(p, onError, depth + 1));
    }
    if (type === MessageType.compress) return flattenMessage(decompressPayload(body), onError, depth + 1);
  } catch (err) {
    onError(err as Error);
    return [];
  }
  return [{ type, body }];
}

/** One message sent on a TCP stream (the dialer sends the label header first, separately). */
export function encodeStreamMessage(msg: Buffer, o: WireSecurity & { compress: boolean }): Buffer {
  let out = o.compress ? compressPayload(msg) : msg;
  if (o.keyring && o.verifyOutgoing) out = encryptStream(o.encryptionVersion, o.keyring.primaryKey(), out, o.label);
  return out;
}

export interface StreamMessage {
  type: number;
  /** The message after its type byte (decrypted and decompressed). */
  body: Buffer;
}

/**
 * Parses one stream message from the bytes received so far (after the label).
 * Returns null while more bytes are needed; throws on bad input.
 */
export function parseStreamMessage(buf: Buffer, o: WireSecurity): StreamMessage | null {
  if (buf.length < 1) return null;
  let inner = buf;
  if (buf[0] === MessageType.encrypt) {
    if (!o.keyring) throw new Error('remote state is encrypted and encryption is not configured');
    if (buf.length < 5) return null;
    const len = buf.readUInt32BE(1);
    if (len > 20 * 1024 * 1024) throw new Error(`remote node state is larger than limit (${len})`);
    if (buf.length < 5 + len) return null;
    inner = decryptStream(o.keyring.getKeys(), buf.subarray(0, 5), buf.subarray(5, 5 + len), o.label);
    if (inner.length < 1) throw new Error('empty decrypted stream message');
  } else if (o.keyring && o.verifyIncoming) {
    throw new Error('encryption is configured but remote state is not encrypted');
  }
  try {
    if (inner[0] === MessageType.compress) {
      const { end } = decodeAt(inner, 1);
      inner = decompressPayload(inner.subarray(1, end));
      if (inner.length === 0) throw new Error('decompressed message is empty');
    }
    const type = inner[0]!;
    const body = inner.subarray(1);
    // make sure the whole message has arrived
    if (type === MessageType.pushPull) decodePushPull(body);
    else if (type === MessageType.user) decodeStreamUserMsg(body);
    else decodeAt(body, 0);
    return { type, body };
  } catch (err) {
    // an incomplete encrypted unit can never complete: it was already whole
    if (err instanceof MsgpackIncomplete && inner === buf) return null;
    throw err;
  }
}
