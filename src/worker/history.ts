/**
 * Scenes synced and errors per minute over the last hour, for the chart on the PlexCourier page in
 * Stash. The engine feeds it the dispatcher's running totals each loop; it keeps the differences per
 * wall-clock minute, at most `minutes` buckets, so its size never grows with the queue.
 */
export interface MinuteBucket {
  /** Start of the minute (ms since the epoch). */
  at: number;
  synced: number;
  errors: number;
}

export interface RunningTotals {
  synced: number;
  unchanged: number;
  retried: number;
  deadLettered: number;
}

const MINUTE = 60_000;

export class MinuteHistory {
  private buckets: MinuteBucket[] = [];
  private last: { synced: number; errors: number } | undefined;

  constructor(private readonly minutes = 60) {}

  /** Carries over the buckets a previous worker published (status.json), so a restart keeps the hour's chart. */
  seed(buckets: unknown, now: number = Date.now()): void {
    if (!Array.isArray(buckets)) return;
    const oldest = now - now % MINUTE - (this.minutes - 1) * MINUTE;
    this.buckets = buckets
      .filter((b): b is MinuteBucket => typeof b?.at === 'number' && typeof b.synced === 'number' && typeof b.errors === 'number')
      .filter((b) => b.at >= oldest && b.at <= now)
      .map((b) => ({ at: b.at, synced: b.synced, errors: b.errors }))
      .sort((a, b) => a.at - b.at);
  }

  /** Records what changed in the totals since the previous call, in the minute of `now`. */
  record(totals: RunningTotals, now: number = Date.now()): void {
    // Unchanged scenes were checked and found in step: they count as synced for the user.
    const synced = totals.synced + totals.unchanged;
    const errors = totals.retried + totals.deadLettered;
    // The totals are the engine's since it started, so the first call counts from zero.
    const prev = this.last ?? { synced: 0, errors: 0 };
    this.last = { synced, errors };
    const at = now - (now % MINUTE);
    let bucket = this.buckets[this.buckets.length - 1];
    if (!bucket || bucket.at !== at) {
      bucket = { at, synced: 0, errors: 0 };
      this.buckets.push(bucket);
    }
    bucket.synced += Math.max(0, synced - prev.synced);
    bucket.errors += Math.max(0, errors - prev.errors);
    const oldest = at - (this.minutes - 1) * MINUTE;
    while (this.buckets.length && this.buckets[0]!.at < oldest) this.buckets.shift();
  }

  /** The buckets with activity in the last `minutes` minutes, oldest first (minutes with nothing are left out). */
  list(): MinuteBucket[] {
    return this.buckets.filter((b) => b.synced > 0 || b.errors > 0).map((b) => ({ ...b }));
  }
}
