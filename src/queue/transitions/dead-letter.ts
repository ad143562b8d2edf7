import type { Op, QueueState, Transition } from '../state';
import type { DlqEntry, ErrorInfo, Job } from '../types';
import { trimDlq } from './purge';

/**
 * Move a failed job to the DLQ now; `attempts` in the entry counts this failure too. If an event
 * arrived while the job ran, the scene starts over as a fresh run instead (an event for a
 * dead-lettered scene would start one anyway), carrying this error as its lastError. The DLQ is then
 * trimmed to the retention and cap.
 */
export function deadLetter(q: QueueState, ref: Pick<Job, 'id'>, error: ErrorInfo, now: number): Transition {
  const job = q.mustActive(ref, 'dead-letter');
  const ops: Op[] = [];
  deadLetterJob(q, job, error, job.attempts + 1, now, ops);
  trimDlq(q, { olderThanMs: q.limits.dlqMaxAgeMs, maxEntries: q.limits.dlqMaxEntries }, now, ops);
  return { ops, sync: true, result: undefined };
}

/** The move itself, shared with crash recovery's poison rule (transitions/recover.ts). */
export function deadLetterJob(q: QueueState, job: Job, error: ErrorInfo, attempts: number, now: number, ops: Op[]): void {
  q.unplace(job, ops);
  if (job.removed) {
    q.dropJob(job, ops);
    return;
  }
  if (job.rerun) {
    q.startFreshRun(job, job.rerun, now, ops, error);
    return;
  }
  const entry: DlqEntry = {
    sceneId: job.sceneId,
    jobId: job.id,
    errorClass: error.class,
    message: error.message,
    attempts,
    crashCount: job.crashCount,
    priority: job.priority,
    trigger: job.trigger,
    force: job.force,
    createdAt: job.createdAt,
    failedAt: now,
    ...(job.firstFailureAt !== undefined ? { firstFailureAt: job.firstFailureAt } : {}),
  };
  q.dropJob(job, ops);
  q.insertDlq(entry, now, ops);
}
