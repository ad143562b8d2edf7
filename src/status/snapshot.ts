import type { QueueStore } from '../queue/store';
import type { WorkerStatus } from '../protocol';

/** What status.json holds: its shape and schema are in src/protocol.ts. */
export type StatusSnapshot = WorkerStatus;

/** The worker's own fields; the queue's come from the store. */
export type StatusExtra = Omit<WorkerStatus, 'counts' | 'dlqByClass' | 'oldestWaiting' | 'pid' | 'heartbeatAt'>;

/** A snapshot of the store's state plus the worker's extra fields. */
export function statusSnapshot(store: QueueStore, extra: StatusExtra = {}, now: number = Date.now()): StatusSnapshot {
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
