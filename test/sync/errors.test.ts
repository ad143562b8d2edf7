import { describe, expect, it } from 'vitest';
import { PlexError } from '../../src/plex/errors';
import { StashError } from '../../src/stash/graphql';
import { answered, ERROR_CLASSES, errorNature, isSyncErrorClass, SYNC_ERROR_CLASSES, SyncFailure, syncError, toSyncError } from '../../src/sync/errors';

describe('sync errors', () => {
  it('lists every class exactly once, each with a nature', () => {
    expect(new Set(SYNC_ERROR_CLASSES).size).toBe(SYNC_ERROR_CLASSES.length);
    expect([...SYNC_ERROR_CLASSES].sort()).toEqual(Object.keys(ERROR_CLASSES).sort());
  });

  it.each([
    ['network', 'transient', true, false],
    ['timeout', 'transient', true, false],
    ['server', 'transient', true, false],
    ['invalid_response', 'transient', true, false],
    ['stash_unreachable', 'transient', true, false],
    ['lost_write', 'transient', false, true],
    ['rate_limited', 'rate_limited', true, true],
    ['not_found', 'not_found', false, true],
    ['unauthorized', 'auth', false, true],
    ['stash_unauthorized', 'auth', false, true],
    ['scene_missing', 'gone', false, true],
    ['bad_request', 'permanent', false, true],
    ['ambiguous', 'permanent', false, true],
    ['too_large', 'permanent', false, true],
    ['internal', 'permanent', false, true],
    ['poison', 'permanent', false, true],
  ] as const)('%s is %s, counts for the breaker: %s, the server answered: %s', (cls, nature, counts, answer) => {
    expect(errorNature(cls)).toBe(nature);
    expect(ERROR_CLASSES[cls].countsForBreaker).toBe(counts);
    expect(answered(cls)).toBe(answer);
  });

  it('takes the class from where the failure was known, never from the message', () => {
    // A timeout is the client's kind, whatever the words say.
    expect(toSyncError(new PlexError('timeout', 'Plex at h unreachable: read timeout while reading item 1')).class).toBe('timeout');
    expect(toSyncError(new PlexError('unreachable', 'Plex at h unreachable: timed out while reading item 1')).class).toBe('network');
    expect(toSyncError(new PlexError('server', 'HTTP 503', { retryAfterMs: 2000 }))).toMatchObject({ class: 'server', retryAfterMs: 2000 });
    expect(toSyncError(new StashError('unauthorized', 'Stash refused the API key')).class).toBe('stash_unauthorized');
    expect(toSyncError(new SyncFailure('not_found', 'no Plex item has the file /x.mp4')).class).toBe('not_found');
    const bug = toSyncError(new TypeError('x is undefined'));
    expect(bug.class).toBe('internal');
    expect(bug.message).toContain('x is undefined');
  });

  it('folds a multi-line message onto one line and keeps a valid Retry-After only', () => {
    expect(syncError('server', 'HTTP 503\n  Maintenance\r\n', 5000)).toEqual({ class: 'server', message: 'HTTP 503 Maintenance', retryAfterMs: 5000 });
    expect(syncError('server', 'x', Number.NaN)).toEqual({ class: 'server', message: 'x' });
    expect(syncError('server', 'x', -1)).toEqual({ class: 'server', message: 'x' });
  });

  it('recognises class names read back from the store, and nothing inherited', () => {
    expect(isSyncErrorClass('not_found')).toBe(true);
    expect(isSyncErrorClass('PlexNotFound')).toBe(false);
    expect(isSyncErrorClass('constructor')).toBe(false);
  });
});
