// AES-GCM payload encryption and the keyring (memberlist security.go, keyring.go).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { MessageType } from './messages.js';

const VERSION_SIZE = 1;
const NONCE_SIZE = 12;
const TAG_SIZE = 16;
const BLOCK_SIZE = 16;

/** 0: PKCS7-padded plaintext (protocol version 1 peers); 1: no padding. */
export type EncryptionVersion = 0 | 1;

export function encryptOverhead(vsn: EncryptionVersion): number {
  return vsn === 0 ? 45 : 29;
}

export function encryptedLength(vsn: EncryptionVersion, inp: number): number {
  const padding = vsn === 0 ? BLOCK_SIZE - (inp % BLOCK_SIZE) : 0;
  return VERSION_SIZE + NONCE_SIZE + inp + padding + TAG_SIZE;
}

function algorithm(key: Buffer): 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' {
  switch (key.length) {
    case 16:
      return 'aes-128-gcm';
    case 24:
      return 'aes-192-gcm';
    case 32:
      return 'aes-256-gcm';
    default:
      throw new Error('key size must be 16, 24 or 32 bytes');
  }
}

/** `[vsn][nonce 12][ciphertext][tag 16]` */
export function encryptPayload(vsn: EncryptionVersion, key: Buffer, msg: Buffer, aad: Buffer): Buffer {
  const nonce = randomBytes(NONCE_SIZE);
  let plain = msg;
  if (vsn === 0) {
    const more = BLOCK_SIZE - (msg.length % BLOCK_SIZE);
    plain = Buffer.concat([msg, Buffer.alloc(more, more)]);
  }
  const c = createCipheriv(algorithm(key), key, nonce, { authTagLength: TAG_SIZE });
  if (aad.length > 0) c.setAAD(aad);
  return Buffer.concat([Buffer.from([vsn]), nonce, c.update(plain), c.final(), c.getAuthTag()]);
}

function tryDecrypt(key: Buffer, msg: Buffer, aad: Buffer): Buffer | null {
  const nonce = msg.subarray(VERSION_SIZE, VERSION_SIZE + NONCE_SIZE);
  const body = msg.subarray(VERSION_SIZE + NONCE_SIZE, msg.length - TAG_SIZE);
  const d = createDecipheriv(algorithm(key), key, nonce, { authTagLength: TAG_SIZE });
  d.setAuthTag(msg.subarray(msg.length - TAG_SIZE));
  if (aad.length > 0) d.setAAD(aad);
  try {
    return Buffer.concat([d.update(body), d.final()]);
  } catch {
    return null;
  }
}

export class DecryptError extends Error {}

/** Tries every key; throws DecryptError when none works. */
export function decryptPayload(keys: readonly Buffer[], msg: Buffer, aad: Buffer): Buffer {
  if (msg.length === 0) throw new DecryptError('cannot decrypt empty payload');
  const vsn = msg[0]!;
  if (vsn > 1) throw new DecryptError(`unsupported encryption version ${vsn}`);
  if (msg.length < encryptedLength(vsn as EncryptionVersion, 0)) {
    throw new DecryptError(`payload is too small to decrypt: ${msg.length}`);
  }
  for (const key of keys) {
    const plain = tryDecrypt(key, msg, aad);
    if (plain === null) continue;
    if (vsn === 1) return plain;
    const pad = plain[plain.length - 1]!;
    if (pad < 1 || pad > BLOCK_SIZE || pad > plain.length) throw new DecryptError('bad PKCS7 padding');
    return plain.subarray(0, plain.length - pad);
  }
  throw new DecryptError('no installed keys could decrypt the message');
}

/** Installed keys; the primary one encrypts, all of them are tried to decrypt. Error texts are memberlist's (serf keys prints them). */
export class Keyring {
  private keys: Buffer[] = [];

  constructor(keys: readonly Buffer[], primary?: Buffer) {
    for (const k of keys) this.addKey(k);
    if (primary) {
      this.addKey(primary);
      this.useKey(primary);
    }
    if (this.keys.length === 0) throw new Error('empty keyring');
  }

  /** Accepts the base64 keys `serf keygen` prints. */
  static fromBase64(...keys: string[]): Keyring {
    return new Keyring(keys.map((k) => Buffer.from(k, 'base64')));
  }

  addKey(key: Buffer): void {
    algorithm(key);
    if (!this.keys.some((k) => k.equals(key))) this.keys.push(Buffer.from(key));
  }

  useKey(key: Buffer): void {
    const i = this.keys.findIndex((k) => k.equals(key));
    if (i < 0) throw new Error('Requested key is not in the keyring');
    this.keys = [this.keys[i]!, ...this.keys.filter((_, j) => j !== i)];
  }

  removeKey(key: Buffer): void {
    if (this.keys[0]!.equals(key)) throw new Error('Removing the primary key is not allowed');
    this.keys = this.keys.filter((k) => !k.equals(key));
  }

  /** Replaces every key at once (a reloaded keyring file); the first one becomes primary. */
  replaceKeys(keys: readonly Buffer[]): void {
    if (keys.length === 0) throw new Error('empty keyring');
    for (const k of keys) algorithm(k);
    this.keys = [];
    for (const k of keys) this.addKey(k);
  }

  primaryKey(): Buffer {
    return this.keys[0]!;
  }

  getKeys(): readonly Buffer[] {
    return this.keys;
  }
}

/** Stream framing `[10][len u32be][encrypted]`; AAD is those 5 bytes plus the label. */
export function encryptStream(vsn: EncryptionVersion, key: Buffer, msg: Buffer, label: string): Buffer {
  const head = Buffer.alloc(5);
  head[0] = MessageType.encrypt;
  head.writeUInt32BE(encryptedLength(vsn, msg.length), 1);
  return Buffer.concat([head, encryptPayload(vsn, key, msg, Buffer.concat([head, Buffer.from(label, 'utf8')]))]);
}

/** `head` is the 5-byte `[10][len]` header, `body` the `len` bytes after it. */
export function decryptStream(keys: readonly Buffer[], head: Buffer, body: Buffer, label: string): Buffer {
  return decryptPayload(keys, body, Buffer.concat([head, Buffer.from(label, 'utf8')]));
}
