// `forward FROM TO... { except NAMES...; force_tcp; prefer_udp; expire DUR;
// max_fails N; health_check DUR [no_rec] [domain FQDN]; policy NAME;
// max_concurrent N; read_timeout DUR }`; see README.md.

import type { App } from '../../src/app.js';
import { KeptForLife } from '../../src/chain/kept-across-reload.js';
import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { parseForward } from './config.js';
import { Forward, forwardHandler } from './forward.js';
import { forwardMetrics, type ForwardMetrics } from './metrics.js';
import { makePolicy } from './policy.js';
import { Upstream, type HealthEvents } from './upstream.js';

export const plugin: PluginDef = {
  name: 'forward',
  setup(c: SetupContext): void {
    const app = c.app;
    const metrics = forwardMetrics(app);
    const events = healthEvents(app, metrics);
    const log = app.pluginLog('forward');
    const forwards = c.directives.map((d) => {
      const cfg = parseForward(d, app.options.upstreams);
      for (const note of cfg.notes) log.info(note);
      const upstreams = cfg.to.map((addr) => new Upstream(addr, cfg.upstream, events));
      return new Forward(cfg.forward, upstreams, makePolicy(cfg.policy), metrics);
    });
    const serving = liveForwards(app);
    c.onStartup(() => {
      for (const f of forwards) serving.add(f);
    });
    c.onShutdown(() => {
      for (const f of forwards) {
        serving.delete(f);
        f.close();
      }
    });
    c.handler((next) => forwardHandler(forwards, next));
  },
};

function healthEvents(app: App, metrics: ForwardMetrics): HealthEvents {
  const log = app.pluginLog('forward');
  return {
    probeFailed: (u) => metrics.healthcheckFailures.inc({ to: u.label }),
    markedDown: (u) => log.warn(`upstream ${u.label} marked down after ${u.fails} failed health checks`),
    recovered: (u) => log.info(`upstream ${u.label} is healthy again`),
  };
}

// Every serving forward instance of the process (all server blocks), for
// readiness: ready while each of them has at least one healthy upstream.
const live = new KeptForLife<Set<Forward>>();

function liveForwards(app: App): Set<Forward> {
  return live.get(app, '', () => {
    const set = new Set<Forward>();
    app.readiness.set('forward', () => [...set].every((f) => f.healthy));
    return set;
  });
}
