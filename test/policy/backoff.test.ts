import { describe, expect, it } from 'vitest';
import {
  backoffPolicyFromSettings,
  decide,
  DEFAULT_BACKOFF_POLICY,
  formatDuration,
  scheduleDelay,
  type BackoffPolicy,
  type Decision,
  type JobRetryState,
} from '../../src/policy/backoff';
import { ERROR_CLASSES, SYNC_ERROR_CLASSES, syncError, type SyncError, type SyncErrorClass } from '../../src/sync/errors';
import { rng as seeded } from '../support/random';

const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;
const T0 = Date.UTC(2025, 0, 1);
const noJitter = () => 0;
const maxJitter = () => 0.999999;

/** Runs a job through failures of `error` until the policy stops retrying, as the worker would. */
function runUntilDone(error: SyncError, policy: BackoffPolicy, random: () => number) {
  let job: JobRetryState = { attempts: 0 };
  let now = T0;
  const retries: Extract<Decision, { action: 'retry' }>[] = [];
  for (let i = 0; i < 1000; i++) {
    const d = decide(error, job, policy, now, random);
    if (d.action !== 'retry') return { final: d, retries, now };
    retries.push(d);
    job = {
      attempts: job.attempts + (d.consumesAttempt ? 1 : 0),
      firstFailureAt: job.firstFailureAt ?? now,
      lastErrorClass: error.class,
    };
    now = d.at;
  }
  throw new Error('the policy never stopped retrying');
}

describe('transient backoff', () => {
  it.each([
    [1, 30 * S],
    [2, 60 * S],
    [3, 2 * MIN],
    [4, 4 * MIN],
    [5, 8 * MIN],
    [6, 16 * MIN],
    [7, 32 * MIN],
    [8, H],
    [9, H],
    [12, H],
  ])('the wait after failure %i is %i ms before jitter, growing and capped at 1 h', (n, expected) => {
    expect(scheduleDelay(DEFAULT_BACKOFF_POLICY.transient, n, noJitter)).toBe(expected);
  });

  it('keeps every jittered wait within [e/2, e] of its capped exponential', () => {
    const random = seeded(42);
    const p = DEFAULT_BACKOFF_POLICY.transient;
    for (let n = 1; n <= 14; n++) {
      const e = Math.min(p.maxDelayMs, p.baseMs * 2 ** (n - 1));
      for (let k = 0; k < 500; k++) {
        const d = scheduleDelay(p, n, random);
        expect(d).toBeGreaterThanOrEqual(Math.floor(e / 2));
        expect(d).toBeLessThanOrEqual(e);
      }
    }
  });

  it('retries a network error 11 times over hours, spending an attempt each time, then dead-letters on the 12th failure', () => {
    const { final, retries, now } = runUntilDone(syncError('network', 'connect ECONNREFUSED 127.0.0.1:32400'), DEFAULT_BACKOFF_POLICY, noJitter);
    expect(retries).toHaveLength(11);
    expect(retries.every((r) => r.consumesAttempt && !r.scan)).toBe(true);
    expect(now - T0).toBe(30 * S + 60 * S + 2 * MIN + 4 * MIN + 8 * MIN + 16 * MIN + 32 * MIN + 4 * H);
    expect(final.action).toBe('dead_letter');
    expect(final.action === 'dead_letter' && final.reason).toMatch(/^gave up after 12 attempts over 5h 3m; last error network: connect ECONNREFUSED/);
  });

  it('spreads retries over more than 2 hours even with the shortest jitter', () => {
    const { retries, now } = runUntilDone(syncError('server', 'HTTP 503'), DEFAULT_BACKOFF_POLICY, maxJitter);
    expect(retries).toHaveLength(11);
    expect(now - T0).toBeGreaterThan(2 * H);
  });

  it.each([1, 3, 20])('dead-letters after the configured %i attempts', (maxAttempts) => {
    const policy = backoffPolicyFromSettings({ maxAttempts });
    const { final, retries } = runUntilDone(syncError('timeout', 'read timeout after 30 s'), policy, seeded(maxAttempts));
    expect(retries).toHaveLength(maxAttempts - 1);
    expect(final.action).toBe('dead_letter');
  });

  it('dead-letters instead of scheduling a retry past the configured hours', () => {
    const policy = backoffPolicyFromSettings({ maxAttempts: 100, retryHours: 2 });
    const { final, retries } = runUntilDone(syncError('network', 'reset'), policy, seeded(7));
    expect(final.action).toBe('dead_letter');
    expect(final.action === 'dead_letter' && final.reason).toMatch(/^gave up after 1h \d+m of retries/);
    expect(retries.length).toBeGreaterThan(5);
    for (const r of retries) expect(r.at).toBeLessThanOrEqual(T0 + 2 * H);
  });

  it('never retries a 503 sooner than its Retry-After', () => {
    const d = decide(syncError('server', 'Maintenance', 5 * MIN), { attempts: 0 }, DEFAULT_BACKOFF_POLICY, T0, noJitter);
    expect(d).toMatchObject({ action: 'retry', at: T0 + 5 * MIN, consumesAttempt: true });
  });
});

