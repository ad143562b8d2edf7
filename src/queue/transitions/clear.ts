import type { Op, QueueState, Transition } from '../state';

/** Clear Queue: drops every ready and delayed job; active ones finish, without their pending rerun. Returns how many were dropped. */
export function clearQueue(q: QueueState): Transition<number> {
  const ops: Op[] = [];
  let dropped = 0;
  for (const job of [...q.jobs.values()]) {
    if (job.state === 'active') {
      if (job.rerun) {
        delete job.rerun;
        q.putJob(job, ops);
      }
      continue;
    }
    q.dropJob(job, ops);
    dropped++;
  }
  return { ops, sync: true, result: dropped };
}

/** Removes these scenes' DLQ entries without retrying them; returns how many. */
export function removeDlq(q: QueueState, sceneIds: readonly string[]): Transition<number> {
  const ops: Op[] = [];
  let removed = 0;
  for (const sceneId of sceneIds) {
    const part = q.dlqByScene.get(sceneId);
    if (part === undefined) continue;
    q.deleteDlq(part, sceneId, ops);
    removed++;
  }
  return { ops, sync: true, result: removed };
}

/** Clear DLQ: drops every DLQ entry; returns how many. */
export function clearDlq(q: QueueState): Transition<number> {
  const ops: Op[] = [];
  const entries = [...q.dlq.entries()];
  for (const [part, entry] of entries) q.deleteDlq(part, entry.sceneId, ops);
  return { ops, sync: true, result: entries.length };
}
