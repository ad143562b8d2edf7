import type { OldestWaiting, QueueStore } from '../queue/store';
import type { QueueCounts } from '../queue/types';

/** What status.json holds. Open: the worker adds its own fields (breaker state, last errors, version...). */
export interface StatusSnapshot {
  counts: QueueCounts;
  dlqByClass: Record<string, number>;
  oldestWaiting?: OldestWaiting;
  pid: number;
  /** When the worker last wrote this snapshot (ms). */
  heartbeatAt: number;
  [extra: string]: unknown;
}

/** A snapshot of the store's state plus the worker's extra fields. */
export function statusSnapshot(store: QueueStore, extra: Record<string, unknown> = {}, now: number = Date.now()): StatusSnapshot {
  const oldest = store.oldestWaiting();
  return {
    ...extra,
    counts: store.counts(),
    dlqByClass: store.dlqCountByClass(),
    ...(oldest ? { oldestWaiting: oldest } : {}),
    pid: process.pid,
    heartbeatAt: now,
  };
}
