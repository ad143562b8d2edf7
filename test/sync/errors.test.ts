import { describe, expect, it } from 'vitest';
import { ERROR_CLASSES, errorNature, isSyncErrorClass, SYNC_ERROR_CLASSES, syncError } from '../../src/sync/errors';

describe('sync errors', () => {
  it('lists every class exactly once, each with a nature', () => {
    expect(new Set(SYNC_ERROR_CLASSES).size).toBe(SYNC_ERROR_CLASSES.length);
    expect([...SYNC_ERROR_CLASSES].sort()).toEqual(Object.keys(ERROR_CLASSES).sort());
  });

  it.each([
    ['network', 'transient', true],
    ['timeout', 'transient', true],
    ['server', 'transient', true],
    ['invalid_response', 'transient', true],
    ['stash_unreachable', 'transient', true],
    ['lost_write', 'transient', false],
    ['rate_limited', 'rate_limited', true],
    ['not_found', 'not_found', false],
    ['unauthorized', 'auth', false],
    ['stash_unauthorized', 'auth', false],
    ['scene_missing', 'gone', false],
    ['bad_request', 'permanent', false],
    ['ambiguous', 'permanent', false],
    ['too_large', 'permanent', false],
    ['internal', 'permanent', false],
    ['poison', 'permanent', false],
  ] as const)('%s is %s and counts for the breaker: %s', (cls, nature, counts) => {
    expect(errorNature(cls)).toBe(nature);
    expect(ERROR_CLASSES[cls].countsForBreaker).toBe(counts);
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
