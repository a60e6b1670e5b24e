// `podswarm-dns setup podman`: makes this host a Podman node. The node's DNS
// address goes on `lo`, a containers.conf drop-in points every container at
// it with the cluster search domains, and a Corefile is written if there is
// none. Everything is checked before anything changes; --dry-run prints the
// plan, --undo takes back exactly what setup did.

import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { applyChanges, describeChange, type Change } from './changes.js';
import { CommandError, runCommand } from './command.js';
import { DNS_KEYS, DROPIN_DIR, DROPIN_NAME, dnsSettings, parseDropin, podmanConfFiles, renderDropin, type ConfFile } from './containers-conf.js';
import { deviceAddresses, LABEL } from './node-address.js';
import { nodeCorefile, type NodeCorefileOptions } from './node-corefile.js';
import { readOwned, renderOwned, type OwnedFile } from './owned-file.js';

export class SetupError extends Error {}

export interface Output {
  say(line: string): void;
}

export interface PodmanSetupOptions extends NodeCorefileOptions {
  corefile: string;
  dryRun: boolean;
}

const DROPIN = join(DROPIN_DIR, DROPIN_NAME);
const UNDO_HINT = '`podswarm-dns setup podman --undo` removes it';
/** Podman 4 (containers/common 0.47+) reads containers.conf.d; checked with 4.3.1. */
const MIN_PODMAN_MAJOR = 4;

export async function setupPodman(o: PodmanSetupOptions, out: Output): Promise<void> {
  const files = await preflight(o.dryRun);
  const later: string[] = [];
  for (const f of files) {
    const keys = DNS_KEYS.filter((k) => f.dnsKeys[k] !== undefined);
    if (keys.length === 0) continue;
    if (dirname(f.path) === DROPIN_DIR && f.path > DROPIN) later.push(`${f.path} sets ${keys.join(', ')}`);
    else out.say(`note: ${f.path} sets ${keys.join(', ')}; the drop-in overrides it while set up (--undo brings it back)`);
  }
  if (later.length > 0) {
    throw new SetupError(
      `${later.join('; ')}, and Podman reads it after ${DROPIN}, so containers would not use the node's DNS: remove those keys or rename the file to sort before ${DROPIN_NAME}`,
    );
  }

  const changes: Change[] = [];
  const dropin = readOwned(DROPIN);
  const dropinBody = renderDropin(dnsSettings(o.addresses));
  if (dropin.state === 'foreign') throw new SetupError(`${DROPIN} exists and was not written by podswarm-dns setup: move it away first`);
  if (dropin.state === 'ours' && dropin.edited)
    throw new SetupError(`${DROPIN} was edited after setup wrote it: run \`podswarm-dns setup podman --undo\` or remove it first`);
  if (dropin.state === 'absent') {
    const dirs = missingDirs(DROPIN_DIR);
    changes.push(...dirs.map((path): Change => ({ kind: 'mkdir', path })), { kind: 'write', path: DROPIN, text: renderOwned(dropinBody, dirs, UNDO_HINT) });
  } else if (dropin.body !== dropinBody) {
    changes.push({ kind: 'write', path: DROPIN, text: renderOwned(dropinBody, dropin.createdDirs, UNDO_HINT), previous: dropin.text });
  }

  const current = await deviceAddresses();
  const previous = dropin.state === 'ours' ? parseDropin(DROPIN, dropin.body).dns_servers : [];
  for (const a of current) {
    if (!o.addresses.includes(a.address) && (a.label === LABEL || previous.includes(a.address))) changes.push({ kind: 'remove-address', address: a.address });
  }
  for (const address of o.addresses) if (!current.some((a) => a.address === address)) changes.push({ kind: 'add-address', address });

  const corefile = readOwned(o.corefile);
  if (corefile.state === 'absent') {
    const dirs = missingDirs(dirname(o.corefile));
    changes.push(...dirs.map((path): Change => ({ kind: 'mkdir', path })), {
      kind: 'write',
      path: o.corefile,
      text: renderOwned(nodeCorefile(o), dirs, UNDO_HINT),
    });
  } else {
    const text = corefile.state === 'ours' ? corefile.body : corefile.text;
    const unbound = o.addresses.filter((a) => !text.includes(a));
    out.say(
      `note: ${o.corefile} exists and is left as it is${unbound.length > 0 ? `; it does not mention ${unbound.join(', ')}: add \`bind ${unbound.join(' ')}\` to its server block` : ''}`,
    );
  }
  await finish(changes, o.dryRun, out, 'the node is set up');
  if (!o.dryRun) out.say(`start the server: podswarm-dns -conf ${o.corefile} (or systemctl enable --now podswarm-dns with deploy/podswarm-dns.service)`);
}

export async function undoPodman(o: Pick<PodmanSetupOptions, 'corefile' | 'dryRun'>, out: Output): Promise<void> {
  await preflight(o.dryRun);
  const changes: Change[] = [];
  const dropin = readOwned(DROPIN);
  let servers: string[] = [];
  if (dropin.state === 'ours') {
    servers = parseDropin(DROPIN, dropin.body).dns_servers;
    changes.push(...removal(DROPIN, dropin, out));
  } else if (dropin.state === 'foreign') {
    out.say(`note: ${DROPIN} was not written by podswarm-dns setup: left as it is`);
  }
  for (const a of await deviceAddresses()) {
    if (a.label === LABEL || servers.includes(a.address)) changes.push({ kind: 'remove-address', address: a.address });
  }
  const corefile = readOwned(o.corefile);
  if (corefile.state === 'ours') changes.push(...removal(o.corefile, corefile, out));
  else if (corefile.state === 'foreign') out.say(`note: ${o.corefile} was not written by podswarm-dns setup: left as it is`);
  await finish(changes, o.dryRun, out, 'nothing to undo');
}

/** `podswarm-dns setup link`: at boot, puts the node's addresses (from the drop-in) back on `lo`. */
export async function ensureLink(out: Output): Promise<void> {
  await preflight(false, false);
  const dropin = readOwned(DROPIN);
  if (dropin.state !== 'ours')
    throw new SetupError(
      `${DROPIN} ${dropin.state === 'absent' ? 'does not exist' : 'was not written by podswarm-dns setup'}: run \`podswarm-dns setup podman\` first`,
    );
  const current = await deviceAddresses();
  const changes = parseDropin(DROPIN, dropin.body)
    .dns_servers.filter((address) => !current.some((a) => a.address === address))
    .map((address): Change => ({ kind: 'add-address', address }));
  await finish(changes, false, out, 'the node address is in place');
}

