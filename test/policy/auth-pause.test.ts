import { describe, expect, it } from 'vitest';
import {
  acquireAuthProbe,
  authPauseSchema,
  authProbeDue,
  authProbeResult,
  noteEventWhilePaused,
  pauseForAuth,
  resumeAuthPause,
  settingsFingerprint,
} from '../../src/policy/auth-pause';
import { syncError } from '../../src/sync/errors';

const MIN = 60_000;
const T0 = Date.UTC(2025, 0, 1);
const TOKEN = 'abcDEF123456tokenXYZ';
const oldSettings = settingsFingerprint(['http://plex:32400', TOKEN]);
const newSettings = settingsFingerprint(['http://plex:32400', 'a-new-token-0987654321']);
const unauthorized = syncError('unauthorized', 'Plex answered 401 Unauthorized');

describe('auth pause', () => {
  it('tells the user what failed and which setting to fix', () => {
    const pause = pauseForAuth(unauthorized, T0, oldSettings);
    expect(pause.source).toBe('plex');
    expect(pause.reason).toBe(
      'Plex answered 401 Unauthorized; the queue resumes once a check succeeds',
    );
    expect(pauseForAuth(syncError('stash_unauthorized', 'HTTP 401'), T0, oldSettings).source).toBe('stash');
  });

  it('probes at once when the settings changed', () => {
    const pause = pauseForAuth(unauthorized, T0, oldSettings);
    expect(authProbeDue(pause, T0 + 1, oldSettings)).toBe(false);
    expect(authProbeDue(pause, T0 + 1, newSettings)).toBe(true);
  });

  it('probes on a growing schedule when nothing changed: 30 s, 1, 2, 4, 8 min, then every 10 min', () => {
    let pause = pauseForAuth(unauthorized, T0, oldSettings);
    let at = T0;
    for (const wait of [0.5 * MIN, 1 * MIN, 2 * MIN, 4 * MIN, 8 * MIN, 10 * MIN, 10 * MIN]) {
      expect(authProbeDue(pause, at + wait - 1, oldSettings)).toBe(false);
      const probe = acquireAuthProbe(pause, at + wait, oldSettings);
      expect(probe.granted).toBe(true);
      at += wait;
      pause = authProbeResult(probe.pause, false)!;
    }
  });

  it('probes soon after a new event arrives, but never sooner than 30 s after the last probe', () => {
    let pause = pauseForAuth(unauthorized, T0, oldSettings);
    // Three failed probes: the schedule's next one is 4 minutes after the last.
    let at = T0;
    for (const wait of [0.5 * MIN, 1 * MIN, 2 * MIN]) {
      at += wait;
      pause = authProbeResult(acquireAuthProbe(pause, at, oldSettings).pause, false)!;
    }
    const withEvent = noteEventWhilePaused(pause);
    expect(authProbeDue(withEvent, at + 29_999, oldSettings)).toBe(false);
    const probe = acquireAuthProbe(withEvent, at + 30_000, oldSettings);
    expect(probe.granted).toBe(true);
    // The probe used up the event: the next one waits for another event or the schedule.
    const failed = authProbeResult(probe.pause, false)!;
    expect(authProbeDue(failed, at + 30_000 + 31_000, oldSettings)).toBe(false);
    expect(authProbeDue(noteEventWhilePaused(failed), at + 30_000 + 31_000, oldSettings)).toBe(true);
  });

  it('reads a pause stored before the schedule existed as one with no failed probe', () => {
    const stored = { source: 'plex', reason: 'r', since: T0, settingsFingerprint: oldSettings, lastProbeAt: null, probeInFlight: false };
    const pause = authPauseSchema.parse(stored);
    expect(authProbeDue(pause, T0 + 0.5 * MIN, oldSettings)).toBe(true);
  });

  it('lets exactly one probe out at a time, even when the settings change again meanwhile', () => {
    const pause = pauseForAuth(unauthorized, T0, oldSettings);
    const first = acquireAuthProbe(pause, T0 + 5, newSettings);
    expect(first.granted).toBe(true);
    const second = acquireAuthProbe(first.pause, T0 + 6, settingsFingerprint(['x', 'yet-another-token']));
    expect(second.granted).toBe(false);
    expect(second.pause).toBe(first.pause);
  });

  it('waits for another change after a probe with the new settings fails', () => {
    const pause = pauseForAuth(unauthorized, T0, oldSettings);
    const probing = acquireAuthProbe(pause, T0 + 5, newSettings).pause;
    const failed = authProbeResult(probing, false, syncError('unauthorized', 'still 401'))!;
    expect(failed.reason).toMatch(/^still 401;/);
    expect(failed.since).toBe(T0);
    expect(authProbeDue(failed, T0 + 6, newSettings)).toBe(false);
    expect(authProbeDue(failed, T0 + 6, oldSettings)).toBe(true);
  });

  it('ends when a probe succeeds', () => {
    const probing = acquireAuthProbe(pauseForAuth(unauthorized, T0, oldSettings), T0 + 1, newSettings).pause;
    expect(authProbeResult(probing, true)).toBeNull();
  });

  it('resumes in a new worker with no probe out, from stored JSON', () => {
    const probing = acquireAuthProbe(pauseForAuth(unauthorized, T0, oldSettings), T0 + 1, newSettings).pause;
    const stored = authPauseSchema.parse(JSON.parse(JSON.stringify(probing)));
    const resumed = resumeAuthPause(stored);
    expect(resumed.probeInFlight).toBe(false);
    expect(authProbeDue(resumed, T0 + 10 * MIN + 1, newSettings)).toBe(true);
  });

  it('keeps when it began when the pause is renewed by another 401', () => {
    const first = pauseForAuth(unauthorized, T0, oldSettings);
    const again = pauseForAuth(syncError('unauthorized', 'again'), T0 + MIN, oldSettings, first);
    expect(again.since).toBe(T0);
  });
});

describe('settings fingerprint', () => {
  it('is stable, changes with any value, and does not contain the secret', () => {
    expect(settingsFingerprint(['http://plex:32400', TOKEN])).toBe(oldSettings);
    expect(oldSettings).not.toBe(newSettings);
    expect(settingsFingerprint(['ab', 'c'])).not.toBe(settingsFingerprint(['a', 'bc']));
    expect(oldSettings).toMatch(/^[0-9a-f]{16}$/);
    expect(oldSettings).not.toContain(TOKEN.slice(0, 6));
  });
});
