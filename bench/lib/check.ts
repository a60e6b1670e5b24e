// Before measuring: does each server give the answers the workload expects?
// A mismatch is not an error (aardvark-dns has no SRV); it goes into the
// row's notes, so the table says what each server really served.

import { ask } from './probe.js';
import type { Env, ServerSpec } from './servers/types.js';
import { UPSTREAM_ZONE } from './data.js';

interface Expect {
  what: string;
  name: string;
  type: number;
  rcode: number;
  answers: number;
}

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];
const rcodeName = (r: number): string => RCODES[r] ?? `RCODE${r}`;

function expectations(env: Env): Expect[] {
  const s = env.data[0]!;
  const n = s.endpoints.length;
  const out: Expect[] = [
    { what: 'A', name: s.short, type: 1, rcode: 0, answers: n },
    { what: 'A (svc form)', name: s.long, type: 1, rcode: 0, answers: n },
  ];
  if (env.mode === 'cluster') {
    out.push(
      { what: 'AAAA', name: s.short, type: 28, rcode: 0, answers: 0 },
      { what: 'SRV', name: s.srv, type: 33, rcode: 0, answers: n },
      { what: 'missing name', name: `nosuch.${s.short}`, type: 1, rcode: 3, answers: 0 },
    );
  } else {
    out.push(
      { what: 'forwarded A', name: `h0.ext.${UPSTREAM_ZONE}`, type: 1, rcode: 0, answers: 1 },
      { what: 'forwarded wildcard A', name: `check.miss.${UPSTREAM_ZONE}`, type: 1, rcode: 0, answers: 1 },
    );
  }
  return out;
}

/** Differences from the expected answers, as short notes. */
export async function checkAnswers(spec: ServerSpec, env: Env): Promise<string[]> {
  const notes: string[] = [];
  for (const e of expectations(env)) {
    const a = await ask(spec.port, e.name, e.type, 2000);
    if (!a) notes.push(`${e.what}: no answer`);
    else if (a.rcode !== e.rcode || a.answers !== e.answers)
      notes.push(`${e.what}: ${rcodeName(a.rcode)} with ${a.answers} answers (expected ${rcodeName(e.rcode)} with ${e.answers})`);
  }
  return notes;
}
