// `host:port` text, the one place that knows the IPv6 bracket rule: join
// writes it as Go's net.JoinHostPort does, and three parsers read it, one
// for each grammar the configuration takes (they differ in what a host may
// be and whether the port is optional, and each keeps its own messages):
//
//   parseIpPort        IP[:PORT], [IPV6][:PORT], IPV6: forward's TO, -upstream-dns, api listen, ctl --dns
//   splitHostPort      HOST[:PORT], [IPV6][:PORT], IPV6: memberlist's Join (util.go hasPort)
//   parseListenAddress [HOST]:PORT, empty host for all interfaces: health, ready, prometheus (Go's net.Listen)
//
// Shared by the core, the plugins and the client library.

import { isIP, isIPv6 } from 'node:net';

export interface HostPort {
  host: string;
  port: number;
}

/** `[v6]:port` or `host:port`: brackets whenever the host has a colon, as Go's net.JoinHostPort. */
export function joinHostPort(host: string, port: number): string {
  return `${bracketHost(host)}:${port}`;
}

/** The host as it goes before `:PORT` or in a URL: an IPv6 address in brackets. */
export function bracketHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Host and port text as written, before any variant checks them. */
interface Parts {
  host: string;
  /** The text after the port's colon; undefined when no port was written. */
  port: string | undefined;
  /** Written `[HOST]...`. */
  bracketed: boolean;
}

/**
 * The bracket rule every variant shares: `[HOST]` or `[HOST]:PORT`; outside
 * brackets, text with more than one colon is all host (a bare IPv6 address,
 * which carries no port), else the port follows the colon. Throws the reason
 * for misplaced brackets.
 */
function cut(text: string): Parts {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) throw new Error("missing ']'");
    const rest = text.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) throw new Error(`expected ':PORT' after ']', got '${rest}'`);
    return { host: text.slice(1, close), port: rest === '' ? undefined : rest.slice(1), bracketed: true };
  }
  if (/[[\]]/.test(text)) throw new Error('brackets go around an IPv6 address: [IPV6]:PORT');
  const colon = text.indexOf(':');
  if (colon < 0 || text.indexOf(':', colon + 1) >= 0) return { host: text, port: undefined, bracketed: false };
  return { host: text.slice(0, colon), port: text.slice(colon + 1), bracketed: false };
}

/**
 * `IP[:PORT]`, `[IP][:PORT]` or a bare IPv6 address: an IP literal, never a
 * host name, as CoreDNS's forward takes its TO. Throws with the offending text.
 */
export function parseIpPort(text: string, defaultPort = 53): HostPort {
  let parts: Parts;
  try {
    parts = cut(text);
  } catch {
    throw new Error(`'${text}': not an IP address`);
  }
  if (parts.port !== undefined && !/^\d+$/.test(parts.port)) throw new Error(`'${text}': bad port`);
  const port = parts.port === undefined ? defaultPort : Number(parts.port);
  if (isIP(parts.host) === 0) throw new Error(`'${text}': not an IP address`);
  if (port < 1 || port > 65535) throw new Error(`'${text}': port out of range`);
  return { host: parts.host, port };
}

/**
 * `HOST`, `HOST:PORT`, `[IPV6]`, `[IPV6]:PORT` or a bare IPv6 address, by
 * memberlist's rule (util.go hasPort): host names are left to the dialer,
 * brackets hold IPv6 only, port 0-65535. Throws the reason for malformed text.
 */
export function splitHostPort(text: string, defaultPort: number): HostPort {
  const { host, port, bracketed } = cut(text);
  // Brackets, or the colons of a bare IPv6 address: either way the host must be IPv6.
  if (bracketed || host.includes(':')) checkIPv6(host);
  else if (host === '') throw new Error('missing host');
  return { host, port: port === undefined ? defaultPort : parsePort(port) };
}

function checkIPv6(host: string): void {
  if (host.includes('%')) throw new Error(`'${host}': zone indexes are not supported`);
  if (!isIPv6(host)) throw new Error(`'${host}' is not an IPv6 address`);
}

function parsePort(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw new Error(`'${text}' is not a port (0-65535)`);
  return Number(text);
}

/**
 * `[HOST]:PORT` as CoreDNS's health, ready and prometheus listen (`:8080`,
 * `localhost:9153`, `[::1]:8181`): the port is required (1-65535), an empty
 * host is every interface. Undefined when the text is not of that form.
 */
export function parseListenAddress(text: string): HostPort | undefined {
  let parts: Parts;
  try {
    parts = cut(text);
  } catch {
    return undefined;
  }
  const { host, port, bracketed } = parts;
  if (port === undefined || !/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) return undefined;
  if (bracketed && host === '') return undefined;
  return { host, port: Number(port) };
}
