// Which readiness reporters (app.readiness) are not ready. By default a
// plugin that was ready once is not asked again (CoreDNS `until-ready`).
// Degradations (app.degradations) are not readiness: a degraded node still
// answers, so it stays ready and only says why it is degraded.

export class Readiness {
  private readonly seenReady = new Set<string>();

  constructor(
    private readonly reporters: ReadonlyMap<string, () => boolean>,
    private readonly continuously: boolean,
    private readonly degradations: ReadonlyMap<string, () => string | undefined> = new Map(),
  ) {}

  /** Names of the plugins not ready now, sorted. */
  notReady(): string[] {
    const names: string[] = [];
    for (const [name, ready] of this.reporters) {
      if (!this.continuously && this.seenReady.has(name)) continue;
      if (ready()) this.seenReady.add(name);
      else names.push(name);
    }
    return names.sort();
  }

  /** `name: why` of every plugin that serves degraded now, sorted; asked on every request whatever the monitor mode. */
  degraded(): string[] {
    const out: string[] = [];
    for (const [name, why] of this.degradations) {
      const reason = why();
      if (reason !== undefined) out.push(`${name}: ${reason}`);
    }
    return out.sort();
  }
}