function removal(path: string, f: Extract<OwnedFile, { state: 'ours' }>, out: Output): Change[] {
  if (f.edited) {
    out.say(`note: ${path} was edited after setup wrote it: left as it is`);
    return [];
  }
  const changes: Change[] = [{ kind: 'remove', path, previous: f.text }];
  // Deepest first; a directory that now holds something else stays.
  for (const dir of [...f.createdDirs].reverse()) {
    const left = existsSync(dir) ? readdirSync(dir).filter((n) => join(dir, n) !== path && !f.createdDirs.includes(join(dir, n))) : [];
    if (left.length > 0) break;
    changes.push({ kind: 'rmdir', path: dir });
  }
  return changes;
}

async function finish(changes: Change[], dryRun: boolean, out: Output, nothing: string): Promise<void> {
  if (changes.length === 0) return out.say(`nothing to change: ${nothing}`);
  if (dryRun) {
    out.say('would (--dry-run, nothing changed):');
    for (const c of changes) out.say(`  ${describeChange(c)}`);
    return;
  }
  await applyChanges(changes, (line) => out.say(line));
}

/** Checks what every setup needs; returns the containers.conf files Podman reads (none for `link`). */
async function preflight(dryRun: boolean, needPodman = true): Promise<ConfFile[]> {
  if (!dryRun && process.getuid?.() !== 0) {
    throw new SetupError(
      'needs root: it adds the node address to lo and writes /etc/containers/containers.conf.d (try: sudo podswarm-dns setup podman; --dry-run shows the plan without root)',
    );
  }
  if (!needPodman) return [];
  if (process.env.CONTAINERS_CONF) {
    throw new SetupError(
      `CONTAINERS_CONF is set (${process.env.CONTAINERS_CONF}): Podman then reads that one file and no drop-ins; unset it, or add ${DNS_KEYS.join(', ')} to its [containers] table yourself`,
    );
  }
  // Before podman runs: a file it cannot parse makes podman itself fail, with a less direct message.
  const files = podmanConfFiles();
  let version: string;
  try {
    version = (await runCommand('podman', ['--version'])).trim();
  } catch (e) {
    if (e instanceof CommandError && e.code === 'ENOENT')
      throw new SetupError('podman is not installed (no `podman` on PATH): install Podman first, e.g. apt-get install podman');
    throw new SetupError(`podman does not run: ${(e as Error).message}`);
  }
  const major = Number(/(\d+)\.\d+/.exec(version)?.[1]);
  if (!(major >= MIN_PODMAN_MAJOR)) throw new SetupError(`${version}: Podman ${MIN_PODMAN_MAJOR} or later is needed (older Podman reads no containers.conf.d)`);
  return files;
}

/** `dir` and the ancestors that do not exist yet, outermost first. */
function missingDirs(dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) out.unshift(d);
  return out;
}
