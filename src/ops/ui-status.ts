import type { DlqEntry } from '../queue/types';
import { readStatusSnapshot } from '../tasks/status';
import type { OperationHandler } from './index';
import type { UiFailedGroup, UiStatus, WorkerState } from './ui-types';

function stashOutage(raw: unknown): UiStatus['stashOutage'] {
  if (typeof raw !== 'object' || raw === null) return null;
  const o = raw as { unreachableSince?: unknown; nextProbeAt?: unknown; message?: unknown };
  if (typeof o.unreachableSince !== 'number') return null;
  return { since: o.unreachableSince, nextProbeAt: typeof o.nextProbeAt === 'number' ? o.nextProbeAt : null, message: typeof o.message === 'string' ? o.message : 'Stash is not answering' };
}

/**
 * `ui_status`: everything the PlexCourier page shows, from what the worker publishes (status.json and
 * its pid file) — never the store. The counts are the very object `status --json` prints.
 */
export const uiStatusOperation: OperationHandler = async (ctx): Promise<UiStatus> => {
  const now = Date.now();
  const { snapshot: s } = await readStatusSnapshot(ctx.dataDir, now);
  const counts = s.counts ?? null;
  const running = s.alive && !s.exiting;
  // Retries waiting for their time are work in hand: the worker stays for them.
  const state: WorkerState = !running ? 'not_running' : counts && counts.ready + counts.active + counts.delayed > 0 ? 'running' : 'idle';
  const published = Array.isArray(s.dlq) ? (s.dlq as DlqEntry[]) : (s.dlqExamples ?? []);
  const groups = new Map<string, UiFailedGroup>();
  for (const [errorClass, count] of Object.entries(s.dlqByClass ?? {})) groups.set(errorClass, { errorClass, count, entries: [] });
  for (const e of published) {
    const g = groups.get(e.errorClass) ?? { errorClass: e.errorClass, count: 0, entries: [] };
    groups.set(e.errorClass, g);
    g.entries.push({ sceneId: e.sceneId, message: e.message, attempts: e.attempts, failedAt: e.failedAt });
  }
  for (const g of groups.values()) g.entries.sort((a, b) => b.failedAt - a.failedAt);
  const b = s.breaker;
  return {
    now,
    worker: { state, pid: running ? (s.pid ?? null) : null, heartbeatAt: s.heartbeatAt ?? null },
    counts,
    nextRetryAt: typeof s.nextRetryAt === 'number' ? s.nextRetryAt : null,
    inboxWaiting: s.inboxWaiting,
    breaker: b
      ? {
          state: b.state === 'open' || b.state === 'half_open' ? b.state : 'closed',
          nextProbeAt: b.nextProbeAt ?? null,
          outages: (b.outages ?? []).map((o) => ({ start: o.start, ...(o.end ? { end: o.end } : {}) })),
        }
      : null,
    paused: s.paused ?? null,
    stashOutage: stashOutage(s.stash),
    problem: s.config?.problem ?? null,
    history: Array.isArray(s.history) ? (s.history as UiStatus['history']) : [],
    failed: [...groups.values()].sort((x, y) => y.count - x.count || x.errorClass.localeCompare(y.errorClass)),
    lastErrors: s.lastErrors ?? [],
    session: s.session ?? null,
    plexUrl: s.config?.plexUrl ?? null,
  };
};