describe('not found in Plex', () => {
  const notFound = syncError('not_found', 'no Plex item for /media/a.mp4');

  it('retries 10 minutes after the first not-found, then hourly, without spending attempts, and dead-letters within 24 h', () => {
    const { final, retries, now } = runUntilDone(notFound, DEFAULT_BACKOFF_POLICY, noJitter);
    expect(retries[0]!.at - T0).toBe(10 * MIN);
    expect(retries[1]!.at - retries[0]!.at).toBe(H);
    expect(retries.every((r) => !r.consumesAttempt)).toBe(true);
    expect(retries.length).toBe(24); // 10 min + 23 h of hourly tries fit in 24 h
    expect(now - T0).toBeLessThanOrEqual(24 * H);
    expect(final.action === 'dead_letter' && final.reason).toMatch(/^still not in Plex after 23h 10m; not_found: no Plex item/);
  });

  it('asks for a folder scan only on the first not-found, and only when the setting is on', () => {
    const off = runUntilDone(notFound, DEFAULT_BACKOFF_POLICY, noJitter);
    expect(off.retries.some((r) => r.scan)).toBe(false);
    const on = runUntilDone(notFound, backoffPolicyFromSettings({ scanOnNotFound: true }), noJitter);
    expect(on.retries.map((r) => r.scan).filter(Boolean)).toHaveLength(1);
    expect(on.retries[0]!.scan).toBe(true);
  });

  it('follows the configured hours', () => {
    const { final, now } = runUntilDone(notFound, backoffPolicyFromSettings({ notFoundHours: 3 }), seeded(3));
    expect(final.action).toBe('dead_letter');
    expect(now - T0).toBeLessThanOrEqual(3 * H);
  });

  it('drops the job at once with skip_not_found', () => {
    const d = decide(notFound, { attempts: 0 }, backoffPolicyFromSettings({ skipNotFound: true }), T0, noJitter);
    expect(d).toEqual({ action: 'drop', reason: 'not in Plex and skip_not_found is on; not_found: no Plex item for /media/a.mp4' });
  });

  it('does not let a long not-found phase use up the transient budget', () => {
    const d = decide(syncError('network', 'reset'), { attempts: 0, firstFailureAt: T0, lastErrorClass: 'not_found' }, DEFAULT_BACKOFF_POLICY, T0 + 20 * H, noJitter);
    expect(d).toMatchObject({ action: 'retry', at: T0 + 20 * H + 30 * S });
  });
});

