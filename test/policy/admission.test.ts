import { describe, expect, it } from 'vitest';
import { AdmissionPolicy, type Admission } from '../../src/policy/admission';
import { syncError, type SyncErrorClass } from '../../src/sync/errors';
import { rng } from '../support/random';

const S = 1000;
const MIN = 60 * S;
const T0 = Date.UTC(2025, 0, 1);
const FP = 'settings-v1';

/** A policy on a clock the test moves, with seeded jitter. */
function setup(seed = 1) {
  const clock = { t: T0 };
  const policy = new AdmissionPolicy({ random: rng(seed) });
  /** `fp`: the settings in force when the job ran. */
  const fail = (cls: SyncErrorClass, pauses = false, fp = FP) =>
    policy.failed(clock.t, syncError(cls, `${cls} failure`), pauses, fp, () => 7);
  const admit = (fp = FP): Admission => policy.admit(clock.t, fp);
  return { clock, policy, fail, admit };
}

/** Runs a dependency outage second by second: every admitted job fails with `cls`. Returns the probes' times. */
function outage(s: ReturnType<typeof setup>, ms: number, cls: SyncErrorClass): number[] {
  const probes: number[] = [];
  const end = s.clock.t + ms;
  for (; s.clock.t < end; s.clock.t += S) {
    const a = s.admit();
    if (a.kind === 'none') continue;
    if (a.kind === 'probe') probes.push(s.clock.t);
    s.fail(cls);
  }
  return probes;
}

describe('admission: the breaker', () => {
  it('admits full rounds while Plex is healthy', () => {
    const s = setup();
    expect(s.admit()).toEqual({ kind: 'all' });
    s.fail('not_found');
    s.fail('bad_request');
    expect(s.admit()).toEqual({ kind: 'all' });
    expect(s.policy.canContinue()).toBe(true);
  });

  it('five failures that mean Plex is down open it: nothing is admitted until the probe is due, and the outage records the jobs waiting', () => {
    const s = setup();
    for (let i = 0; i < 4; i++) expect(s.fail('network')).toEqual({});
    const change = s.fail('network');
    expect(change.breakerOpened?.nextProbeAt).toBeGreaterThan(T0);
    expect(s.admit()).toEqual({ kind: 'none' });
    expect(s.policy.canContinue()).toBe(false);
    expect(s.policy.breakerState()).toMatchObject({ state: 'open', outages: [{ start: T0, jobsWaiting: 7 }] });
  });

  it('a minute down (30 s refused, then 30 s of 503s) lets at most one probe through per half-open window, and the first success closes it', () => {
    const s = setup();
    const probes = [...outage(s, 30 * S, 'network'), ...outage(s, 30 * S, 'server')];
    // Opened in the first second; probes at ~30 s (jittered down by at most 20 %), then ~60 s after that.
    expect(probes.length).toBeGreaterThanOrEqual(1);
    expect(probes.length).toBeLessThanOrEqual(2);
    for (let i = 1; i < probes.length; i++) expect(probes[i]! - probes[i - 1]!).toBeGreaterThanOrEqual(24 * S);

    // Plex is back: wait for the next probe, which succeeds and admits everything.
    let a = s.admit();
    while (a.kind === 'none') {
      s.clock.t += S;
      a = s.admit();
    }
    expect(a).toEqual({ kind: 'probe', for: 'breaker' });
    expect(s.admit()).toEqual({ kind: 'none' }); // exactly one probe out
    s.policy.succeeded(s.clock.t, true);
    expect(s.admit()).toEqual({ kind: 'all' });
    // One job a second: the fifth failure, at 4 s, opened it.
    expect(s.policy.breakerState()).toMatchObject({ state: 'closed', outages: [{ start: T0 + 4 * S, end: s.clock.t }] });
  });

  it('a probe that never reached Plex (an unchanged scene) hands the probe to the next job at once', () => {
    const s = setup();
    outage(s, 5 * S, 'timeout');
    s.clock.t += 10 * MIN;
    expect(s.admit().kind).toBe('probe');
    s.policy.succeeded(s.clock.t, false);
    expect(s.admit()).toEqual({ kind: 'probe', for: 'breaker' });
  });

  it('an empty queue gives the probe slot back; Process Queue makes the probe due at once', () => {
    const s = setup();
    outage(s, 5 * S, 'network');
    expect(s.admit()).toEqual({ kind: 'none' });
    s.policy.probeNow(s.clock.t);
    const probe = s.admit();
    expect(probe).toEqual({ kind: 'probe', for: 'breaker' });
    s.policy.giveBack(probe, s.clock.t);
    expect(s.admit()).toEqual({ kind: 'probe', for: 'breaker' });
  });
});

