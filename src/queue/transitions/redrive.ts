import type { Op, QueueState, Transition } from '../state';
import { PRIORITY, type DlqFilter, type EnqueueSummary, type Priority } from '../types';
import { addRequest } from './enqueue';
import { selectDlq } from './purge';

/** Process DLQ: fresh jobs for the selected DLQ entries (attempts reset, priority 0 by default); returns how many. */
export function redrive(q: QueueState, filter: DlqFilter & { priority?: Priority }, now: number): Transition<number> {
  const ops: Op[] = [];
  const selected = selectDlq(q, filter);
  const summary: EnqueueSummary = { created: 0, updated: 0, rerun: 0, revived: 0, removed: 0 };
  for (const [part, entry] of selected) {
    q.deleteDlq(part, entry.sceneId, ops);
    addRequest(q, { sceneId: entry.sceneId, priority: filter.priority ?? PRIORITY.userEdit, trigger: 'dlq-redrive', force: entry.force }, now, ops, summary);
  }
  return { ops, sync: true, result: selected.length };
}
