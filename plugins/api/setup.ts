// `api { listen ADDRESS[:PORT]; token_file FILE; state DIR|off }`: the service
// discovery HTTP API. No DNS handler; it serves HTTP beside the DNS listeners.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { argCount, onlyDirective, pluginError, subdirectives, unknownSubdirective } from '../../src/corefile/args.js';
import { CorefileError, type Token } from '../../src/corefile/types.js';
import { parseIpPort, type HostPort } from '../../src/util/hostport.js';
import { acquireApi, type ApiLease } from '../../src/api/hub.js';
import { checkWritable, openRegistrations, type Registrations } from '../../src/api/persist.js';

export const DEFAULT_LISTEN: HostPort = { host: '127.0.0.1', port: 8080 };

export const plugin: PluginDef = {
  name: 'api',
  scope: 'control',
  setup(c: SetupContext): void {
    const d = onlyDirective(c.directives);
    argCount(d, 0);
    let listen = DEFAULT_LISTEN;
    let token: string | undefined;
    let state: Token | undefined;
    for (const sub of subdirectives(d)) {
      switch (sub.name.text) {
        case 'listen': {
          const tok = argCount(sub, 1)[0]!;
          try {
            listen = parseIpPort(tok.text, DEFAULT_LISTEN.port);
          } catch (e) {
            throw pluginError('api', tok, `listen ${(e as Error).message}`);
          }
          break;
        }
        case 'token_file':
          token = readToken(argCount(sub, 1)[0]!);
          break;
        case 'state':
          state = argCount(sub, 1)[0]!;
          break;
        default:
          throw unknownSubdirective(d, sub);
      }
    }
    const app = c.app;
    const registrations = openState(app.options.stateDir, state);
    let lease: ApiLease | undefined;
    c.onStartup(async () => {
      try {
        if (registrations) await checkWritable(registrations);
      } catch (e) {
        throw new Error(`api: ${(e as Error).message}`);
      }
      lease = await acquireApi(app, listen.host, listen.port, { token, nodeName: app.options.nodeName });
    });
    c.onShutdown(async () => {
      await lease?.release();
      lease = undefined;
    });
    // The state file outlives every config; only the process's exit must wait for its last write.
    if (registrations) c.onFinalShutdown(() => registrations.idle());

    /**
     * `-state` beats the Corefile, which beats systemd's StateDirectory= (the
     * unit in deploy/ sets it). Without any, registrations live in memory only:
     * `npm start` and the tests must not share a directory behind their backs.
     * Loaded here, at setup, because gossip starts before this plugin does and
     * its first announcement should already carry them.
     */
    function openState(cli: string | undefined, tok: Token | undefined): Registrations | undefined {
      const env = process.env.STATE_DIRECTORY?.split(':')[0];
      const chosen = cli ?? (tok ? (tok.text === 'off' ? 'off' : resolve(dirname(tok.file), tok.text)) : env || undefined);
      if (chosen === undefined || chosen === 'off') return undefined;
      try {
        return openRegistrations(app, resolve(chosen));
      } catch (e) {
        const msg = `api: ${(e as Error).message}`;
        throw cli === undefined && tok ? CorefileError.at(tok, msg) : new Error(msg);
      }
    }
  },
};

/** The token is the file's content without surrounding whitespace; read at setup so a bad file fails the Corefile. */
function readToken(tok: Token): string {
  const file = resolve(dirname(tok.file), tok.text);
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw pluginError('api', tok, `token_file: ${(e as Error).message}`);
  }
  if (text === '' || /\s/.test(text)) throw pluginError('api', tok, `token_file ${file}: expected one token without spaces`);
  return text;
}