describe('admission: the auth pause', () => {
  it('a rejected token pauses the queue: one probe at once after the settings change, else on a growing schedule while it is still refused', () => {
    const s = setup();
    expect(s.fail('unauthorized', true)).toEqual({ pauseStarted: true });
    expect(s.policy.pauseState()).toEqual({ reason: expect.stringMatching(/unauthorized failure/), since: T0 });
    expect(s.admit()).toEqual({ kind: 'none' });
    // Unprompted probes, each refused again: 30 s, then 1 min, then 2 min after the last.
    for (const wait of [30 * S, MIN, 2 * MIN]) {
      s.clock.t += wait - S;
      expect(s.admit()).toEqual({ kind: 'none' });
      s.clock.t += S;
      expect(s.admit()).toEqual({ kind: 'probe', for: 'pause' });
      expect(s.admit()).toEqual({ kind: 'none' }); // exactly one out
      expect(s.fail('unauthorized', true)).toEqual({}); // still refused: still paused, no new pause
    }
    // The user saved a new token: probe now.
    expect(s.admit('settings-v2')).toEqual({ kind: 'probe', for: 'pause' });
    expect(s.policy.succeeded(s.clock.t, true)).toEqual({ pauseEnded: { since: T0 } });
    expect(s.admit('settings-v2')).toEqual({ kind: 'all' });
  });

  it('a new event while paused brings the next probe forward, but not sooner than 30 s after the last', () => {
    const s = setup();
    s.fail('unauthorized', true);
    s.clock.t += 30 * S;
    expect(s.admit().kind).toBe('probe');
    s.fail('unauthorized', true); // the schedule's next probe would be 1 min later
    s.policy.noteEvents();
    s.clock.t += 29 * S;
    expect(s.admit()).toEqual({ kind: 'none' });
    s.clock.t += S;
    expect(s.admit()).toEqual({ kind: 'probe', for: 'pause' });
  });

  it('while paused, a probe Plex answered otherwise (404) proves the token and lifts the pause; an unreachable Plex does not', () => {
    const s = setup();
    s.fail('unauthorized', true);
    expect(s.admit('v2').kind).toBe('probe');
    expect(s.fail('network')).toEqual({});
    expect(s.policy.paused).toBe(true);
    expect(s.policy.pauseState()?.reason).toMatch(/network failure/);
    s.policy.probeNow(s.clock.t);
    expect(s.admit('v2').kind).toBe('probe');
    expect(s.fail('not_found')).toEqual({ pauseEnded: { since: T0 } });
    expect(s.policy.paused).toBe(false);
  });

  it('the pause wins over the breaker: while paused only the pause probes, whatever the breaker says', () => {
    const s = setup();
    outage(s, 5 * S, 'network');
    s.fail('unauthorized', true);
    s.clock.t += 11 * MIN;
    expect(s.admit()).toEqual({ kind: 'probe', for: 'pause' });
  });

  it('an unused pause probe is given back, so the next round may probe again', () => {
    const s = setup();
    s.fail('unauthorized', true);
    const probe = s.admit('v2');
    expect(probe.kind).toBe('probe');
    s.policy.giveBack(probe, s.clock.t);
    expect(s.admit('v2')).toEqual({ kind: 'probe', for: 'pause' });
  });
});

describe('admission: Stash not answering', () => {
  it('holds the whole queue, probes with one job on a growing schedule, sooner after a hook, and resumes when Stash answers', () => {
    const s = setup();
    expect(s.policy.stashUnreachable(s.clock.t, 'connection refused')).toEqual({ nextProbeAt: T0 + 30 * S });
    expect(s.policy.canContinue()).toBe(false);
    expect(s.policy.stashState()).toEqual({ unreachableSince: T0, nextProbeAt: T0 + 30 * S, message: 'connection refused' });
    expect(s.admit()).toEqual({ kind: 'none' });
    s.clock.t += 30 * S;
    expect(s.admit()).toEqual({ kind: 'probe', for: 'stash' });
    expect(s.policy.stashUnreachable(s.clock.t, 'still refused').nextProbeAt).toBe(s.clock.t + MIN);
    // A hook ran: Stash was up a moment ago, so the probe comes within 5 s.
    s.policy.noteEvents();
    expect(s.policy.nextProbeAt()).toBe(s.clock.t + 5 * S);
    s.clock.t += 5 * S;
    expect(s.admit()).toEqual({ kind: 'probe', for: 'stash' });
    expect(s.policy.stashAnswered()).toEqual({ since: T0 });
    expect(s.admit()).toEqual({ kind: 'all' });
    expect(s.policy.stashAnswered()).toBeUndefined();
  });
});

describe('admission: a new worker', () => {
  it('resumes what the last worker persisted: an open breaker stays open, a pause stays paused with no probe out', () => {
    const s = setup();
    outage(s, 5 * S, 'network');
    s.fail('unauthorized', true);
    s.clock.t += 11 * MIN;
    expect(s.admit().kind).toBe('probe'); // the old worker's probe dies with it
    const saved = s.policy.toPersist();
    const warnings: string[] = [];
    const next = AdmissionPolicy.restore({ breaker: saved.breaker, pause: saved.pause }, { random: rng(2) }, (m) => warnings.push(m));
    expect(warnings).toEqual([]);
    expect(next.breakerState().state).toBe('open');
    expect(next.paused).toBe(true);
    // Its next probe comes at the usual time (or at once when the settings change).
    expect(next.admit(s.clock.t, FP)).toEqual({ kind: 'none' });
    expect(next.admit(s.clock.t + 30 * S, FP)).toEqual({ kind: 'probe', for: 'pause' });
  });

  it('unreadable persisted state starts afresh with one warning', () => {
    const warnings: string[] = [];
    const p = AdmissionPolicy.restore({ breaker: { state: 'weird' }, pause: { nonsense: true } }, {}, (m) => warnings.push(m));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/closed breaker/);
    expect(p.admit(T0, FP)).toEqual({ kind: 'all' });
  });

  it('persists the breaker only when it changed', () => {
    const s = setup();
    expect(s.policy.toPersist().breaker).toBeDefined();
    expect(s.policy.toPersist().breaker).toBeUndefined();
    s.fail('network');
    expect(s.policy.toPersist().breaker).toMatchObject({ consecutiveFailures: 1 });
  });
});
