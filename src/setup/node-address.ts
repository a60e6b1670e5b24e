// The node's DNS address, as node-local-dns has one (169.254.20.10): an
// address every container on every Podman network can reach through its
// default route, which aardvark-dns never serves (it binds network
// gateways), and which no netavark or CNI bridge churn can take away.
//
// node-local-dns puts it on a dummy link. We put it on `lo` instead: the
// kernel delivers a packet for any local address whatever device it arrived
// on, so the effect is the same, but `lo` exists on every kernel from the
// first instant of boot, while the `dummy` link type is a module some
// kernels (this project's CI VMs among them) do not have. An IPv4 address
// carries the label `lo:podswarm`, so undo finds exactly ours.

import { isIPv6 } from 'node:net';
import { runCommand } from './command.js';

export const DEFAULT_ADDRESS = '169.254.20.10';
export const DEVICE = 'lo';
export const LABEL = 'lo:podswarm';

interface AddrInfo {
  family: string;
  local: string;
  label?: string;
}

/** The addresses on `lo` now, canonical text. */
export async function deviceAddresses(): Promise<Array<{ address: string; label?: string }>> {
  const out = JSON.parse(await runCommand('ip', ['-j', 'addr', 'show', 'dev', DEVICE])) as Array<{ addr_info?: AddrInfo[] }>;
  return (out[0]?.addr_info ?? []).map((a) => ({ address: a.local, ...(a.label !== undefined && { label: a.label }) }));
}

export async function addAddress(address: string): Promise<void> {
  await runCommand(
    'ip',
    isIPv6(address) ? ['-6', 'addr', 'add', `${address}/128`, 'dev', DEVICE] : ['addr', 'add', `${address}/32`, 'dev', DEVICE, 'label', LABEL],
  );
}

export async function removeAddress(address: string): Promise<void> {
  await runCommand('ip', [...(isIPv6(address) ? ['-6'] : []), 'addr', 'del', `${address}/${isIPv6(address) ? 128 : 32}`, 'dev', DEVICE]);
}

export function describeAddress(address: string): string {
  return isIPv6(address) ? `${address}/128 on ${DEVICE}` : `${address}/32 on ${DEVICE} (label ${LABEL})`;
}
