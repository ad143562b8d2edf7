import { putRecordOp } from '../records';
import type { Op, QueueState, Transition } from '../state';
import type { DoneRecord, Job, SyncRecord } from '../types';

/**
 * The job ran: a done record is kept (and the scene's sync record, in the same batch, so a crash
 * cannot leave a half-recorded sync). If an event arrived while it ran, the scene starts over as a
 * fresh run; a scene removed meanwhile is dropped. Old done records are swept (TTL and cap).
 */
export function complete(q: QueueState, ref: Pick<Job, 'id'>, outcome: { summary: string; record?: SyncRecord }, now: number): Transition {
  const job = q.mustActive(ref, 'complete');
  const ops: Op[] = [];
  q.unplace(job, ops);
  const record: DoneRecord = {
    sceneId: job.sceneId,
    jobId: job.id,
    finishedAt: now,
    summary: outcome.summary,
    trigger: job.trigger,
    attempts: job.attempts,
  };
  q.insertDone(record, now, ops);
  if (outcome.record && !job.removed) ops.push(putRecordOp(job.sceneId, outcome.record));
  if (job.rerun && !job.removed) q.startFreshRun(job, job.rerun, now, ops);
  else q.dropJob(job, ops);
  sweepDone(q, now, ops);
  // Not fsynced: a process crash loses no LevelDB write (research §3.3), and after a power loss the job
  // is still active on disk, so it merely runs again — the writes it made are idempotent. Everything
  // that could lose an event (ingest, DLQ moves, retries) stays synced.
  return { ops, sync: false, result: undefined };
}

function sweepDone(q: QueueState, now: number, ops: Op[]): void {
  const cutoff = now - q.limits.doneTtlMs;
  for (let head = q.done.first(); head; head = q.done.first()) {
    const [part, record] = head;
    if (record.finishedAt >= cutoff && q.done.size <= q.limits.doneMaxEntries) break;
    q.deleteDone(part, record.sceneId, ops);
  }
}
