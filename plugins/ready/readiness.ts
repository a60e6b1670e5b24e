// Which readiness reporters (app.readiness) are not ready. By default a
// plugin that was ready once is not asked again (CoreDNS `until-ready`).

export class Readiness {
  private readonly seenReady = new Set<string>();

  constructor(
    private readonly reporters: ReadonlyMap<string, () => boolean>,
    private readonly continuously: boolean,
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
}
