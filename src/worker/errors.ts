import { PlexError } from '../plex/errors';
import { StashError } from '../stash/graphql';
import { isSyncErrorClass, syncError, type SyncError, type SyncErrorClass } from '../sync/errors';

const FROM_PLEX: Record<PlexError['kind'], SyncErrorClass> = {
  unreachable: 'network',
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

const FROM_STASH: Record<StashError['kind'], SyncErrorClass> = {
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
  if (err instanceof PlexError) {
    const timeout = err.kind === 'unreachable' && /timed? ?out/i.test(err.message);
    return syncError(timeout ? 'timeout' : FROM_PLEX[err.kind], err.message, err.retryAfterMs);
  }
  if (err instanceof StashError) return syncError(FROM_STASH[err.kind], err.message);
  const cls = (err as { syncClass?: unknown } | null)?.syncClass;
  if (typeof cls === 'string' && isSyncErrorClass(cls)) return syncError(cls, (err as Error).message);
  const message = err instanceof Error ? err.message : String(err);
  return syncError('internal', `PlexCourier hit an unexpected error (please report it): ${message}`);
}
