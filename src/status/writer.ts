import { writeFileAtomic } from '../atomic-write';
import type { StatusSnapshot } from './snapshot';

export interface StatusWriterOptions {
  /** At most one write per this many ms; later updates are coalesced into the next write. Defaults to 1,000. */
  minIntervalMs?: number;
  /** Called with a write error (status is best effort: it never stops the worker). */
  onError?: (err: Error) => void;
}

/**
 * Writes status.json atomically (tmp + rename, so a reader never sees half a file) and at most about
 * once a second however often the worker updates it (research §6, "Status").
 */
export class StatusWriter {
  private pending: StatusSnapshot | undefined;
  private lastWriteAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly minInterval: number;
  /** How many times the file was written (for tests and the benchmark). */
  writes = 0;

  constructor(
    readonly file: string,
    private readonly opts: StatusWriterOptions = {},
  ) {
    this.minInterval = opts.minIntervalMs ?? 1000;
  }

  /** Records the latest snapshot; writes now if the last write is old enough, else once the interval has passed. */
  update(snapshot: StatusSnapshot): void {
    this.pending = snapshot;
    if (this.timer) return;
    const wait = this.lastWriteAt + this.minInterval - Date.now();
    if (wait <= 0) {
      void this.flush();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, wait);
    this.timer.unref();
  }

  /** Writes the pending snapshot now, if any. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const snapshot = this.pending;
    this.pending = undefined;
    if (!snapshot) return this.writing;
    this.lastWriteAt = Date.now();
    this.writing = this.writing.then(() => this.writeNow(snapshot)).catch((err: Error) => this.opts.onError?.(err));
    return this.writing;
  }

  /** Flushes and stops the timer. */
  async close(): Promise<void> {
    await this.flush();
  }

  private async writeNow(snapshot: StatusSnapshot): Promise<void> {
    // Not durable: it is rewritten every second, and a reader after a power cut just sees an older one.
    await writeFileAtomic(this.file, `${JSON.stringify(snapshot, null, 2)}\n`);
    this.writes++;
  }
}
