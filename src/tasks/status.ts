import fs from 'node:fs';
import { dataPaths } from '../paths';
import { workerAlive } from '../worker/pidfile';

/** status.json as the worker writes it (src/worker/engine.ts `snapshot`); every part optional, since an old or torn file must not break a status call. */
export interface StatusSnapshot {
  worker?: { pid: number; heartbeatAt: number } | null;
  counts?: { ready: number; delayed: number; active: number; dlq: number; done: number };
  dlqByClass?: Record<string, number>;
  dlqExamples?: { sceneId: string; errorClass?: string; message?: string; error?: { class: string; message: string } }[];
  oldestWaiting?: unknown;
  config?: { ready: boolean; problem: string | null; plexUrl: string | null; stash: string | null };
  breaker?: { state: string; nextProbeAt: number | null; outages: { start: number; end?: number; jobsWaiting?: number }[] };
  paused?: { reason: string; since: number } | null;
  lastErrors?: { sceneId: string; class: string; message: string; at: number }[];
  session?: Record<string, number>;
  [key: string]: unknown;
}

export interface StatusView {
  snapshot: StatusSnapshot & { alive: boolean; inboxWaiting: number; statusAgeMs: number | null };
  lines: string[];
}

export function readStatusFile(dataDir: string): StatusSnapshot | undefined {
  try {
    return JSON.parse(fs.readFileSync(dataPaths(dataDir).statusFile, 'utf8')) as StatusSnapshot;
  } catch {
    return undefined;
  }
}

export function inboxWaiting(dataDir: string): number {
  try {
    return fs.readdirSync(dataPaths(dataDir).inboxNew).filter((n) => /\.(event|cmd)$/.test(n)).length;
  } catch {
    return 0;
  }
}

const ago = (ms: number) => (ms < 90_000 ? `${Math.round(ms / 1000)} s` : ms < 5_400_000 ? `${Math.round(ms / 60_000)} min` : `${(ms / 3_600_000).toFixed(1)} h`);
const when = (t: number) => new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');

/** The status snapshot plus a short human report of it. */
export function readStatusSnapshot(dataDir: string, now = Date.now()): StatusView {
  const paths = dataPaths(dataDir);
  const raw = readStatusFile(dataDir) ?? {};
  const alive = workerAlive(paths.pidFile) !== undefined;
  let statusAgeMs: number | null = null;
  try {
    statusAgeMs = now - fs.statSync(paths.statusFile).mtimeMs;
  } catch {
    statusAgeMs = null;
  }
  const snapshot = { ...raw, alive, inboxWaiting: inboxWaiting(dataDir), statusAgeMs };
  const lines: string[] = [];
  const c = raw.counts;
  if (!c) {
    lines.push('PlexSync has not run yet: no queue status exists (it appears after the first scene edit or task).');
  } else {
    lines.push(
      `Queue: ${c.ready + c.delayed} waiting (${c.ready} ready, ${c.delayed} waiting to retry), ${c.active} in progress, ${c.dlq} in the DLQ, ${c.done} done recently`,
    );
  }
  if (snapshot.inboxWaiting > 0) lines.push(`Inbox: ${snapshot.inboxWaiting} event(s) not yet taken in by the worker`);
  const dlq = Object.entries(raw.dlqByClass ?? {});
  if (dlq.length) {
    lines.push(`DLQ by error: ${dlq.map(([k, n]) => `${n} ${k}`).join(', ')}`);
    for (const e of (raw.dlqExamples ?? []).slice(0, 5)) {
      const cls = e.error?.class ?? e.errorClass ?? '?';
      const msg = e.error?.message ?? e.message ?? '';
      lines.push(`  scene ${e.sceneId} (${cls}): ${msg}`);
    }
  }
  if (raw.paused) lines.push(`PAUSED since ${when(raw.paused.since)}: ${raw.paused.reason}`);
  if (raw.config?.problem) lines.push(`Not syncing: ${raw.config.problem}`);
  if (raw.breaker) {
    const b = raw.breaker;
    lines.push(
      b.state === 'closed'
        ? 'Plex connection: healthy (breaker closed)'
        : `Plex connection: breaker ${b.state}${b.nextProbeAt ? `, next probe ${when(b.nextProbeAt)}` : ''}`,
    );
    for (const o of (b.outages ?? []).slice(-3)) {
      lines.push(`  outage ${when(o.start)} → ${o.end ? when(o.end) : 'ongoing'}${o.jobsWaiting !== undefined ? `, ${o.jobsWaiting} job(s) waiting` : ''}`);
    }
  }
  for (const e of (raw.lastErrors ?? []).slice(0, 3)) lines.push(`Recent error: scene ${e.sceneId} (${e.class}) ${ago(now - e.at)} ago: ${e.message}`);
  if (alive && raw.worker) lines.push(`Worker: running (pid ${raw.worker.pid}, heartbeat ${ago(now - raw.worker.heartbeatAt)} ago)`);
  else lines.push(`Worker: not running${statusAgeMs !== null ? ` (status from ${ago(statusAgeMs)} ago)` : ''}; the next scene edit or task starts it`);
  return { snapshot, lines };
}
