// The packet and stream pipelines around message bodies (memberlist net.go):
// out: compound -> compress -> crc -> encrypt -> label; in: the reverse.
import { addCrc, stripCrc } from './crc.js';
import { removeLabelHeader } from './label.js';
import { MAX_DECOMPRESSED_BYTES, lzwCompress, lzwDecompress } from './lzw.js';
import {
  MessageType,
  type PushNodeState,
  type PushPull,
  type PushPullHeader,
  decodeCompound,
  decodeCompress,
  encodeCompress,
  pushNodeState,
  pushPullHeader,
  userMsgLen,
} from './messages.js';
import { MsgpackError, type MsgValue, decodeAt } from './msgpack.js';
import { MsgpackScanner } from './msgpack-scan.js';
import { type EncryptionVersion, type Keyring, decryptPayload, decryptStream, encryptPayload, encryptStream } from './security.js';
import { quote } from './quote.js';

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
  if (label !== o.label) throw new PacketError(`discarding packet with unacceptable label ${quote(label)}`);
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
  /** A push/pull, decoded while it arrived. */
  pushPull?: PushPull;
}

/** memberlist's maxPushStateBytes: the largest encrypted stream unit it reads. */
const MAX_ENCRYPTED_STREAM_BYTES = 20 * 1024 * 1024;

/**
 * Reads one stream message (after the label) as its bytes arrive: feed it
 * everything received so far after each chunk. It resumes where the last
 * call stopped, so the work is linear in the message size, and it refuses a
 * message whose header announces more than the limits before the rest is
 * buffered. Null while more bytes are needed; throws on bad input.
 */
export class StreamMessageParser {
  private plain: PlainParser | null = null;

  constructor(private readonly o: WireSecurity) {}

  feed(buf: Buffer): StreamMessage | null {
    if (buf.length < 1) return null;
    if (buf[0] !== MessageType.encrypt) {
      if (this.o.keyring && this.o.verifyIncoming) throw new Error('encryption is configured but remote state is not encrypted');
      this.plain ??= new PlainParser();
      return this.plain.feed(buf);
    }
    if (!this.o.keyring) throw new Error('remote state is encrypted and encryption is not configured');
    if (buf.length < 5) return null;
    const len = buf.readUInt32BE(1);
    if (len > MAX_ENCRYPTED_STREAM_BYTES) throw new Error(`remote node state is larger than limit (${len})`);
    // an encrypted unit is whole once its length has arrived: counting bytes costs nothing
    if (buf.length < 5 + len) return null;
    const inner = decryptStream(this.o.keyring.getKeys(), buf.subarray(0, 5), buf.subarray(5, 5 + len), this.o.label);
    if (inner.length < 1) throw new Error('empty decrypted stream message');
    return parseWhole(inner, true);
  }
}

/** One stream message from bytes that are all there (a one-shot parse; the tests' entry point too). */
export function parseStreamMessage(buf: Buffer, o: WireSecurity): StreamMessage | null {
  return new StreamMessageParser(o).feed(buf);
}

function parseWhole(buf: Buffer, compressOk: boolean): StreamMessage {
  const msg = new PlainParser(compressOk).feed(buf);
  if (msg === null) throw new MsgpackError('msgpack: unexpected end of data');
  return msg;
}

/** A plaintext message `[type][...]`, parsed item by item as it arrives. */
class PlainParser {
  /** Offset of the next item to read. */
  private pos = 1;
  private scanner: MsgpackScanner | null = null;
  private header: PushPullHeader | null = null;
  private readonly nodes: PushNodeState[] = [];

  constructor(private readonly compressOk = true) {}

  feed(buf: Buffer): StreamMessage | null {
    const type = buf[0]!;
    switch (type) {
      case MessageType.compress: {
        if (!this.compressOk) throw new Error('compressed message inside a compressed message');
        const end = this.item(buf);
        if (end === null) return null;
        const inner = decompressPayload(buf.subarray(1, end));
        if (inner.length === 0) throw new Error('decompressed message is empty');
        return parseWhole(inner, false);
      }
      case MessageType.pushPull:
        return this.pushPull(buf);
      case MessageType.user: {
        const end = this.item(buf);
        if (end === null) return null;
        const len = userMsgLen(decodeAt(buf, this.pos).value);
        return buf.length < end + len ? null : { type, body: buf.subarray(1, end + len) };
      }
      default: {
        const end = this.item(buf);
        if (end === null) return null;
        decodeAt(buf, this.pos);
        return { type, body: buf.subarray(1, end) };
      }
    }
  }

  /** The end of the msgpack value at `pos` once it has all arrived. */
  private item(buf: Buffer): number | null {
    this.scanner ??= new MsgpackScanner(this.pos);
    return this.scanner.advance(buf);
  }

  /** Decodes the completed value at `pos` and moves past it. */
  private take(buf: Buffer, end: number): MsgValue {
    const { value } = decodeAt(buf, this.pos);
    this.pos = end;
    this.scanner = null;
    return value;
  }

  private pushPull(buf: Buffer): StreamMessage | null {
    if (this.header === null) {
      const end = this.item(buf);
      if (end === null) return null;
      this.header = pushPullHeader(this.take(buf, end));
    }
    const h = this.header;
    while (this.nodes.length < h.nodes) {
      const end = this.item(buf);
      if (end === null) return null;
      this.nodes.push(pushNodeState(this.take(buf, end)));
    }
    const end = this.pos + h.userStateLen;
    if (buf.length < end) return null;
    const userState = h.userStateLen > 0 ? Buffer.from(buf.subarray(this.pos, end)) : null;
    return { type: MessageType.pushPull, body: buf.subarray(1, end), pushPull: { join: h.join, nodes: this.nodes, userState } };
  }
}
