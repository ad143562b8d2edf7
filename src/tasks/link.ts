import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { dataPaths } from '../paths';
import { writeInboxFile } from '../inbox/write';
import type { ServerConnection } from '../stash/input';
import type { StashLogger } from '../stash/log';
import type { CommandBody, CommandResult } from '../worker/commands';
import { ensureWorker } from '../worker/spawn';
import { readWorkerStatus, type WorkerStatus } from './status';

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
  const { name, ...args } = cmd;
  await writeInboxFile(paths.inbox, 'cmd', JSON.stringify({ id, cmd: name, args, at: Date.now(), connection: env.connection }));
  ensureWorker(env.dataDir, env.entryFile);
  const file = path.join(paths.results, `${id}.json`);
  const deadline = Date.now() + timeoutMs;
  let nextRestartCheck = Date.now() + 5_000;
  while (Date.now() < deadline) {
    try {
      const result = JSON.parse(fs.readFileSync(file, 'utf8')) as CommandResult;
      fs.rmSync(file, { force: true });
      return result;
    } catch {
      // not there yet
    }
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

/** What the worker did with scenes while a task followed it (status.json `session`, summed over worker restarts). */
export interface SettledScenes {
  /** Written to Plex. */
  synced: number;
  /** Skipped: unchanged since their last sync. */
  unchanged: number;
  /** Failed this time: waiting to retry, or in the DLQ. */
  failed: number;
  /** No longer in Stash. */
  dropped: number;
}

const SETTLED_KEYS = ['synced', 'unchanged', 'retried', 'deadLettered', 'dropped'] as const;

/**
 * Counts the scenes the worker settles from a starting point on, from the `session` totals in status.json.
 * Take the starting point before queueing anything; a worker that restarts meanwhile starts its totals at 0.
 */
export class SettledCounter {
  private pid: number | undefined;
  private base: Record<string, number> = {};
  private last: Record<string, number> = {};
  private readonly carried: Record<string, number> = {};

  constructor(start: WorkerStatus | undefined) {
    if (start) this.observe(start);
  }

  observe(s: WorkerStatus): SettledScenes {
    const now = Object.fromEntries(SETTLED_KEYS.map((k) => [k, Number(s.session?.[k] ?? 0)]));
    if (this.pid === undefined) {
      this.pid = s.pid;
      this.base = now;
    } else if (s.pid !== this.pid) {
      for (const k of SETTLED_KEYS) this.carried[k] = (this.carried[k] ?? 0) + (this.last[k] ?? 0) - (this.base[k] ?? 0);
      this.pid = s.pid;
      this.base = Object.fromEntries(SETTLED_KEYS.map((k) => [k, 0]));
    }
    this.last = now;
    return this.settled();
  }

  settled(): SettledScenes {
    const d = (k: (typeof SETTLED_KEYS)[number]) => (this.carried[k] ?? 0) + (this.last[k] ?? 0) - (this.base[k] ?? 0);
    return { synced: d('synced'), unchanged: d('unchanged'), failed: d('retried') + d('deadLettered'), dropped: d('dropped') };
  }
}

export function settledTotal(s: SettledScenes): number {
  return s.synced + s.unchanged + s.failed + s.dropped;
}

/** Progress to Stash when it moved by 1 % or more, or at most once a second while it moves at all. */
export function progressReporter(log: Pick<StashLogger, 'progress'>, now: () => number = Date.now): (fraction: number) => void {
  let last = -1;
  let lastAt = 0;
  return (fraction) => {
    const f = Math.min(1, Math.max(0, fraction));
    if (f === last) return;
    if (Math.abs(f - last) < 0.01 && now() - lastAt < 1_000 && f !== 1) return;
    last = f;
    lastAt = now();
    log.progress(f);
  };
}

export interface FollowOptions {
  /** The share of the task's progress bar the following covers. */
  from?: number;
  to?: number;
  maxMs?: number;
  /** The scenes this task queued, counted from `counter`'s starting point: progress then follows them. */
  work?: { jobs: number; counter: SettledCounter };
  report?: (fraction: number) => void;
}

/**
 * Follows the worker draining the queue through status.json, reporting progress to Stash, until
 * nothing is ready or in flight — or Plex is down / the queue is paused (then the worker keeps
 * trying on its own and the task says so), or `maxMs` passes (Stash runs one task at a time, so
 * we do not hold its job queue for hours).
 */
export async function followQueue(env: TaskEnv, opts: FollowOptions = {}): Promise<FollowOutcome> {
  const from = opts.from ?? 0;
  const to = opts.to ?? 1;
  const report = opts.report ?? progressReporter(env.log);
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
    let done = initial - remaining;
    let of = initial;
    if (opts.work) {
      // Scenes settled as the worker goes, mid-round included; the queue's counts move only when a round ends.
      done = Math.min(opts.work.jobs, settledTotal(opts.work.counter.observe(s)));
      of = opts.work.jobs;
    }
    report(from + (to - from) * (remaining === 0 || of === 0 ? 1 : done / of));
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      env.log.info(`Progress: ${done}/${of} processed, ${Math.max(0, of - done)} to go`);
    }
    const outcome = { remaining, delayed: s.counts.delayed, dlq: s.counts.dlq };
    if (remaining === 0) return outcome;
    if (s.paused) return { ...outcome, stoppedBecause: `the queue is paused: ${s.paused.reason}` };
    if (s.config?.problem) return { ...outcome, stoppedBecause: s.config.problem };
    if (s.stash) return { ...outcome, stoppedBecause: `Stash is not answering (${s.stash.message}); the worker tries again on its own` };
    if (s.breaker && s.breaker.state === 'open') return { ...outcome, stoppedBecause: 'Plex is not answering; the worker retries on its own' };
    if (Date.now() - started > maxMs) return { ...outcome, stoppedBecause: `still working after ${Math.round(maxMs / 60_000)} min; the worker carries on in the background` };
  }
}
