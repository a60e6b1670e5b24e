// The hosts data: the file (re-read when its size or mtime changes, every
// `reload` interval) merged with the Corefile's inline lines.

import { readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { Logger } from '../../src/log.js';
import { emptyHosts, entryCount, lookup, parseHosts, type HostsMap } from './hostsfile.js';

export interface SourceOptions {
  path: string;
  zones: string[];
  reverse: boolean;
  /** Poll interval in ms; 0 reads the file once. */
  reloadMs: number;
}

export class HostsSource {
  private file: HostsMap = emptyHosts();
  private version = '';
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    private readonly opts: SourceOptions,
    private readonly inline: HostsMap,
    private readonly log: Logger,
  ) {}

  /** Reads the file now (so the first query is served from it) and starts polling. */
  start(): void {
    try {
      const s = statSync(this.opts.path);
      this.apply(readFileSync(this.opts.path, 'utf8'), versionOf(s));
    } catch (err) {
      this.missing(err);
    }
    if (this.opts.reloadMs > 0) {
      this.timer = setInterval(() => void this.poll(), this.opts.reloadMs);
      this.timer.unref();
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }

  v4(qname: string): string[] {
    return [...lookup(this.file.v4, this.file.wild4, qname), ...lookup(this.inline.v4, this.inline.wild4, qname)];
  }

  v6(qname: string): string[] {
    return [...lookup(this.file.v6, this.file.wild6, qname), ...lookup(this.inline.v6, this.inline.wild6, qname)];
  }

  names(address: string): string[] {
    return [...(this.file.byAddress.get(address) ?? []), ...(this.inline.byAddress.get(address) ?? [])];
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const version = versionOf(await stat(this.opts.path));
      if (version === this.version) return;
      this.apply(await readFile(this.opts.path, 'utf8'), version);
      this.log.info(`reloaded ${this.opts.path}: ${entryCount(this.file)} entries`);
    } catch (err) {
      this.missing(err);
    } finally {
      this.polling = false;
    }
  }

  private apply(text: string, version: string): void {
    this.file = parseHosts(text, this.opts.zones, this.opts.reverse);
    this.version = version;
  }

  /** A deleted file stops serving its entries; the inline ones stay. */
  private missing(err: unknown): void {
    if (this.version === 'missing') return;
    this.file = emptyHosts();
    this.version = 'missing';
    this.log.warn(`cannot read hosts file ${this.opts.path}: ${(err as Error).message}`);
  }
}

function versionOf(s: { size: number; mtimeMs: number; ino: number }): string {
  return `${s.ino}:${s.size}:${s.mtimeMs}`;
}
