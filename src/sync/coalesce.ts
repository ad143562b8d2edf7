/*
 * "A scene edited several times within a couple of seconds syncs once, with its final state."
 * Two mechanisms give this, and the second needs this helper:
 * 1. The queue keeps one job per scene, latest wins, and the worker hydrates the scene from Stash
 *    when it runs the job (ARCHITECTURE.md points 4-5), so however many events arrive, a job run
 *    sees the final state. An event during a run marks the job for exactly one more run.
 * 2. Debounce: a user edit job waits until `windowMs` (default 2 s) after the scene's latest event
 *    before it runs, so a burst (Save pressed twice, identify then a manual tweak, a plugin that
 *    updates a scene in several mutations) is still a burst when the job runs, and costs one
 *    run instead of a run plus a rerun. `maxWaitMs` bounds it so a scene edited in a steady stream
 *    still syncs. Bulk syncs (Sync All) skip the debounce: their jobs are not bursty and a delay
 *    there only slows the run. The worker passes the result as the enqueue `runAt`.
 */

export const DEFAULT_DEBOUNCE_MS = 2_000;
/** A scene edited without pause still syncs at least this often. */
export const DEFAULT_MAX_DEBOUNCE_MS = 10_000;

export interface DebounceTimes {
  /** When the first event of the pending job arrived (the job's `createdAt` while it has not run). */
  firstEventAt: number;
  /** When the latest event for the scene arrived. */
  lastEventAt: number;
}

/** The earliest time the job should run: `windowMs` after the latest event, never more than `maxWaitMs` after the first. */
export function debounceUntil(
  job: DebounceTimes,
  now: number,
  windowMs: number = DEFAULT_DEBOUNCE_MS,
  maxWaitMs: number = DEFAULT_MAX_DEBOUNCE_MS,
): number {
  if (windowMs <= 0) return now;
  const settled = job.lastEventAt + windowMs;
  const limit = job.firstEventAt + Math.max(maxWaitMs, windowMs);
  return Math.max(now, Math.min(settled, limit));
}
