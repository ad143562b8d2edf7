import * as K from '../keys';
import { seenOp } from '../seen';
import { clampTime, minPriority, type Op, type QueueState, type Transition } from '../state';
import type { EnqueueRequest, EnqueueSummary, Job, SceneEvent } from '../types';
import { removeSceneOps } from './remove';

/**
 * Ingestion: enqueues and removals in arrival order, plus the inbox files' ingest markers, in one
 * synced batch (an event is never lost, and never turned into jobs twice).
 */
export function enqueue(q: QueueState, events: SceneEvent[], ingestedIds: string[], now: number): Transition<EnqueueSummary> {
  const ops: Op[] = [];
  const summary: EnqueueSummary = { created: 0, updated: 0, rerun: 0, revived: 0, removed: 0 };
  for (const event of events) {
    if (event.kind === 'enqueue') addRequest(q, event.request, now, ops, summary);
    else removeSceneOps(q, event.sceneId, ops, summary);
  }
  for (const name of ingestedIds) ops.push(seenOp(name, now));
  return { ops, sync: true, result: summary };
}

/**
 * One request for a scene (one job per scene, latest wins):
 * - scene waiting: higher priority kept, newest trigger, force OR-ed. A ready job stays ready (it moves
 *   to the tail of its new priority if raised). A delayed job that failed or was deferred keeps its run
 *   time; one that was merely scheduled (runAt) takes the earlier time.
 * - scene active: `rerun` is set (merged the same way); see complete, retry and dead-letter for its fate.
 * - scene in the DLQ: the DLQ entry is removed and a fresh job starts (attempts 0).
 */
export function addRequest(q: QueueState, req: EnqueueRequest, now: number, ops: Op[], summary: EnqueueSummary): void {
  const runAt = clampTime(req.runAt ?? now);
  const force = req.force ?? false;
  const existingId = q.byScene.get(req.sceneId);
  const existing = existingId === undefined ? undefined : q.jobs.get(existingId);
  if (existing) {
    if (existing.state === 'active') {
      const prev = existing.rerun;
      existing.rerun = {
        priority: prev ? minPriority(prev.priority, req.priority) : req.priority,
        trigger: req.trigger,
        force: (prev?.force ?? false) || force,
      };
      delete existing.removed;
      summary.rerun++;
    } else {
      const priority = minPriority(existing.priority, req.priority);
      existing.trigger = req.trigger;
      existing.force = existing.force || force;
      // A job waiting out a failure or an open breaker keeps its time; a merely scheduled one runs at the earlier time.
      const failed = existing.attempts > 0 || existing.deferredReason !== undefined || existing.crashCount > 0;
      if (existing.state === 'ready') {
        if (priority !== existing.priority) {
          q.unplace(existing, ops);
          existing.priority = priority;
          q.placeReady(existing, now, ops);
        }
      } else if (!failed && runAt < existing.nextRunAt) {
        q.unplace(existing, ops);
        existing.priority = priority;
        if (runAt <= now) q.placeReady(existing, now, ops);
        else q.placeDelayed(existing, runAt, ops);
      } else {
        existing.priority = priority;
      }
      summary.updated++;
    }
    existing.updatedAt = now;
    q.putJob(existing, ops);
    return;
  }
  const dlqPart = q.dlqByScene.get(req.sceneId);
  if (dlqPart !== undefined) {
    q.deleteDlq(dlqPart, req.sceneId, ops);
    summary.revived++;
  }
  const seq = q.nextSeq();
  const job: Job = {
    id: K.jobIdOf(seq),
    sceneId: req.sceneId,
    priority: req.priority,
    trigger: req.trigger,
    force,
    attempts: 0,
    crashCount: 0,
    nextRunAt: runAt,
    createdAt: now,
    updatedAt: now,
    state: 'ready',
    seq,
  };
  q.addJob(job, ops);
  if (runAt <= now) q.placeReady(job, now, ops, seq);
  else q.placeDelayed(job, runAt, ops, seq);
  q.putJob(job, ops);
  summary.created++;
}
