import { PlexError } from '../plex/errors';
import { StashError } from '../stash/graphql';

/**
 * What happens when a job fails, in one place. Every failure of a job (a typed Plex error, a Stash
 * error, a crash) becomes a `SyncError` whose class was set where the failure was known (the Plex
 * client knows a timeout, the matcher knows a scene has no file); the table ERROR_CLASSES below says
 * what each class means, and backoff (src/policy/backoff.ts), the breaker and the auth pause decide
 * from it alone. Nothing is ever matched by message text (Stash2Plex's string tests on exception text
 * are what made its "server down" class unreliable: stash2plex-inventory.md §2.7).
 */
export type SyncErrorClass =
  // Plex
  | 'network' // refused, reset, DNS, TLS: Plex restarting or the URL is wrong
  | 'timeout' // connect or read timeout, or the per-job deadline
  | 'server' // 5xx, including the 503 "Maintenance" of a DB migration (plex-api.md §7)
  | 'lost_write' // Plex answered 200 but the read-back does not show the edit
  | 'rate_limited' // 429 (a reverse proxy; PMS itself has none, plex-api.md §7)
  | 'not_found' // the file is not in Plex yet (not scanned) or the item vanished
  | 'unauthorized' // Plex 401: the token is wrong or revoked
  | 'bad_request' // 400/409: this request will never succeed as it is
  | 'ambiguous' // several Plex items for one file: never pick one at random
  | 'invalid_response' // HTML/garbled body where JSON was expected: a proxy page or a half-started PMS
  | 'too_large' // an image over Plex's 10 MB limit (plex-api.md §5)
  // Stash
  | 'stash_unreachable' // Stash's GraphQL did not answer (Stash restarting)
  | 'stash_unauthorized' // Stash refused the session cookie or API key
  | 'scene_missing' // the scene was destroyed in Stash: nothing left to sync
  // Ours
  | 'internal' // a bug in PlexCourier: retrying the same code will fail the same way
  | 'poison'; // the job crashed the worker too many times (queue-research.md §6.1)

export const SYNC_ERROR_CLASSES: readonly SyncErrorClass[] = [
  'network',
  'timeout',
  'server',
  'lost_write',
  'rate_limited',
  'not_found',
  'unauthorized',
  'bad_request',
  'ambiguous',
  'invalid_response',
  'too_large',
  'stash_unreachable',
  'stash_unauthorized',
  'scene_missing',
  'internal',
  'poison',
];

export interface SyncError {
  class: SyncErrorClass;
  /** One line, for the log and the DLQ; never contains the Plex token or the Stash cookie/API key. */
  message: string;
  /** From a `Retry-After` header (429 or 503): do not come back sooner. */
  retryAfterMs?: number;
}

/**
 * - `transient`: retry with growing delays (backoff.ts `transient`).
 * - `rate_limited`: retry after `Retry-After`; the server is alive, so no attempt is spent.
 * - `not_found`: retry on the long not-found schedule, or drop with `skip_not_found`.
 * - `auth`: pause the whole queue until a probe succeeds (auth-pause.ts); never a DLQ entry.
 * - `gone`: the scene no longer exists in Stash; drop the job.
 * - `permanent`: dead-letter at once; retrying cannot help.
 */
export type ErrorNature = 'transient' | 'rate_limited' | 'not_found' | 'auth' | 'gone' | 'permanent';

export interface ErrorClassInfo {
  /** The retry schedule, or the pause, drop or dead-letter instead. */
  nature: ErrorNature;
  /**
   * Counts towards the circuit breaker: a sign the dependency as a whole is down, not that this
   * one job is wrong. Not-found never counts (Plex answered; Stash2Plex learnt this in v1.5.6,
   * stash2plex-inventory.md §2.7), nor does anything Plex answered deliberately.
   */
  countsForBreaker: boolean;
  /**
   * The server answered (with a refusal, a 404, a wrong body…) rather than being unreachable: while
   * the queue is paused for a rejected token, a probe that fails this way still proves the token works.
   */
  answered: boolean;
}

