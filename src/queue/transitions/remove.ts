import { deleteRecordOp } from '../records';
import type { Op, QueueState } from '../state';
import type { EnqueueSummary } from '../types';

/**
 * A destroyed scene: its waiting job, DLQ entry and sync record go. An active job is marked
 * `removed` (its pending rerun dropped) and is dropped when it finishes, whatever the outcome.
 * Part of ingestion (transitions/enqueue.ts), so removals keep their place among the events.
 */
export function removeSceneOps(q: QueueState, sceneId: string, ops: Op[], summary: EnqueueSummary): void {
  const id = q.byScene.get(sceneId);
  const job = id === undefined ? undefined : q.jobs.get(id);
  if (job?.state === 'active') {
    job.removed = true;
    delete job.rerun;
    q.putJob(job, ops);
  } else if (job) {
    q.dropJob(job, ops);
  }
  const dlqPart = q.dlqByScene.get(sceneId);
  if (dlqPart !== undefined) q.deleteDlq(dlqPart, sceneId, ops);
  ops.push(deleteRecordOp(sceneId));
  summary.removed++;
}
