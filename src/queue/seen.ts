import * as K from './keys';
import type { Op } from './state';
import type { StoreIo } from './records';

/**
 * Ingest markers (`seen!<inbox file name>`): an inbox file whose marker exists was already turned
 * into jobs, so ingesting it again after a crash between the batch and the unlink changes nothing.
 * The markers are written in the same batch as the jobs (transitions/enqueue.ts).
 */
export class SeenMarkers {
  constructor(
    private readonly io: StoreIo,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  /** Which of these inbox file names were already ingested. */
  async has(names: string[]): Promise<boolean[]> {
    this.io.usable();
    if (names.length === 0) return [];
    const values = await this.io.getMany(names.map(K.seenKey));
    return values.map((v) => v !== undefined);
  }

  /** Forgets markers older than the TTL; call after the inbox has been drained. */
  async sweep(): Promise<number> {
    this.io.usable();
    const cutoff = this.now() - this.ttlMs;
    if (cutoff <= 0) return 0;
    const ops: Op[] = [];
    // Inbox names start with 13-digit ms, so the markers sort by time.
    for await (const key of this.io.keys({ gte: K.prefix('seen'), lt: K.seenKey(String(cutoff).padStart(13, '0')) })) {
      ops.push({ type: 'del', key });
    }
    await this.io.commit(ops, false);
    return ops.length;
  }
}

export function seenOp(name: string, now: number): Op {
  return { type: 'put', key: K.seenKey(name), value: String(now) };
}