describe('rate limiting', () => {
  it('honours Retry-After exactly and spends no attempt', () => {
    const d = decide(syncError('rate_limited', 'HTTP 429', 90 * S), { attempts: 4 }, DEFAULT_BACKOFF_POLICY, T0, seeded(1));
    expect(d).toMatchObject({ action: 'retry', at: T0 + 90 * S, consumesAttempt: false });
  });

  it('caps an absurd Retry-After at 1 hour', () => {
    const d = decide(syncError('rate_limited', 'HTTP 429', 30 * 24 * H), { attempts: 0 }, DEFAULT_BACKOFF_POLICY, T0, seeded(1));
    expect(d).toMatchObject({ action: 'retry', at: T0 + H });
  });

  it('waits 30–60 s when there is no Retry-After', () => {
    const random = seeded(9);
    for (let i = 0; i < 200; i++) {
      const d = decide(syncError('rate_limited', 'HTTP 429'), { attempts: 0 }, DEFAULT_BACKOFF_POLICY, T0, random);
      if (d.action !== 'retry') throw new Error('expected a retry');
      expect(d.at - T0).toBeGreaterThanOrEqual(30 * S);
      expect(d.at - T0).toBeLessThanOrEqual(60 * S);
    }
  });

  it('dead-letters after 24 hours of rate limiting', () => {
    const { final, now } = runUntilDone(syncError('rate_limited', 'HTTP 429', H), DEFAULT_BACKOFF_POLICY, noJitter);
    expect(final.action).toBe('dead_letter');
    expect(now - T0).toBe(24 * H);
  });
});

describe('classes that do not retry', () => {
  const byNature = (nature: string) => SYNC_ERROR_CLASSES.filter((c) => ERROR_CLASSES[c].nature === nature);

  it.each(byNature('permanent'))('%s goes to the DLQ at once with its message', (cls) => {
    const d = decide(syncError(cls, 'the details'), { attempts: 0 }, DEFAULT_BACKOFF_POLICY, T0, noJitter);
    expect(d).toEqual({ action: 'dead_letter', reason: `${cls}: the details` });
  });

  it.each(byNature('auth'))('%s pauses the queue instead of dead-lettering', (cls) => {
    const d = decide(syncError(cls, 'HTTP 401'), { attempts: 11 }, DEFAULT_BACKOFF_POLICY, T0, noJitter);
    expect(d).toEqual({ action: 'pause', reason: `${cls}: HTTP 401` });
  });

  it('drops the job of a scene destroyed in Stash', () => {
    const d = decide(syncError('scene_missing', 'scene 12 no longer exists'), { attempts: 0 }, DEFAULT_BACKOFF_POLICY, T0, noJitter);
    expect(d.action).toBe('drop');
  });

  it('gives every class a decision whose retry time lies in the future', () => {
    const random = seeded(5);
    for (const cls of SYNC_ERROR_CLASSES as SyncErrorClass[]) {
      const d = decide(syncError(cls, 'x'), { attempts: 0 }, DEFAULT_BACKOFF_POLICY, T0, random);
      expect(['retry', 'dead_letter', 'drop', 'pause']).toContain(d.action);
      if (d.action === 'retry') expect(d.at).toBeGreaterThan(T0);
    }
  });
});

describe('settings', () => {
  it('treats 0 and absent as the defaults', () => {
    expect(backoffPolicyFromSettings({ maxAttempts: 0, retryHours: 0, notFoundHours: 0 })).toEqual(DEFAULT_BACKOFF_POLICY);
    expect(backoffPolicyFromSettings({})).toEqual(DEFAULT_BACKOFF_POLICY);
  });

  it.each([
    [{ maxAttempts: -1 }, 'maxAttempts must be a whole number from 1 to 100 (0 means the default); got -1'],
    [{ maxAttempts: 2.5 }, 'maxAttempts must be a whole number from 1 to 100 (0 means the default); got 2.5'],
    [{ retryHours: Number.NaN }, 'retryHours must be a number from 0.1 to 720 (0 means the default); got NaN'],
    [{ notFoundHours: 10_000 }, 'notFoundHours must be a number from 0.1 to 720 (0 means the default); got 10000'],
  ])('rejects %o with one line naming the setting', (settings, message) => {
    expect(() => backoffPolicyFromSettings(settings)).toThrow(message);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [45 * S, '45s'],
    [12 * MIN + 5 * S, '12m 5s'],
    [4 * H + 12 * MIN + 30 * S, '4h 12m'],
    [2 * H, '2h'],
    [51 * H, '2d 3h'],
  ])('%i ms reads as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
