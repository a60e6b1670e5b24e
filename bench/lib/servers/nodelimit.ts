// The "Node limit" row: bench/node-limit.ts, what Node's dgram alone can do.

import { resolve } from 'node:path';
import { launchForeground, type ServerSpec } from './types.js';

const SCRIPT = resolve(import.meta.dirname, '../../node-limit.ts');

export function nodeLimit(port: number): ServerSpec {
  const spec: ServerSpec = {
    label: 'Node limit',
    version: `node ${process.version}`,
    role: 'limit',
    port,
    cpu: '0',
    note: 'one fixed answer to every query, no parsing',
    launch: (env) =>
      launchForeground(spec, env, process.execPath, ['--import', 'tsx', SCRIPT, String(port)], env.data[0]!.short, [], { NODE_ENV: 'production' }),
  };
  return spec;
}
