import type { Op, QueueState, Transition } from '../state';

/**
 * Process Queue: every job waiting for its retry time (or an open breaker) becomes ready now, keeping
 * its attempts. Returns how many were promoted.
 */
export function promoteAll(q: QueueState, now: number): Transition<number> {
  const ops: Op[] = [];
  let promoted = 0;
  for (let head = q.delayed.first(); head; head = q.delayed.first()) {
    const job = q.mustJob(head[1]);
    q.unplace(job, ops);
    q.placeReady(job, now, ops);
    q.putJob(job, ops);
    promoted++;
  }
  return { ops, sync: true, result: promoted };
}
