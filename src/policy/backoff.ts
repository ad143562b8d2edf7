import { errorNature, type SyncError } from '../sync/errors';

/** A source of uniform numbers in [0, 1). `Math.random` in production, a seeded one in tests. */
export type Random = () => number;

/**
 * Growing delays: `base · factor^(n−1)` for the n-th failure, capped, then jittered downwards
 * into `[e·(1−jitter), e]`. Jitter only spreads the jobs that failed together in one outage
 * (with one consumer the breaker is what stops hammering); keeping the lower bound well above 0
 * avoids the near-zero retries of full jitter (queue-research.md §1.2, "equal jitter").
 */
export interface ExponentialSchedule {
  /** Delay after the first failure. */
  baseMs: number;
  /** Growth per failure. */
  factor: number;
  /** No single wait is longer than this. */
  maxDelayMs: number;
  /** Fraction of each delay drawn at random, 0–1. */
  jitter: number;
}

export interface TransientPolicy extends ExponentialSchedule {
  /**
   * Total tries, the first included; the failure that reaches it goes to the DLQ. Defaults to 12.
   * With the defaults the waits are 30 s, 1, 2, 4, 8, 16, 32 min, then 1 h × 4: about 5 h
   * nominal (≈ 3.8 h with jitter). That is enough because whole outages do not spend attempts
   * (the breaker holds every job while open), so this budget only meets item-level trouble:
   * a 500 on one edit, a lost write, a flaky proxy. Stash2Plex gave up after ~75 s (§2.6).
   */
  maxAttempts: number;
  /** Also give up once a retry would run later than this after the first failure; `null`: no limit. Defaults to null. */
  maxAgeMs: number | null;
}

export interface NotFoundPolicy {
  /**
   * Wait after the first "not in Plex": Plex usually picks a new file up within minutes of its own
   * scan (or ours, `scan`). Defaults to 10 min.
   */
  firstDelayMs: number;
  /** Wait between later tries. Defaults to 1 h: the file may need the next scheduled library scan. */
  delayMs: number;
  /** Dead-letter once a retry would run later than this after the first failure. Defaults to 24 h. */
  maxAgeMs: number;
  /** Fraction of each delay drawn at random, 0–1. Defaults to 0.2. */
  jitter: number;
  /** Ask the worker for a partial Plex scan of the file's folder on the first not-found. Defaults to false. */
  scanOnNotFound: boolean;
  /** `skip_not_found`: drop the job instead (a Plex library that is a deliberate subset of Stash). Defaults to false. */
  skip: boolean;
}

export interface RateLimitPolicy {
  /** Wait when a 429 carries no `Retry-After`. Defaults to 60 s. */
  defaultDelayMs: number;
  /** Ceiling for any `Retry-After`, so a broken header cannot park a job for days. Defaults to 1 h. */
  maxDelayMs: number;
  /** Dead-letter once a retry would run later than this after the first failure. Defaults to 24 h. */
  maxAgeMs: number;
}

