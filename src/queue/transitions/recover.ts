import type { Op, QueueState, Transition } from '../state';
import { deadLetterJob } from './dead-letter';
import { trimDlq } from './purge';

const POISON = 'poison';

/**
 * At open: jobs found active belong to a dead worker. The lock is exclusive and released by the
 * kernel, so no lease is needed (research §6.1). Each goes back to its place in the ready order, or
 * to the DLQ as poison once it has been in flight during `maxCrashes` crashes.
 */
export function recover(q: QueueState, now: number): Transition<number> {
  const ops: Op[] = [];
  const found = [...q.active];
  if (found.length === 0) return { ops, sync: true, result: 0 };
  for (const id of found) {
    const job = q.mustJob(id);
    job.crashCount += 1;
    if (job.crashCount >= q.limits.maxCrashes) {
      const message = `the worker crashed ${job.crashCount} times while syncing scene ${job.sceneId}; check the log for the cause, then run "Process DLQ"`;
      // A pending rerun would only crash the worker again: the scene waits in the DLQ for a redrive.
      delete job.rerun;
      deadLetterJob(q, job, { class: POISON, message }, job.attempts, now, ops);
    } else {
      q.requeueAfterRun(job, now, undefined, ops);
    }
  }
  trimDlq(q, { olderThanMs: q.limits.dlqMaxAgeMs, maxEntries: q.limits.dlqMaxEntries }, now, ops);
  return { ops, sync: true, result: found.length };
}
