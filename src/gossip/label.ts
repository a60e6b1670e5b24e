// Cluster label header `[244][len u8][label]` (memberlist label.go).
import { MessageType } from './messages.js';

export const LABEL_MAX_SIZE = 255;

export function labelOverhead(label: string): number {
  return label === '' ? 0 : 2 + Buffer.byteLength(label);
}

export function addLabelHeader(buf: Buffer, label: string): Buffer {
  if (label === '') return buf;
  return Buffer.concat([labelHeader(label), buf]);
}

export function labelHeader(label: string): Buffer {
  const l = Buffer.from(label, 'utf8');
  if (l.length > LABEL_MAX_SIZE) throw new RangeError(`label "${label}" is too long`);
  return Buffer.concat([Buffer.from([MessageType.hasLabel, l.length]), l]);
}

/** Splits a packet into its label (or '') and the rest. */
export function removeLabelHeader(buf: Buffer): { label: string; rest: Buffer } {
  if (buf.length < 1 || buf[0] !== MessageType.hasLabel) return { label: '', rest: buf };
  if (buf.length < 2) throw new Error('label header cannot be empty when present');
  const size = buf[1]!;
  if (size < 1) throw new Error('label header cannot be empty when present');
  if (buf.length < 2 + size) throw new Error('label header was truncated');
  return { label: buf.subarray(2, 2 + size).toString('utf8'), rest: buf.subarray(2 + size) };
}
