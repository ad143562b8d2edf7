import type { DlqEntry } from '../queue/types';
import { readStatusSnapshot } from '../tasks/status';
import { askQuery } from './ask';
import { plexWebUrl } from './plex-web';
import type { OperationHandler } from './index';
import type { UiFailedGroup, UiStatus, WorkerState } from './ui-types';

/** The failed scenes' Plex items, from the worker's sync records; skipped (left unknown) if it does not answer in a second. */
async function addPlexItems(ctx: Parameters<OperationHandler>[0], groups: UiFailedGroup[]): Promise<void> {
  const entries = groups.flatMap((g) => g.entries);
  const r = await askQuery(ctx, { query: 'plex_items', sceneIds: entries.map((e) => e.sceneId) }, 1_000);
  if (typeof r === 'string' || !r.ok || !r.data) return;
  const d = r.data as { items: Record<string, string>; plexUrl: string | null; machineIdentifier: string | null };
  for (const e of entries) {
    const rk = d.items[e.sceneId];
    if (!rk) continue;
    e.ratingKey = rk;
    e.plexWebUrl = d.plexUrl && d.machineIdentifier ? plexWebUrl(d.plexUrl, d.machineIdentifier, rk) : null;
  }
}

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
  // The worker writes whole DLQ entries in both fields (status.json's schema only checks the fields it names).
  const published = (Array.isArray(s.dlq) ? s.dlq : (s.dlqExamples ?? [])) as DlqEntry[];
  const groups = new Map<string, UiFailedGroup>();
  for (const [errorClass, count] of Object.entries(s.dlqByClass ?? {})) groups.set(errorClass, { errorClass, count, entries: [] });
  for (const e of published) {
    const g = groups.get(e.errorClass) ?? { errorClass: e.errorClass, count: 0, entries: [] };
    groups.set(e.errorClass, g);
    g.entries.push({ sceneId: e.sceneId, message: e.message, attempts: e.attempts, failedAt: e.failedAt, ratingKey: null, plexWebUrl: null });
  }
  if (running && published.length > 0) await addPlexItems(ctx, [...groups.values()]);
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
