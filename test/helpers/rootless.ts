// A throwaway non-root user with subordinate ids, and its rootless Podman
// run inside a test's network namespace with a containers.conf setup the test
// chooses (the user's own file and/or the system drop-ins Podman sees), never
// the machine's drop-ins. Needs root (useradd, nsenter, unshare, setpriv).
// See docs/rootless.md for why each step is there.

import { execFile } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from './eventually.js';

const run = promisify(execFile);

export interface RootlessUser {
  name: string;
  uid: number;
  home: string;
  /** Runs the user's `podman ARGS` in the namespace; resolves with stdout, fails with podman's stderr. */
  podman(...args: string[]): Promise<string>;
  /** Ends the user's Podman pause process and deletes the user, its home (storage) and subordinate ids. */
  destroy(): Promise<void>;
}

/**
 * Runs as root in a mount namespace of the command's own (private, so nothing
 * reaches the host), then `exec`s its arguments ($0 is the drop-in directory):
 * - /etc/containers/containers.conf.d shows only the test's drop-ins;
 * - when /dev/net/tun is root-only (no udev, whose rule makes it 0666, as on
 *   this VM), a 0666 node for it on a tmpfs, since slirp4netns opens it as
 *   the user;
 * - `/` is made shared again (new peer groups, not the host's), as rootless
 *   Podman wants.
 * Every call sets up the same view: Podman's pause process keeps the mount
 * namespace of the first call, and later calls join it.
 */
const MOUNTS = [
  'set -e',
  'mount -t tmpfs -o mode=755 tmpfs /etc/containers/containers.conf.d',
  'cp -r "$0"/. /etc/containers/containers.conf.d/',
  'if [ "$(stat -c %a /dev/net/tun)" != 666 ]; then mount -t tmpfs -o mode=755 tmpfs /dev/net; mknod -m 666 /dev/net/tun c 10 200; fi',
  'mount --make-rshared /',
  'exec "$@"',
].join('\n');

export interface RootlessSetup {
  /** ~/.config/containers/containers.conf, if any. */
  userConf?: string;
  /** What /etc/containers/containers.conf.d holds for this user's Podman: file name to contents. */
  systemDropins: Record<string, string>;
}

/** Creates user `name` whose Podman runs in the network namespace at `netnsPath` with the containers.conf files of `setup`. */
export async function createRootlessUser(name: string, netnsPath: string, setup: RootlessSetup): Promise<RootlessUser> {
  // Debian's useradd gives a new user 65536 subordinate uids and gids (SUB_UID_COUNT); userdel takes them back.
  await run('useradd', ['--create-home', '--shell', '/bin/sh', name]);
  let deleted = false;
  const uid = Number((await run('id', ['-u', name])).stdout.trim());
  const home = (await run('getent', ['passwd', name])).stdout.split(':')[5]!;
  // What pam_systemd would create at login; Podman keeps its runtime state (and pause.pid) there.
  const runtimeDir = `/run/user/${uid}`;
  const dropins = mkdtempSync(join(tmpdir(), 'psw-rootless-dropins-'));
  chmodSync(dropins, 0o755);
  for (const [file, text] of Object.entries(setup.systemDropins)) writeFileSync(join(dropins, file), text, { mode: 0o644 });
  const env = [`HOME=${home}`, `USER=${name}`, `LOGNAME=${name}`, `XDG_RUNTIME_DIR=${runtimeDir}`, 'PATH=/usr/sbin:/usr/bin:/sbin:/bin'];
  const user: RootlessUser = {
    name,
    uid,
    home,
    async podman(...args) {
      const argv = [
        `--net=${netnsPath}`,
        'unshare',
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        MOUNTS,
        dropins,
        'setpriv',
        '--reuid',
        String(uid),
        '--regid',
        String(uid),
        '--init-groups',
        'env',
        '-i',
        ...env,
        'podman',
        ...args,
      ];
      try {
        return (await run('nsenter', argv, { cwd: home, timeout: 120_000 })).stdout.trim();
      } catch (e) {
        // Podman's own error is on stderr; a container's failing command has its say on stdout.
        const err = e as { code?: number | string; stdout?: string; stderr?: string; message: string };
        throw new Error(`(as ${name}) podman ${args.join(' ')} failed (exit ${err.code}): ${err.stderr?.trim() || err.message}\nstdout:\n${err.stdout ?? ''}`);
      }
    },
    async destroy() {
      if (deleted) return;
      deleted = true;
      // The pause process holds the user's namespaces between podman calls; userdel refuses a user with processes.
      try {
        process.kill(Number(readFileSync(join(runtimeDir, 'libpod/tmp/pause.pid'), 'utf8')), 'SIGKILL');
      } catch {
        // no pause process: podman never ran
      }
      await eventually(
        async () => (await run('ps', ['-o', 'pid=', '-u', String(uid)]).catch(() => ({ stdout: '' }))).stdout.trim(),
        (out) => out === '',
        `${name}'s processes to end`,
        10_000,
      );
      rmSync(runtimeDir, { recursive: true, force: true });
      rmSync(dropins, { recursive: true, force: true });
      await run('userdel', ['--remove', name]).catch((e: { stderr?: string }) => {
        if (!/mail spool/.test(e.stderr ?? '')) throw e;
      });
    },
  };
  try {
    const subuid = readFileSync('/etc/subuid', 'utf8');
    if (!new RegExp(`^${name}:`, 'm').test(subuid)) throw new Error(`useradd gave ${name} no subordinate uids (/etc/subuid); rootless Podman needs them`);
    mkdirSync(runtimeDir, { recursive: true, mode: 0o700 });
    chownSync(runtimeDir, uid, uid);
    if (setup.userConf !== undefined) {
      const confDir = join(home, '.config', 'containers');
      mkdirSync(confDir, { recursive: true });
      writeFileSync(join(confDir, 'containers.conf'), setup.userConf);
      await run('chown', ['-R', `${name}:`, join(home, '.config')]);
    }
  } catch (err) {
    await user.destroy();
    throw err;
  }
  return user;
}

/** Copies root's `image` into the user's storage (no registry is reachable): `podman save` as root, `podman load` as the user. */
export async function copyImage(user: RootlessUser, image: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'psw-rootless-image-'));
  const tar = join(user.home, 'image.tar');
  try {
    await run('podman', ['save', '--quiet', '-o', join(dir, 'image.tar'), image]);
    await run('mv', [join(dir, 'image.tar'), tar]);
    chownSync(tar, user.uid, user.uid);
    chmodSync(tar, 0o600);
    await user.podman('load', '--quiet', '-i', tar);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(tar, { force: true });
  }
}
