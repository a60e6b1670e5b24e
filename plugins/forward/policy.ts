// The order in which upstreams are tried (CoreDNS forward/policy.go).

export const POLICIES = ['random', 'round_robin', 'sequential'] as const;
export type PolicyName = (typeof POLICIES)[number];

export interface Policy {
  order<T>(items: readonly T[]): readonly T[];
}

export function isPolicyName(s: string): s is PolicyName {
  return (POLICIES as readonly string[]).includes(s);
}

export function makePolicy(name: PolicyName): Policy {
  switch (name) {
    case 'random':
      return { order: shuffled };
    case 'round_robin': {
      let next = 0;
      return {
        order<T>(items: readonly T[]): readonly T[] {
          const start = next % items.length;
          next = start + 1;
          return [...items.slice(start), ...items.slice(0, start)];
        },
      };
    }
    case 'sequential':
      return { order: (items) => items };
  }
}

function shuffled<T>(items: readonly T[]): readonly T[] {
  if (items.length < 2) return items;
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
