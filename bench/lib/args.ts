// Command-line flags shared by bench/run.ts and the stand-alone scripts.

export const WORKLOADS = ['cluster', 'forward-cached', 'forward-miss', 'registry-scale', 'hotpath'] as const;
export type Workload = (typeof WORKLOADS)[number];

export interface Args {
  quick: boolean;
  workloads: Workload[];
  /** Seconds at full load per server. */
  seconds: number;
}

const USAGE = `usage: npm run bench -- [--quick] [--workload NAME]... [--seconds N]
  --quick          a few seconds per server: a smoke check of the whole harness
  --workload NAME  ${WORKLOADS.join(' | ')} (repeatable; default: all)
  --seconds N      seconds at full load per server (default 10, --quick 1)`;

export function parseArgs(argv: string[]): Args {
  let quick = false;
  let seconds: number | undefined;
  const workloads: Workload[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    switch (flag) {
      case '--quick':
        quick = true;
        break;
      case '--workload': {
        const w = value();
        if (!(WORKLOADS as readonly string[]).includes(w)) throw new Error(`unknown workload ${w}\n${USAGE}`);
        workloads.push(w as Workload);
        break;
      }
      case '--seconds': {
        const v = value();
        seconds = Number(v);
        if (!/^\d+$/.test(v) || seconds < 1 || seconds > 120) throw new Error(`--seconds: ${v} is not a whole number 1-120\n${USAGE}`);
        break;
      }
      case '-h':
      case '--help':
        process.stdout.write(USAGE + '\n');
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${argv[i]}\n${USAGE}`);
    }
  }
  return { quick, workloads: workloads.length > 0 ? workloads : [...WORKLOADS], seconds: seconds ?? (quick ? 1 : 10) };
}
