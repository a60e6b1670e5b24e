// The process's lifecycle, in one place and in the order things happen:
// start, reload, shutdown and fatal, for one process and for `-workers N`
// (the primary runs the control plugins and forks the DNS workers; each
// worker runs this same sequence for its own config). Plugins take part
// through the hooks of their SetupContext (src/chain/plugin.ts), as CoreDNS's
// do through caddy's controller.
//
// start     A worker first waits until its mirror of the primary's registry
//           is complete. The first config's OnStartup hooks, then its
//           listeners open (a primary opens none: it forks the workers and
//           waits until each listens). The "listening" line; READY=1.
// reload    SIGUSR1 (bracketed by RELOADING=1 ... READY=1), the reload
//           plugin, or in a worker the primary's word; one at a time.
//           OnRestart on the config serving; the Corefile is read and built,
//           its OnStartup hooks run and its new listeners open beside the old
//           config; routes swap; the old config's OnShutdown. Refused (a bad
//           Corefile, a hook or a listener that fails): counted, logged,
//           OnRestartFailed on the old config, which keeps serving. A
//           primary's workers reload after it, and only when it succeeded.
// shutdown  SIGTERM or SIGINT (in a worker: the primary's word). STOPPING=1;
//           the lameduck wait (still answering, /ready 503); the workers
//           stop; the listeners close; OnShutdown, then OnFinalShutdown; exit 0.
// fatal     A forwarding loop (the loop plugin): logged, exit 1 at once. A
//           worker tells the primary, which kills every worker first.

import type { App } from '../app.js';
import type { ProcessControl } from '../chain/plugin.js';
import { logRegistryChanges } from '../registry/change-log.js';
import { VERSION } from '../version.js';
import { announceListening, announceShutdown, announceStopped, dnsUrls } from './announce.js';
import { Instance, runHooks } from './instance.js';
import { sdNotifier, type Notifier } from './sd-notify.js';
import { followPrimary, reportFatal, reportStarted, startWorkers, type Workers } from './workers.js';

/** What a signal starts; see trapSignals. */
interface SignalTargets {
  shutdown(signal: string): void;
  reload(): void;
}

export interface Signals {
  /** From now on the signals go to `to`. */
  route(to: SignalTargets): void;
}

/**
 * Installs the handlers for SIGTERM, SIGINT and SIGUSR1. Call it before
 * anything else: without a handler, SIGUSR1 would open Node's inspector.
 * Until the server runs, SIGTERM and SIGINT exit at once and SIGUSR1 is
 * ignored.
 */
export function trapSignals(): Signals {
  let to: SignalTargets = { shutdown: () => process.exit(0), reload: () => {} };
  process.on('SIGTERM', () => to.shutdown('SIGTERM'));
  process.on('SIGINT', () => to.shutdown('SIGINT'));
  process.on('SIGUSR1', () => to.reload());
  return { route: (next) => (to = next) };
}

export class Lifecycle implements ProcessControl {
  private readonly instance: Instance;
  private readonly notify: Notifier;
  private workers: Workers | undefined;
  /** The start, then every reload, one after another; shutdown waits for the one in progress. */
  private serial: Promise<void> = Promise.resolve();
  private stopping = false;
  private stopRegistryLog = (): void => {};

  constructor(
    private readonly app: App,
    /** `-workers N`: how many DNS workers a primary forks. */
    private readonly workerCount: number,
  ) {
    this.instance = new Instance(app, this);
    this.notify = sdNotifier(app.log);
  }

  /** Starts serving, then takes the signals; exits with status 1 when the node cannot start. */
  async start(signals: Signals): Promise<void> {
    const { app } = this;
    const worker = app.options.role === 'worker';
    // Workers only mirror the primary's registry: the primary logs its changes, once.
    if (!worker) this.stopRegistryLog = logRegistryChanges(app.registry, app.log);
    this.serial = worker ? this.startWorker() : this.startNode();
    await this.serial;
    const addresses = this.instance.addresses();
    announceListening(app.log, VERSION, addresses, { workers: this.workerCount, inWorker: worker, udp: this.instance.udpPath() });
    if (!app.options.quiet && !worker) process.stdout.write(`${dnsUrls(addresses).join('\n')}\npodswarm-dns-${VERSION}\n`);
    // systemd Type=notify: every listener (or every worker's) is bound by now.
    void this.notify.ready();
    signals.route({
      shutdown: (signal) => void this.shutdown(signal),
      reload: () => void this.notify.reloading(this.reload()).catch(() => {}),
    });
  }

  /** Alone, or as a primary: the first config, then (a primary) the workers. */
  private async startNode(): Promise<void> {
    try {
      await this.instance.start();
      if (this.app.options.role === 'primary') this.workers = await startWorkers(this.app, this.workerCount, (message) => this.fatal(message));
    } catch (e) {
      this.app.log.fatal(`${(e as Error).message}`);
      process.exit(1);
    }
  }

  /** A DNS worker: serves nothing before its registry mirror is complete, and tells the primary how the start went. */
  private async startWorker(): Promise<void> {
    await followPrimary(this.app, { reload: () => void this.reload().catch(() => {}), stop: () => void this.shutdown() });
    try {
      await this.instance.start();
    } catch (e) {
      reportStarted(e as Error);
      process.exit(1);
    }
    reportStarted();
  }

  /** Applies the Corefile again; rejects when it is refused (logged and counted here), the old config still serving. */
  reload(): Promise<void> {
    // After the previous one: a refused reload must not refuse every later one.
    const next = this.serial.catch(() => {}).then(() => this.reloadNow());
    this.serial = next;
    return next;
  }

  private async reloadNow(): Promise<void> {
    const serving = this.instance.serving;
    // Stopped meanwhile: nothing to reload.
    if (!serving) return;
    const log = this.app.pluginLog('reload');
    try {
      await runHooks(serving.restart);
      await this.instance.apply(this.instance.load());
    } catch (err) {
      this.app.reloadFailures++;
      log.error(`reload refused, previous configuration still serving: ${(err as Error).message}`);
      await runHooks(serving.restartFailed);
      throw err;
    }
    log.info('reloaded configuration');
    // Each worker reloads on its own, after the primary: a Corefile the primary refused is never tried there.
    this.workers?.reload();
  }

  /** Stops gracefully and exits with status 0; a second call does nothing. `signal` is logged. */
  async shutdown(signal?: string): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const { app } = this;
    const worker = app.options.role === 'worker';
    if (signal !== undefined && !worker) announceShutdown(app.log, signal);
    await this.notify.stopping();
    const lameduckMs = this.instance.serving?.lameduckMs ?? 0;
    if (lameduckMs > 0) {
      // Still answering, but load balancers should move away: /ready says so.
      app.readiness.set('lameduck', () => false);
      app.pluginLog('health').info(`going into lameduck mode for ${lameduckMs / 1000}s`);
      await new Promise((r) => setTimeout(r, lameduckMs));
    }
    await this.workers?.stop();
    // Stopping drops every source: that is no change an operator needs a line for.
    this.stopRegistryLog();
    // A reload in progress could otherwise open listeners after they were closed here.
    await this.serial.catch(() => {});
    const last = this.instance.serving;
    await this.instance.stop();
    if (last) await runHooks(last.finalShutdown);
    if (!worker) announceStopped(app.log);
    process.exit(0);
  }

  /** Stops the node for good: exit status 1. A worker asks the primary, which kills every worker first. */
  fatal(message: string): void {
    if (this.app.options.role === 'worker') return reportFatal(message);
    this.workers?.kill();
    this.app.log.fatal(message);
    process.exit(1);
  }
}
