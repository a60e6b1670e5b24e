// `podswarm-dns lookup NAME [TYPE]`: asks the node's DNS as a container
// would, and says which plugin answered (see answered-by.ts for how).

import { joinHostPort, parseIpPort, type HostPort } from '../util/hostport.js';
import { attribute, DEFAULT_METRICS_URL, metricsUrl, scrape, type AnsweredBy } from './answered-by.js';
import { COMMON_HELP, COMMON_OPTIONS, type Command } from './command.js';
import { DnsQueryError, QUERY_TYPES, queryDns, type DnsReply, type QueryType } from './dns-query.js';
import { CtlError, EXIT, usageError } from './exit.js';
import { printJson, table, type Output } from './table.js';

const DEFAULT_DNS = '127.0.0.1:53';

export const lookup: Command = {
  name: 'lookup',
  synopsis: 'podswarm-dns lookup NAME [TYPE] [--dns HOST:PORT] [--metrics URL] [--json]',
  help: `Asks the node's DNS for NAME (TYPE: ${QUERY_TYPES.join(' ')}; default A),
prints the answer and the plugin that wrote it: cluster or srv (the registry), hosts,
containers, forward (upstream), cache (a cached reply), ... It reads the node's
prometheus counter coredns_dns_responses_total{plugin} before and after the query,
so the server block needs the prometheus plugin; when other queries land in
between with another plugin it says the answer is ambiguous.
Exit 0 with records, 3 for NXDOMAIN or no records of TYPE, 1 for SERVFAIL,
REFUSED or no answer.
  --dns HOST:PORT     the node's DNS (default: $PODSWARM_DNS, else ${DEFAULT_DNS}; a node set up
                      with \`setup podman\` listens on 169.254.20.10:53)
  --metrics URL       the node's prometheus plugin (default ${DEFAULT_METRICS_URL.replace('/metrics', '')})
${COMMON_HELP}`,
  options: { ...COMMON_OPTIONS, dns: 'value', metrics: 'value' },
  args: { min: 1, max: 2 },
  async run(p, out) {
    const name = p.args[0]!;
    const type = (p.args[1] ?? 'A').toUpperCase() as QueryType;
    if (!QUERY_TYPES.includes(type)) throw usageError(`unsupported TYPE '${p.args[1]}' (one of ${QUERY_TYPES.join(', ')})`);
    const dnsText = p.values.get('dns') ?? process.env.PODSWARM_DNS ?? DEFAULT_DNS;
    let server: HostPort;
    try {
      server = parseIpPort(dnsText, 53);
    } catch (e) {
      throw usageError(`--dns ${(e as Error).message}: expected an IP address and port, e.g. 127.0.0.1:53 or [::1]:53`);
    }
    let metrics: string;
    try {
      metrics = metricsUrl(p.values.get('metrics'));
    } catch {
      throw usageError(`--metrics '${p.values.get('metrics')}' is not a URL or HOST:PORT`);
    }
    const before = await scrape(metrics).catch((e: Error) => e);
    const reply = await ask(server, name, type);
    const answeredBy: AnsweredBy =
      before instanceof Error
        ? { plugin: null, counted: {}, reason: `cannot read ${metrics} (${before.message}): point --metrics at the node's prometheus address` }
        : await scrape(metrics).then(
            (after) => attribute(before, after, name, server.port, reply.rcode),
            (e: Error) => ({ plugin: null, counted: {}, reason: `cannot read ${metrics} (${e.message})` }),
          );
    print(out, { name, type, server: joinHostPort(server.host, server.port), ...reply, answeredBy });
    if (reply.rcode === 'NXDOMAIN' || (reply.rcode === 'NOERROR' && reply.answers.length === 0)) return EXIT.NOT_FOUND;
    return reply.rcode === 'NOERROR' ? EXIT.OK : EXIT.ERROR;
  },
};

async function ask(server: HostPort, name: string, type: QueryType): Promise<DnsReply> {
  try {
    return await queryDns(server, name, type);
  } catch (e) {
    if (!(e instanceof DnsQueryError)) throw e;
    const at = joinHostPort(server.host, server.port);
    throw new CtlError(
      EXIT.ERROR,
      `no DNS answer from ${at}: ${e.message}. Is podswarm-dns serving there? Point --dns (or PODSWARM_DNS) at the node's DNS address, e.g. --dns 169.254.20.10:53`,
    );
  }
}

interface LookupResult extends DnsReply {
  name: string;
  type: string;
  server: string;
  answeredBy: AnsweredBy;
}

function print(out: Output, r: LookupResult): void {
  if (out.json) {
    printJson(out, r);
    return;
  }
  if (r.answers.length > 0) {
    for (const l of table(
      ['NAME', 'TTL', 'CLASS', 'TYPE', 'DATA'],
      r.answers.map((a) => [a.name, String(a.ttl), a.class, a.type, a.data]),
    ))
      out.line(l);
  }
  const by = r.answeredBy.plugin === null ? `unknown: ${r.answeredBy.reason}` : r.answeredBy.plugin || '(the server: no plugin wrote a reply)';
  out.line(`${r.rcode} from ${r.server} over ${r.proto} (flags: ${r.flags.join(' ')}), answered by ${by}`);
}
