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

/** Clear DLQ: drops every DLQ entry; returns how many. */
export function clearDlq(q: QueueState): Transition<number> {
  const ops: Op[] = [];
  const entries = [...q.dlq.entries()];
  for (const [part, entry] of entries) q.deleteDlq(part, entry.sceneId, ops);
  return { ops, sync: true, result: entries.length };
}
