// systemd readiness for real: the server, started with NOTIFY_SOCKET as a
// Type=notify unit starts it, sends READY=1 only once it answers DNS (a query
// sent the moment READY=1 arrives is answered), RELOADING=1 then READY=1
// around a SIGUSR1 reload, and STOPPING=1 on SIGTERM. With workers, only the
// primary speaks, after every worker serves. Needs python3 (the socket) and
// systemd-notify.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dig } from './helpers/dig.js';
import { listenNotifySocket, type NotifySocket } from './helpers/notify-socket.js';
import { freePorts } from './helpers/ports.js';
import { startServer, type RunningServer } from './helpers/server.js';

/** The DNS ports with -workers 1, with -workers 2, and without NOTIFY_SOCKET. */
const [PORT_1, PORT_2, PORT_UNNOTIFIED] = await freePorts(3);
const REGISTRY = `services:
  - name: web
    namespace: notify
    endpoints:
      - { name: web-0, address: 10.0.9.1 }
`;

/** The messages a manager would act on: the barriers systemd-notify adds are transport. */
function states(sock: NotifySocket): string[] {
  return sock.messages.filter((m) => m !== 'BARRIER=1').map((m) => m.split('\n')[0]!);
}

for (const [workers, port] of [
  [1, PORT_1],
  [2, PORT_2],
] as const) {
  describe(`sd_notify with -workers ${workers}`, () => {
    let sock: NotifySocket | undefined;
    let server: RunningServer | undefined;
    after(async () => {
      await server?.stop();
      await sock?.close();
    });

    test('READY=1 arrives once the DNS port answers', async () => {
      sock = await listenNotifySocket();
      server = await startServer({
        corefile: `cluster.local:${port} {\n  bind 127.0.0.1\n  cluster { registry {{dir}}/services.yaml }\n}\n`,
        files: { 'services.yaml': REGISTRY },
        args: ['-quiet', '-workers', String(workers)],
        env: { NOTIFY_SOCKET: sock.path },
        ready: /(?:)/, // -quiet prints nothing: READY=1 is the only sign of readiness we wait for
      });
      assert.equal(await sock.next(/^READY=1$/), 'READY=1');
      const r = await dig(port, 'web.notify.cluster.local');
      assert.equal(r.status, 'NOERROR', r.raw);
      assert.deepEqual(
        r.answer.map((a) => a.data),
        ['10.0.9.1'],
      );
      assert.deepEqual(states(sock), ['READY=1']);
    });

    test('SIGUSR1 reload is bracketed by RELOADING=1 and READY=1', async () => {
      server!.proc.kill('SIGUSR1');
      await sock!.next(/^READY=1$/);
      assert.deepEqual(states(sock!), ['READY=1', 'RELOADING=1', 'READY=1']);
      assert.match(
        sock!.messages.find((m) => m.startsWith('RELOADING=1'))!,
        /\nMONOTONIC_USEC=\d+$/,
      );
    });

    test('SIGTERM sends STOPPING=1 and the process exits cleanly', async () => {
      assert.equal(await server!.stop('SIGTERM'), 0);
      assert.deepEqual(states(sock!), ['READY=1', 'RELOADING=1', 'READY=1', 'STOPPING=1']);
    });
  });
}

test('without NOTIFY_SOCKET nothing is sent and the server still serves', async () => {
  const server = await startServer({
    corefile: `cluster.local:${PORT_UNNOTIFIED} {\n  bind 127.0.0.1\n  cluster { registry {{dir}}/services.yaml }\n}\n`,
    files: { 'services.yaml': REGISTRY },
    env: { NOTIFY_SOCKET: '' },
  });
  try {
    assert.equal((await dig(PORT_UNNOTIFIED, 'web.notify.cluster.local')).status, 'NOERROR');
    assert.doesNotMatch(server.output(), /sd_notify/);
  } finally {
    await server.stop();
  }
});
