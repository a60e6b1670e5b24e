// Naming rules shared by the registry, its sources and the API.

import { isIP } from 'node:net';
import { bracketHost } from '../util/hostport.js';

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** True for a lowercase RFC 1123 label (namespaces, services, endpoint and port names). */
export function isDnsLabel(s: string): boolean {
  return LABEL.test(s);
}

/** Lowercased, every run of other characters as one `-`, none at the ends: `Node_1.example` → `node-1-example` (may be empty or too long for a label). */
export function dnsSafe(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** `10.0.1.1` → `10-0-1-1`; `fd00::1` → `fd00--1` (a trailing `-` completed by `0`, as CoreDNS does). */
export function dashedAddress(address: string): string {
  const dashed = address.toLowerCase().replace(/[.:]/g, '-');
  return dashed.endsWith('-') ? dashed + '0' : dashed.startsWith('-') ? '0' + dashed : dashed;
}

/** Canonical text form of an IP (lowercase, compressed v6), or undefined if not an IP. */
export function canonicalAddress(s: string): string | undefined {
  const v = isIP(s);
  if (v === 4)
    return s
      .split('.')
      .map((o) => String(Number(o)))
      .join('.');
  if (v === 6) return ipv6Canonical(s);
  return undefined;
}

function ipv6Canonical(s: string): string {
  // Let the URL parser compress and lowercase it (RFC 5952 form).
  return new URL(`http://${bracketHost(s)}/`).hostname.slice(1, -1);
}

export function serviceKey(namespace: string, service: string): string {
  return `${namespace}/${service}`;
}

const HOST_LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * A host name (an ExternalName target) in the form the registry keeps:
 * lowercase, no trailing dot, every label 1-63 characters, at most 253 in
 * all; undefined when it is not one. Underscores are allowed, as in DNS.
 */
export function canonicalHostName(s: string): string | undefined {
  const name = s.toLowerCase().replace(/\.$/, '');
  if (name.length === 0 || name.length > 253) return undefined;
  return name.split('.').every((l) => HOST_LABEL.test(l)) ? name : undefined;
}

/** The address a dashed label spells (`10-0-1-1`, `fd00--5`), as Kubernetes pod names do; undefined when none. */
export function addressFromDashed(label: string): string | undefined {
  const v4 = label.split('-');
  if (v4.length === 4) return canonicalAddress(v4.join('.'));
  return label.includes('.') ? undefined : canonicalAddress(label.replace(/-/g, ':'));
}
