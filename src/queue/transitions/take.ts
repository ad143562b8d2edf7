import * as K from '../keys';
import type { Op, QueueState, Transition } from '../state';
import type { Job } from '../types';

/**
 * Dispatch: promotes delayed jobs that are due, then marks up to `limit` ready jobs active (priority
 * first, then FIFO) and returns copies of them in that order.
 */
export function take(q: QueueState, limit: number, now: number): Transition<Job[]> {
  const ops: Op[] = [];
  promoteDue(q, now, ops);
  const taken: Job[] = [];
  while (taken.length < limit) {
    const head = q.ready.first();
    if (!head) break;
    const job = q.mustJob(head[1]);
    q.unplace(job, ops);
    q.placeActive(job, now, ops);
    q.putJob(job, ops);
    taken.push(structuredClone(job));
  }
  // ready→active need not be synced: a process crash loses nothing, and after power loss the job merely reruns (research §7).
  return { ops, sync: false, result: taken };
}

/** Delayed jobs whose time has come join the tail of the ready order. */
function promoteDue(q: QueueState, now: number, ops: Op[]): void {
  for (;;) {
    const head = q.delayed.first();
    if (!head || K.decodePart(head[0])[0] > now) return;
    const job = q.mustJob(head[1]);
    q.unplace(job, ops);
    q.placeReady(job, now, ops);
    q.putJob(job, ops);
  }
}
