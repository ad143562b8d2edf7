import type { Op, QueueState, Transition } from '../state';
import type { ErrorInfo, Job } from '../types';

/**
 * A failed attempt that will be tried again at `at`: one attempt is consumed and the error kept.
 * (Which failures retry, and when, is decided by src/policy/backoff.ts.)
 */
export function retry(q: QueueState, ref: Pick<Job, 'id'>, at: number, error: ErrorInfo, now: number): Transition {
  const job = q.mustActive(ref, 'retry');
  const ops: Op[] = [];
  job.attempts += 1;
  job.firstFailureAt ??= now;
  job.lastError = { class: error.class, message: error.message };
  delete job.deferredReason;
  q.requeueAfterRun(job, now, at, ops);
  return { ops, sync: true, result: undefined };
}

/** Wait until `at` without consuming an attempt: Plex or Stash is down, or the queue is paused (research §6.4). */
export function defer(q: QueueState, ref: Pick<Job, 'id'>, at: number, reason: string, now: number): Transition {
  const job = q.mustActive(ref, 'defer');
  const ops: Op[] = [];
  job.deferredReason = reason;
  q.requeueAfterRun(job, now, at, ops);
  return { ops, sync: true, result: undefined };
}
