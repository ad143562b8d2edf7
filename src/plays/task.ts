import { sendCommand, type TaskEnv } from '../tasks/link';
import { readWorkerStatus } from '../tasks/status';
import type { ImportSummary } from './importer';
import { summaryLine, type PlaysStatus } from './scheduler';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The Import Plex Plays task: asks the worker for a backfill of the whole Plex watch history and
 * follows it through status.json (`plays.running`, then `plays.last` with the same run id), showing
 * Stash a progress bar, until its report (applied, already applied, unmatched).
 */
export async function importPlaysTask(
  env: TaskEnv,
  opts: { maxMs?: number } = {},
): Promise<{ summary: string; data: Record<string, unknown>; error?: string }> {
  const r = await sendCommand(env, { name: 'import_plays' });
  const runId = typeof r.data?.runId === 'string' ? r.data.runId : undefined;
  if (!r.ok || !runId) return { summary: `Import Plex Plays: ${r.message}`, data: {}, error: r.message };
  env.log.info(`Reading the Plex watch history; plays of synced scenes are added to Stash once each`);
  const started = Date.now();
  const maxMs = opts.maxMs ?? 60 * 60_000;
  let lastLog = 0;
  for (;;) {
    await sleep(250);
    const status = await readWorkerStatus(env.dataDir);
    const plays = status?.plays as PlaysStatus | undefined;
    const last: ImportSummary | null | undefined = plays?.last;
    if (last?.runId === runId) {
      const line = summaryLine(last);
      for (const p of last.problems) env.log.warn(p);
      const data = {
        applied: last.applied,
        alreadyApplied: last.alreadyApplied,
        unmatched: last.unmatched,
        recovered: last.recovered,
        resumePoints: last.resumePoints,
        read: last.read,
        accounts: last.accounts,
      };
      for (const line of last.unmatchedExamples ?? []) env.log.info(`  ${line}`);
      if (last.unmatched > 0) env.log.info(`${last.unmatched} play(s) are of Plex items no synced scene matches; sync those scenes, then run this task again to import them`);
      return last.error ? { summary: line, data, error: last.error } : { summary: line, data };
    }
    const running = plays?.running;
    if (running?.runId === runId) {
      // Reading the history is the first tenth; applying the rows the rest.
      const fraction = running.total > 0 ? running.done / running.total : 0;
      env.log.progress(running.phase === 'reading' ? 0.1 * fraction : running.phase === 'applying' ? 0.1 + 0.85 * fraction : 0.95);
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        env.log.info(`Progress: ${running.phase} ${running.done}/${running.total}`);
      }
    }
    // A worker that died or left takes the request with it; the journal keeps every play it finished.
    const stale = !status || status.heartbeatAt < Date.now() - 60_000;
    if ((stale && Date.now() - started > 60_000) || (status && status.heartbeatAt >= started && status.exiting)) {
      const msg = 'the worker stopped before the import finished; run Import Plex Plays again to carry on (nothing is counted twice)';
      return { summary: `Import Plex Plays: ${msg}`, data: {}, error: msg };
    }
    if (Date.now() - started > maxMs) {
      const msg = `still importing after ${Math.round(maxMs / 60_000)} min; the worker carries on in the background (see Status)`;
      return { summary: `Import Plex Plays: ${msg}`, data: {}, error: msg };
    }
  }
}

/** The last import's counts, for a task's closing JSON line. */
export function playsCounts(last: ImportSummary | null | undefined): Record<string, unknown> | null {
  if (!last) return null;
  const { kind, finishedAt, applied, alreadyApplied, unmatched, recovered, resumePoints, error } = last;
  return { kind, finishedAt, applied, alreadyApplied, unmatched, recovered, resumePoints, ...(error ? { error } : {}) };
}
