import { dataPaths } from '../paths';
import { pendingInboxFiles } from '../inbox/names';
import type { WorkerStatus } from '../protocol';
import { readStatus } from '../status';
import { workerAlive } from '../worker/pidfile';
import { playsStatusLines, type PlaysStatus } from '../plays/scheduler';

export type { WorkerStatus };

export interface StatusView {
  snapshot: Partial<WorkerStatus> & { alive: boolean; inboxWaiting: number };
  lines: string[];
}

/** The worker's last snapshot, read without the store's lock; undefined when missing or unreadable. */
export async function readWorkerStatus(dataDir: string): Promise<WorkerStatus | undefined> {
  return readStatus(dataPaths(dataDir).statusFile);
}

const ago = (ms: number) => (ms < 90_000 ? `${Math.round(ms / 1000)} s` : ms < 5_400_000 ? `${Math.round(ms / 60_000)} min` : `${(ms / 3_600_000).toFixed(1)} h`);
const when = (t: number) => new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');

/** The status snapshot plus a short human report of it. */
export async function readStatusSnapshot(dataDir: string, now = Date.now()): Promise<StatusView> {
  const paths = dataPaths(dataDir);
  const raw = await readWorkerStatus(dataDir);
  const alive = workerAlive(paths.pidFile) !== undefined;
  const snapshot = { ...raw, alive, inboxWaiting: await pendingInboxFiles(paths) };
  const lines: string[] = [];
  if (!raw) {
    lines.push('PlexCourier has not run yet: no queue status exists (it appears after the first scene edit or task).');
  } else {
    const c = raw.counts;
    lines.push(
      `Queue: ${c.ready + c.delayed} waiting (${c.ready} ready, ${c.delayed} waiting to retry), ${c.active} in progress, ${c.dlq} in the DLQ, ${c.done} done recently`,
    );
  }
  if (snapshot.inboxWaiting > 0) lines.push(`Inbox: ${snapshot.inboxWaiting} event(s) not yet taken in by the worker`);
  const dlq = Object.entries(raw?.dlqByClass ?? {});
  if (dlq.length) {
    lines.push(`DLQ by error: ${dlq.map(([k, n]) => `${n} ${k}`).join(', ')}`);
    for (const e of (raw?.dlqExamples ?? []).slice(0, 5)) lines.push(`  scene ${e.sceneId} (${e.errorClass}): ${e.message}`);
  }
  if (raw?.paused) lines.push(`PAUSED since ${when(raw.paused.since)}: ${raw.paused.reason}`);
  if (raw?.config?.problem) lines.push(`Not syncing: ${raw.config.problem}`);
  if (raw?.breaker) {
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
  lines.push(...playsStatusLines(raw?.plays, now));
  for (const e of (raw?.lastErrors ?? []).slice(0, 3)) lines.push(`Recent error: scene ${e.sceneId} (${e.class}) ${ago(now - e.at)} ago: ${e.message}`);
  if (alive && raw && !raw.exiting) lines.push(`Worker: running (pid ${raw.pid}, heartbeat ${ago(now - raw.heartbeatAt)} ago)`);
  else lines.push(`Worker: not running${raw ? ` (status from ${ago(now - raw.heartbeatAt)} ago)` : ''}; the next scene edit or task starts it`);
  return { snapshot, lines };
}
