import { describe, expect, it } from 'vitest';
import { CircuitBreaker, DEFAULT_BREAKER_OPTIONS } from '../../src/policy/breaker';
import { ERROR_CLASSES, SYNC_ERROR_CLASSES, type SyncErrorClass } from '../../src/sync/errors';
import { rng as seeded } from '../support/random';

const S = 1000;
const T0 = Date.UTC(2025, 0, 1);
const noJitter = () => 0;
const counted = SYNC_ERROR_CLASSES.filter((c) => ERROR_CLASSES[c].countsForBreaker);
const uncounted = SYNC_ERROR_CLASSES.filter((c) => !ERROR_CLASSES[c].countsForBreaker);

function failTimes(b: CircuitBreaker, n: number, now: number, cls: SyncErrorClass = 'network'): void {
  for (let i = 0; i < n; i++) b.recordFailure(now, cls);
}

/** Opens the breaker, then fails `probes` probes in a row; returns each wait between opening and probe due. */
function probeWaits(b: CircuitBreaker, probes: number): number[] {
  let now = T0;
  failTimes(b, 5, now);
  const waits: number[] = [];
  for (let i = 0; i <= probes; i++) {
    const due = b.nextProbeAt()!;
    waits.push(due - now);
    now = due;
    expect(b.tryAcquireProbe(now)).toBe(true);
    if (i < probes) b.recordFailure(now, 'timeout');
  }
  return waits;
}

describe('opening', () => {
  it.each(counted)('stays closed after 4 consecutive %s failures and opens at exactly the 5th', (cls) => {
    const b = new CircuitBreaker({}, noJitter);
    failTimes(b, 4, T0, cls);
    expect(b.state).toBe('closed');
    expect(b.canDispatch(T0)).toBe(true);
    b.recordFailure(T0, cls);
    expect(b.state).toBe('open');
    expect(b.canDispatch(T0)).toBe(false);
  });

  it.each(uncounted)('never trips on %s, however many', (cls) => {
    const b = new CircuitBreaker({}, noJitter);
    failTimes(b, 100, T0, cls);
    expect(b.state).toBe('closed');
    expect(b.consecutiveFailures).toBe(0);
  });

  it('counts only consecutive failures: a success starts the count again', () => {
    const b = new CircuitBreaker({}, noJitter);
    failTimes(b, 4, T0);
    b.recordSuccess(T0);
    failTimes(b, 4, T0);
    expect(b.state).toBe('closed');
    b.recordFailure(T0, 'server');
    expect(b.state).toBe('open');
  });

  it('lets a not-found between failures neither count nor hide the outage', () => {
    const b = new CircuitBreaker({}, noJitter);
    failTimes(b, 3, T0);
    b.recordFailure(T0, 'not_found');
    failTimes(b, 2, T0);
    expect(b.state).toBe('open');
  });

  it('honours a configured threshold', () => {
    const b = new CircuitBreaker({ threshold: 2 }, noJitter);
    failTimes(b, 2, T0);
    expect(b.state).toBe('open');
  });
});

describe('half-open probing', () => {
  it('lets nothing through while open until the probe is due, then exactly one probe', () => {
    const b = new CircuitBreaker({}, noJitter);
    failTimes(b, 5, T0);
    expect(b.nextProbeAt()).toBe(T0 + 30 * S);
    expect(b.tryAcquireProbe(T0 + 29_999)).toBe(false);
    expect(b.tryAcquireProbe(T0 + 30 * S)).toBe(true);
    expect(b.state).toBe('half_open');
    expect(b.canDispatch(T0 + 30 * S)).toBe(false);
    expect(b.tryAcquireProbe(T0 + 30 * S)).toBe(false);
    expect(b.tryAcquireProbe(T0 + 3600 * S)).toBe(false);
  });

  it('never grants a second probe before the first reports back, under any interleaving', () => {
    const random = seeded(11);
    const b = new CircuitBreaker({}, random);
    let now = T0;
    let outstanding = 0;
    let granted = 0;
    for (let step = 0; step < 5000; step++) {
      now += Math.floor(random() * 20 * S);
      const r = random();
      if (r < 0.5) {
        if (b.tryAcquireProbe(now)) {
          expect(outstanding).toBe(0);
          outstanding++;
          granted++;
        }
      } else if (outstanding > 0 && r < 0.7) {
        b.recordFailure(now, 'network');
        outstanding--;
      } else if (outstanding > 0 && r < 0.75) {
        b.recordSuccess(now);
        outstanding--;
      } else if (b.state === 'closed') {
        b.recordFailure(now, 'network');
      }
    }
    expect(granted).toBeGreaterThan(10);
  });

  it('closes on a successful probe and records the outage with its end and the most jobs waiting', () => {
    const b = new CircuitBreaker({}, noJitter);
    failTimes(b, 5, T0);
    b.setJobsWaiting(120);
    b.setJobsWaiting(80);
    expect(b.tryAcquireProbe(T0 + 30 * S)).toBe(true);
    b.recordSuccess(T0 + 31 * S);
    expect(b.state).toBe('closed');
    expect(b.canDispatch(T0 + 31 * S)).toBe(true);
    expect(b.outages()).toEqual([{ start: T0, end: T0 + 31 * S, jobsWaiting: 120 }]);
  });

  it('closes when the probe meets a not-found: Plex answered', () => {
    const b = new CircuitBreaker({}, noJitter);
    failTimes(b, 5, T0);
    b.tryAcquireProbe(T0 + 30 * S);
    b.recordFailure(T0 + 30 * S, 'not_found');
    expect(b.state).toBe('closed');
  });

  it('re-opens on a failed probe with a wait that doubles from 30 s and stops at 10 min', () => {
    const waits = probeWaits(new CircuitBreaker({}, noJitter), 7);
    expect(waits).toEqual([30, 60, 120, 240, 480, 600, 600, 600].map((s) => s * S));
  });

  it('keeps jittered waits within 20 % below their step, never above the cap', () => {
    const random = seeded(99);
    for (let run = 0; run < 50; run++) {
      const b = new CircuitBreaker({}, random);
      const waits = probeWaits(b, 7);
      waits.forEach((w, i) => {
        const e = b.probeDelay(i + 1);
        expect(w).toBeGreaterThanOrEqual(Math.floor(e * 0.8));
        expect(w).toBeLessThanOrEqual(e);
      });
    }
  });

  it('starts again from 30 s after closing', () => {
    const b = new CircuitBreaker({}, noJitter);
    probeWaits(b, 3);
    b.recordSuccess(T0 + 3600 * S);
    failTimes(b, 5, T0 + 4000 * S);
    expect(b.nextProbeAt()).toBe(T0 + 4030 * S);
  });

  it('makes the next probe due at once when the probe ended without touching the dependency', () => {
    const b = new CircuitBreaker({}, noJitter);
    failTimes(b, 5, T0);
    b.tryAcquireProbe(T0 + 30 * S);
    b.releaseProbe(T0 + 32 * S);
    expect(b.state).toBe('open');
    expect(b.tryAcquireProbe(T0 + 32 * S)).toBe(true);
  });

  it('ignores late failures of requests sent before it opened', () => {
    const b = new CircuitBreaker({}, noJitter);
    failTimes(b, 5, T0);
    b.recordFailure(T0 + 20 * S, 'network');
    expect(b.nextProbeAt()).toBe(T0 + 30 * S);
  });
});

