import crypto from 'node:crypto';
import { dataPaths } from '../paths';
import { writeInboxFile } from '../inbox/write';
import { commandFile, takeCommandResult, type CommandBody, type CommandResult } from '../protocol';
import type { ServerConnection } from '../stash/input';
import type { StashLogger } from '../stash/log';
import { ensureWorker } from '../worker/spawn';
import { readWorkerStatus } from './status';

export interface TaskEnv {
  dataDir: string;
  entryFile: string;
  connection: ServerConnection;
  log: StashLogger;
  /** PlexCourier's settings as saved in Stash, when the task could read them at its start. */
  savedSettings?: Record<string, unknown>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sends one command to the worker through the inbox (tasks never open the store: the worker owns
 * it) and waits for its result. Starts a worker when none is running.
 */
export async function sendCommand(env: TaskEnv, cmd: CommandBody, timeoutMs = 120_000): Promise<CommandResult> {
  const paths = dataPaths(env.dataDir);
  const id = `${Date.now().toString(36)}-${crypto.randomBytes(6).toString('hex')}`;
  await writeInboxFile(paths.inbox, 'cmd', JSON.stringify(commandFile(id, cmd, env.connection)));
  ensureWorker(env.dataDir, env.entryFile);
  const deadline = Date.now() + timeoutMs;
  let nextRestartCheck = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const result = takeCommandResult(paths, id);
    if (result) return result;
    if (Date.now() > nextRestartCheck) {
      // A worker that was just exiting may have missed us; this starts another (the lock keeps it to one).
      ensureWorker(env.dataDir, env.entryFile);
      nextRestartCheck = Date.now() + 5_000;
    }
    await sleep(100);
  }
  throw new Error(`the PlexCourier worker did not answer within ${Math.round(timeoutMs / 1000)} s; see plexcourier.log in ${env.dataDir}`);
}

export interface FollowOutcome {
  remaining: number;
  delayed: number;
  dlq: number;
  /** Why following stopped before the queue was empty, if it did. */
  stoppedBecause?: string;
}

/**
 * Follows the worker draining the queue through status.json, reporting progress to Stash, until
 * nothing is ready or in flight — or Plex is down / the queue is paused (then the worker keeps
 * trying on its own and the task says so), or `maxMs` passes (Stash runs one task at a time, so
 * we do not hold its job queue for hours).
 */
export async function followQueue(env: TaskEnv, opts: { from?: number; to?: number; maxMs?: number } = {}): Promise<FollowOutcome> {
  const from = opts.from ?? 0;
  const to = opts.to ?? 1;
  const started = Date.now();
  const maxMs = opts.maxMs ?? 30 * 60_000;
  let initial: number | undefined;
  let lastLog = 0;
  for (;;) {
    await sleep(250);
    const s = await readWorkerStatus(env.dataDir);
    if (!s || s.heartbeatAt < started) {
      if (Date.now() - started > 60_000) return { remaining: -1, delayed: 0, dlq: 0, stoppedBecause: 'the worker did not report any status within a minute' };
      continue;
    }
    const remaining = s.counts.ready + s.counts.active;
    initial = Math.max(initial ?? remaining, remaining);
    const fraction = initial === 0 ? 1 : (initial - remaining) / initial;
    env.log.progress(from + (to - from) * fraction);
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      env.log.info(`Progress: ${initial - remaining}/${initial} processed, ${remaining} to go`);
    }
    const outcome = { remaining, delayed: s.counts.delayed, dlq: s.counts.dlq };
    if (remaining === 0) return outcome;
    if (s.paused) return { ...outcome, stoppedBecause: `the queue is paused: ${s.paused.reason}` };
    if (s.config?.problem) return { ...outcome, stoppedBecause: s.config.problem };
    if (s.breaker && s.breaker.state === 'open') return { ...outcome, stoppedBecause: 'Plex is not answering; the worker retries on its own' };
    if (Date.now() - started > maxMs) return { ...outcome, stoppedBecause: `still working after ${Math.round(maxMs / 60_000)} min; the worker carries on in the background` };
  }
}