export const ERROR_CLASSES: Readonly<Record<SyncErrorClass, ErrorClassInfo>> = {
  network: { nature: 'transient', countsForBreaker: true, answered: false },
  timeout: { nature: 'transient', countsForBreaker: true, answered: false },
  server: { nature: 'transient', countsForBreaker: true, answered: false },
  // Plex is up and answering; the write just did not stick. Retry, but it says nothing about an outage.
  lost_write: { nature: 'transient', countsForBreaker: false, answered: true },
  // Counted so a proxy answering 429 to everything opens the breaker instead of being hammered job after job.
  rate_limited: { nature: 'rate_limited', countsForBreaker: true, answered: true },
  not_found: { nature: 'not_found', countsForBreaker: false, answered: true },
  unauthorized: { nature: 'auth', countsForBreaker: false, answered: true },
  bad_request: { nature: 'permanent', countsForBreaker: false, answered: true },
  ambiguous: { nature: 'permanent', countsForBreaker: false, answered: true },
  // A proxy error page or a half-started server: transient, and a sign the server is unwell.
  invalid_response: { nature: 'transient', countsForBreaker: true, answered: false },
  too_large: { nature: 'permanent', countsForBreaker: false, answered: true },
  // Stash down stops every job just as Plex down does, so it trips the same breaker
  // (queue-research.md §6.4: without it an outage drains the queue into the DLQ).
  stash_unreachable: { nature: 'transient', countsForBreaker: true, answered: false },
  stash_unauthorized: { nature: 'auth', countsForBreaker: false, answered: true },
  scene_missing: { nature: 'gone', countsForBreaker: false, answered: true },
  internal: { nature: 'permanent', countsForBreaker: false, answered: true },
  poison: { nature: 'permanent', countsForBreaker: false, answered: true },
};

export function errorNature(cls: SyncErrorClass): ErrorNature {
  return ERROR_CLASSES[cls].nature;
}

export function countsForBreaker(cls: SyncErrorClass): boolean {
  return ERROR_CLASSES[cls].countsForBreaker;
}

/** The server answered this failure (see ErrorClassInfo.answered). */
export function answered(cls: SyncErrorClass): boolean {
  return ERROR_CLASSES[cls].answered;
}

export function isSyncErrorClass(value: string): value is SyncErrorClass {
  return Object.prototype.hasOwnProperty.call(ERROR_CLASSES, value);
}

/** Builds a `SyncError`, folding the message onto one line (Stash's log is line-based). */
export function syncError(cls: SyncErrorClass, message: string, retryAfterMs?: number): SyncError {
  const err: SyncError = { class: cls, message: message.replace(/\s*[\r\n]+\s*/g, ' ').trim() };
  if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs >= 0) err.retryAfterMs = retryAfterMs;
  return err;
}

/** A failure of a sync step whose class is known where it is raised (a scene with no file, no matching item). */
export class SyncFailure extends Error {
  override name = 'SyncFailure';
  constructor(
    readonly syncClass: SyncErrorClass,
    message: string,
  ) {
    super(message);
  }
}

/** The client's kinds are already classes; only the names differ. */
const FROM_PLEX: Readonly<Record<PlexError['kind'], SyncErrorClass>> = {
  unreachable: 'network',
  timeout: 'timeout',
  server: 'server',
  unauthorized: 'unauthorized',
  rate_limited: 'rate_limited',
  not_found: 'not_found',
  bad_request: 'bad_request',
  ambiguous: 'ambiguous',
  lost_write: 'lost_write',
  invalid_response: 'invalid_response',
  too_large: 'too_large',
};

const FROM_STASH: Readonly<Record<StashError['kind'], SyncErrorClass>> = {
  unreachable: 'stash_unreachable',
  unauthorized: 'stash_unauthorized',
  graphql: 'stash_unreachable',
  invalid_response: 'stash_unreachable',
};

/**
 * Whatever a job threw, as the one error shape the policies decide on. An error we did not expect
 * is an `internal` error: a bug, reported with its message (never a stack alone).
 */
export function toSyncError(err: unknown): SyncError {
  if (err instanceof PlexError) return syncError(FROM_PLEX[err.kind], err.message, err.retryAfterMs);
  if (err instanceof StashError) return syncError(FROM_STASH[err.kind], err.message);
  if (err instanceof SyncFailure) return syncError(err.syncClass, err.message);
  const message = err instanceof Error ? err.message : String(err);
  return syncError('internal', `PlexCourier hit an unexpected error (please report it): ${message}`);
}