describe('persistence', () => {
  const roundTrip = (b: CircuitBreaker) => CircuitBreaker.fromJSON(JSON.parse(JSON.stringify(b.toJSON())), {}, noJitter);

  it('resumes a closed breaker with its failure count', () => {
    const b = new CircuitBreaker({}, noJitter);
    failTimes(b, 3, T0);
    const resumed = roundTrip(b);
    expect(resumed.consecutiveFailures).toBe(3);
    failTimes(resumed, 2, T0);
    expect(resumed.state).toBe('open');
  });

  it('resumes an open breaker with the same probe time and opening count', () => {
    const b = new CircuitBreaker({}, noJitter);
    probeWaits(b, 2);
    b.recordFailure(T0 + 1000 * S, 'network');
    const resumed = roundTrip(b);
    expect(resumed.state).toBe('open');
    expect(resumed.nextProbeAt()).toBe(b.nextProbeAt());
    expect(resumed.toJSON()).toEqual(b.toJSON());
  });

  it('resumes a half-open breaker as open with its probe due, never as closed', () => {
    const b = new CircuitBreaker({}, noJitter);
    failTimes(b, 5, T0);
    b.tryAcquireProbe(T0 + 30 * S);
    const resumed = roundTrip(b);
    expect(resumed.state).toBe('open');
    expect(resumed.canDispatch(T0 + 40 * S)).toBe(false);
    expect(resumed.tryAcquireProbe(T0 + 40 * S)).toBe(true);
    expect(resumed.tryAcquireProbe(T0 + 40 * S)).toBe(false);
  });

  it('keeps the outage history across workers, capped', () => {
    const b = new CircuitBreaker({ maxOutages: 3 }, noJitter);
    let now = T0;
    for (let i = 0; i < 5; i++) {
      failTimes(b, 5, now);
      now += 30 * S;
      b.tryAcquireProbe(now);
      b.recordSuccess(now);
      now += 1000 * S;
    }
    const outages = CircuitBreaker.fromJSON(b.toJSON(), { maxOutages: 3 }).outages();
    expect(outages).toHaveLength(3);
    expect(outages[0]!.start).toBe(T0 + 2 * 1030 * S);
    expect(outages.every((o) => o.end === o.start + 30 * S)).toBe(true);
  });

  it.each([
    [null, 'stored circuit breaker state is invalid (state: Invalid input: expected object, received null); delete it to start closed'],
    [{ version: 1, state: 'open' }, /^stored circuit breaker state is invalid \(consecutiveFailures: Invalid input: expected number, received undefined\)/],
  ])('rejects corrupt state %j with one line saying what to do', (json, message) => {
    expect(() => CircuitBreaker.fromJSON(json)).toThrow(message);
  });

  it('bumps its version on every state change, so the worker knows when to persist', () => {
    const b = new CircuitBreaker({}, noJitter);
    const v0 = b.version;
    b.recordSuccess(T0);
    expect(b.version).toBe(v0);
    b.recordFailure(T0, 'network');
    expect(b.version).toBeGreaterThan(v0);
  });

  it('uses the documented defaults', () => {
    expect(DEFAULT_BREAKER_OPTIONS).toMatchObject({ threshold: 5, halfOpenAfterMs: 30_000, maxHalfOpenAfterMs: 600_000 });
  });
});

describe('probeNow (the user pressed Process Queue)', () => {
  it('makes an open breaker let its one probe through at once, and only one', () => {
    const b = new CircuitBreaker({}, () => 0);
    for (let i = 0; i < 5; i++) b.recordFailure(1_000, 'network');
    expect(b.state).toBe('open');
    expect(b.tryAcquireProbe(1_001)).toBe(false);
    b.probeNow(1_001);
    expect(b.tryAcquireProbe(1_001)).toBe(true);
    expect(b.tryAcquireProbe(1_002)).toBe(false);
  });

  it('leaves a closed breaker closed', () => {
    const b = new CircuitBreaker({}, () => 0);
    b.probeNow(5);
    expect(b.state).toBe('closed');
    expect(b.nextProbeAt()).toBeNull();
  });
});
