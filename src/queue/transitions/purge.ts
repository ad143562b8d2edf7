import type { Op, QueueState, Transition } from '../state';
import type { DlqEntry, DlqFilter } from '../types';

/**
 * Purge Old DLQ Entries: drops DLQ entries that failed more than `olderThanMs` ago (default: the
 * retention from the settings), then the oldest beyond `maxEntries` (default: the cap); returns how many.
 */
export function purgeDlq(q: QueueState, opts: { olderThanMs?: number; maxEntries?: number }, now: number): Transition<number> {
  const ops: Op[] = [];
  const n = trimDlq(q, { olderThanMs: opts.olderThanMs ?? q.limits.dlqMaxAgeMs, maxEntries: opts.maxEntries ?? q.limits.dlqMaxEntries }, now, ops);
  return { ops, sync: true, result: n };
}

/** Oldest first: entries past the age (none while it is unknown), then any beyond the cap. */
export function trimDlq(q: QueueState, opts: { olderThanMs: number | undefined; maxEntries: number }, now: number, ops: Op[]): number {
  let n = 0;
  const cutoff = opts.olderThanMs === undefined ? -Infinity : now - opts.olderThanMs;
  for (let head = q.dlq.first(); head; head = q.dlq.first()) {
    const [part, entry] = head;
    if (entry.failedAt >= cutoff && q.dlq.size <= opts.maxEntries) break;
    q.deleteDlq(part, entry.sceneId, ops);
    n++;
  }
  return n;
}

/** DLQ entries matching a filter, oldest first, with their index parts. */
export function selectDlq(q: QueueState, filter: DlqFilter): [string, DlqEntry][] {
  const limit = filter.limit ?? Infinity;
  const out: [string, DlqEntry][] = [];
  if (limit <= 0) return out;
  const scenes = filter.sceneIds ? new Set(filter.sceneIds) : undefined;
  for (const [part, entry] of q.dlq.entries()) {
    if (filter.errorClass !== undefined && entry.errorClass !== filter.errorClass) continue;
    if (scenes && !scenes.has(entry.sceneId)) continue;
    out.push([part, entry]);
    if (out.length >= limit) break;
  }
  return out;
}
