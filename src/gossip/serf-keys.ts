// Serf's internal key queries (serf internal_query.go): `serf keys -install,
// -use, -remove, -list` ask every member through `_serf_install-key`,
// `_serf_use-key`, `_serf_remove-key` and `_serf_list-keys`. This node
// changes its keyring live, as a serf agent does (the next packet is sent with
// the new primary key), writes the keyring file when one is configured, and
// answers with serf's nodeKeyResponse.
import type { GossipCore } from './core.js';
import { MsgWriter, asMap, decodeAt, getBytes } from './msgpack.js';
import { SerfMessageType } from './serf.js';
import { writeFileAtomic } from '../state/atomic-file.js';

const PREFIX = '_serf_';
const KEY_QUERIES = new Set(['install-key', 'use-key', 'remove-key', 'list-keys']);
/** serf's minEncodedKeyLength: no list answer of 1024 bytes holds more keys than 1024 / 25. */
const MIN_ENCODED_KEY_LENGTH = 25;

export function isKeyQuery(name: string): boolean {
  return name.startsWith(PREFIX) && KEY_QUERIES.has(name.slice(PREFIX.length));
}

interface KeyResponse {
  result: boolean;
  message: string;
  keys: string[];
  primaryKey: string;
}

/** `[8][nodeKeyResponse{Result, Message, Keys, PrimaryKey}]` */
export function encodeKeyResponse(r: KeyResponse): Buffer {
  const keys = new MsgWriter();
  if (r.keys.length === 0) keys.nil();
  else {
    keys.arrayHeader(r.keys.length);
    for (const k of r.keys) keys.str(k);
  }
  const w = new MsgWriter();
  w.struct({
    Result: { kind: 'bool', value: r.result },
    Message: { kind: 'str', value: r.message },
    Keys: { kind: 'raw', value: keys.bytes() },
    PrimaryKey: { kind: 'str', value: r.primaryKey },
  });
  return Buffer.concat([Buffer.from([SerfMessageType.keyResponse]), w.bytes()]);
}

/**
 * Carries out one key query and returns the response payload, at most
 * `maxBytes` long (a long key list is cut, as serf does, and says so).
 */
export async function answerKeyQuery(core: GossipCore, name: string, payload: Buffer, maxBytes: number): Promise<Buffer> {
  const op = name.slice(PREFIX.length);
  const r: KeyResponse = { result: false, message: '', keys: [], primaryKey: '' };
  const keyring = core.config.keyring;
  if (!keyring) {
    r.message = op === 'list-keys' ? 'Keyring is empty (encryption not enabled)' : 'No keyring to modify (encryption not enabled)';
    core.log.error(`serf: ${r.message}`);
    return encodeKeyResponse(r);
  }
  core.log.info(`serf: received ${op} query`);
  try {
    if (op === 'list-keys') {
      r.keys = keyring.getKeys().map((k) => k.toString('base64'));
      r.primaryKey = keyring.primaryKey().toString('base64');
      r.result = true;
      return fitKeyList(r, maxBytes);
    }
    const key = requestedKey(payload);
    if (op === 'install-key') keyring.addKey(key);
    else if (op === 'use-key') keyring.useKey(key);
    else keyring.removeKey(key);
    if (core.config.keyringFile)
      await writeFileAtomic(
        core.config.keyringFile,
        `${JSON.stringify(
          keyring.getKeys().map((k) => k.toString('base64')),
          null,
          2,
        )}\n`,
      );
    r.result = true;
  } catch (err) {
    r.message = (err as Error).message;
    core.log.error(`serf: failed to ${op.replace('-', ' ')}: ${r.message}`);
  }
  return encodeKeyResponse(r);
}

/** The key of a `[7][keyRequest{Key}]` payload. */
function requestedKey(payload: Buffer): Buffer {
  if (payload[0] !== SerfMessageType.keyRequest) throw new Error('failed to decode key request');
  const key = getBytes(asMap(decodeAt(payload, 1).value, 'key request'), 'Key');
  if (!key) throw new Error('failed to decode key request: no key');
  return key;
}

function fitKeyList(r: KeyResponse, maxBytes: number): Buffer {
  const actual = r.keys.length;
  for (let n = Math.min(actual, Math.floor(maxBytes / MIN_ENCODED_KEY_LENGTH)); n >= 0; n--) {
    const shown = n === actual ? r : { ...r, keys: r.keys.slice(0, n), message: `truncated key list response, showing first ${n} of ${actual} keys` };
    const out = encodeKeyResponse(shown);
    if (out.length <= maxBytes) return out;
  }
  return encodeKeyResponse({ ...r, keys: [], result: false, message: 'failed to truncate response so that it fits into message' });
}