export interface BackoffPolicy {
  transient: TransientPolicy;
  notFound: NotFoundPolicy;
  rateLimited: RateLimitPolicy;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export const DEFAULT_BACKOFF_POLICY: Readonly<BackoffPolicy> = Object.freeze({
  transient: Object.freeze({ baseMs: 30_000, factor: 2, maxDelayMs: HOUR, jitter: 0.5, maxAttempts: 12, maxAgeMs: null }),
  notFound: Object.freeze({ firstDelayMs: 10 * MINUTE, delayMs: HOUR, maxAgeMs: 24 * HOUR, jitter: 0.2, scanOnNotFound: false, skip: false }),
  rateLimited: Object.freeze({ defaultDelayMs: MINUTE, maxDelayMs: HOUR, maxAgeMs: 24 * HOUR }),
});

/** What the job carries into a decision (fields of the queue's job record). */
export interface JobRetryState {
  /** Attempts spent before this failure (only transient retries spend them). */
  attempts: number;
  /** When the job first failed; absent when this is its first failure. */
  firstFailureAt?: number;
  /** Class of the previous failure, if any: tells a first not-found from a repeated one. */
  lastErrorClass?: string;
}

export type Decision =
  /** Run again at `at`. `consumesAttempt`: count it in `attempts` (retry) or not (defer). */
  | { action: 'retry'; at: number; consumesAttempt: boolean; scan: boolean; reason: string }
  | { action: 'dead_letter'; reason: string }
  | { action: 'drop'; reason: string }
  /** Stop the whole queue (auth-pause.ts); the job goes back unchanged, no attempt spent. */
  | { action: 'pause'; reason: string };

/** The capped, jittered delay after the n-th failure (n ≥ 1). */
export function scheduleDelay(schedule: ExponentialSchedule, n: number, random: Random): number {
  const exp = Math.min(schedule.maxDelayMs, schedule.baseMs * schedule.factor ** Math.max(0, n - 1));
  return jitterDown(exp, schedule.jitter, random);
}

/** `e·(1 − jitter·r)`, in `[e·(1−jitter), e]`. */
export function jitterDown(e: number, jitter: number, random: Random): number {
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(e * (1 - Math.min(Math.max(jitter, 0), 1) * r));
}

/**
 * What to do with a job whose attempt just failed with `error`. Pure: the clock and the random
 * source are parameters.
 */
export function decide(error: SyncError, job: JobRetryState, policy: BackoffPolicy, now: number, random: Random): Decision {
  const what = `${error.class}: ${error.message}`;
  const since = job.firstFailureAt ?? now;
  switch (errorNature(error.class)) {
    case 'permanent':
      return { action: 'dead_letter', reason: what };
    case 'gone':
      return { action: 'drop', reason: what };
    case 'auth':
      return { action: 'pause', reason: what };
    case 'transient': {
      const p = policy.transient;
      const failures = job.attempts + 1;
      if (failures >= p.maxAttempts) {
        return { action: 'dead_letter', reason: `gave up after ${failures} attempts over ${formatDuration(now - since)}; last error ${what}` };
      }
      let delay = scheduleDelay(p, failures, random);
      // A 503 during a DB migration may say how long it needs (plex-api.md §7).
      if (error.retryAfterMs !== undefined) delay = Math.max(delay, Math.min(error.retryAfterMs, policy.rateLimited.maxDelayMs));
      const at = now + delay;
      if (p.maxAgeMs !== null && at > since + p.maxAgeMs) {
        return { action: 'dead_letter', reason: `gave up after ${formatDuration(now - since)} of retries (${failures} attempts); last error ${what}` };
      }
      return { action: 'retry', at, consumesAttempt: true, scan: false, reason: `attempt ${failures} of ${p.maxAttempts} failed, ${what}` };
    }
    case 'rate_limited': {
      const p = policy.rateLimited;
      // Honour Retry-After exactly (a floor, never shortened by jitter); without one, spread the herd.
      const delay =
        error.retryAfterMs !== undefined
          ? Math.min(error.retryAfterMs, p.maxDelayMs)
          : jitterDown(Math.min(p.defaultDelayMs, p.maxDelayMs), 0.5, random);
      const at = now + delay;
      if (at > since + p.maxAgeMs) {
        return { action: 'dead_letter', reason: `still rate limited after ${formatDuration(now - since)}; last error ${what}` };
      }
      return { action: 'retry', at, consumesAttempt: false, scan: false, reason: `rate limited, ${what}` };
    }
    case 'not_found': {
      const p = policy.notFound;
      if (p.skip) return { action: 'drop', reason: `not in Plex and skip_not_found is on; ${what}` };
      const first = job.lastErrorClass !== 'not_found';
      const at = now + jitterDown(first ? p.firstDelayMs : p.delayMs, p.jitter, random);
      if (at > since + p.maxAgeMs) {
        return { action: 'dead_letter', reason: `still not in Plex after ${formatDuration(now - since)}; ${what}` };
      }
      return { action: 'retry', at, consumesAttempt: false, scan: first && p.scanOnNotFound, reason: `not in Plex yet, ${what}` };
    }
  }
}

/** The retry limits a user can set (Stash NUMBER settings: 0 or absent means the default). */
export interface BackoffSettings {
  /** Total tries for transient errors; 0 → 12. */
  maxAttempts?: number;
  /** Hours after the first failure to stop retrying transient errors; 0 → no limit beyond maxAttempts. */
  retryHours?: number;
  /** Hours to keep retrying "not in Plex yet"; 0 → 24. */
  notFoundHours?: number;
  skipNotFound?: boolean;
  scanOnNotFound?: boolean;
}

/**
 * Builds the policy from settings. A value out of range throws one line naming the setting and
 * the accepted range, so the caller can report it instead of silently retrying forever.
 */
export function backoffPolicyFromSettings(settings: BackoffSettings, base: BackoffPolicy = DEFAULT_BACKOFF_POLICY): BackoffPolicy {
  const maxAttempts = setting('maxAttempts', settings.maxAttempts, 1, 100, true);
  const retryHours = setting('retryHours', settings.retryHours, 0.1, 24 * 30, false);
  const notFoundHours = setting('notFoundHours', settings.notFoundHours, 0.1, 24 * 30, false);
  return {
    transient: {
      ...base.transient,
      maxAttempts: maxAttempts ?? base.transient.maxAttempts,
      maxAgeMs: retryHours !== undefined ? retryHours * HOUR : base.transient.maxAgeMs,
    },
    notFound: {
      ...base.notFound,
      maxAgeMs: notFoundHours !== undefined ? notFoundHours * HOUR : base.notFound.maxAgeMs,
      skip: settings.skipNotFound ?? base.notFound.skip,
      scanOnNotFound: settings.scanOnNotFound ?? base.notFound.scanOnNotFound,
    },
    rateLimited: { ...base.rateLimited },
  };
}

function setting(name: string, value: number | undefined, min: number, max: number, integer: boolean): number | undefined {
  if (value === undefined || value === 0) return undefined;
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new RangeError(
      `${name} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max} (0 means the default); got ${String(value)}`,
    );
  }
  return value;
}

/** "45s", "12m 5s", "4h 12m", "2d 3h": at most two units, for reasons a user reads. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const units: [number, string][] = [
    [86_400, 'd'],
    [3_600, 'h'],
    [60, 'm'],
    [1, 's'],
  ];
  const i = units.findIndex(([size]) => s >= size);
  if (i < 0) return '0s';
  const [size, label] = units[i]!;
  const head = `${Math.floor(s / size)}${label}`;
  const next = units[i + 1];
  if (!next) return head;
  const tail = Math.floor((s % size) / next[0]);
  return tail > 0 ? `${head} ${tail}${next[1]}` : head;
}
