// resolv.conf as an upstream list: its `nameserver` lines, in order.

/** The nameserver addresses in a resolv.conf text (comments and other options skipped). */
export function resolvConfNameservers(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const fields = line
      .replace(/[#;].*/, '')
      .trim()
      .split(/\s+/);
    if (fields[0] === 'nameserver' && fields[1]) out.push(fields[1]);
  }
  return out;
}
