import type { Op, QueueState, Transition } from '../state';
import type { Job } from '../types';

/** An active job goes back to its place in the ready order, no attempt consumed (a worker stopping, a round put back). */
export function release(q: QueueState, ref: Pick<Job, 'id'>, now: number): Transition {
  const job = q.mustActive(ref, 'release');
  const ops: Op[] = [];
  q.requeueAfterRun(job, now, undefined, ops);
  return { ops, sync: true, result: undefined };
}
