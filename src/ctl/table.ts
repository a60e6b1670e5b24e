// Output: aligned text tables for people, JSON for scripts (`--json`).

export interface Output {
  json: boolean;
  /** One line to stdout. */
  line(text: string): void;
  /** A remark for people, to stderr so stdout stays parseable. */
  note(text: string): void;
}

export const stdio = (json: boolean): Output => ({
  json,
  line: (text) => void process.stdout.write(`${text}\n`),
  note: (text) => void process.stderr.write(`${text}\n`),
});

/** Columns padded to their widest cell, two spaces apart; no trailing blanks. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [fmt(header), ...rows.map(fmt)];
}

export function printJson(out: Output, value: unknown): void {
  out.line(JSON.stringify(value, null, 2));
}
