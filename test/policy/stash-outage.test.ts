import { describe, expect, it } from 'vitest';
import { nextStashProbeAt, probeStashNow, startStashOutage, stashProbeFailed } from '../../src/policy/stash-outage';

const T0 = Date.UTC(2025, 0, 1);
const MIN = 60_000;

describe('a Stash outage', () => {
  it('probes 30 s after the first failure, then 1, 2, 4, 8 min after each failed probe, and every 10 min after that', () => {
    let outage = startStashOutage(T0, 'connection refused');
    let at = T0;
    for (const wait of [0.5 * MIN, 1 * MIN, 2 * MIN, 4 * MIN, 8 * MIN, 10 * MIN, 10 * MIN]) {
      expect(nextStashProbeAt(outage)).toBe(at + wait);
      at += wait;
      outage = stashProbeFailed(outage, at, 'still refused');
    }
  });

  it('keeps when it began and the latest reason', () => {
    const outage = stashProbeFailed(startStashOutage(T0, 'connection refused'), T0 + MIN, 'HTTP 502');
    expect(outage).toMatchObject({ since: T0, lastFailureAt: T0 + MIN, failedProbes: 1, message: 'HTTP 502' });
  });

  it('probes 5 s after the last failure once a hook or task ran (Stash was up a moment ago), then goes back to its schedule', () => {
    const outage = stashProbeFailed(startStashOutage(T0, 'refused'), T0 + 30_000, 'refused');
    const soon = probeStashNow(outage);
    expect(nextStashProbeAt(soon)).toBe(T0 + 35_000);
    expect(nextStashProbeAt(stashProbeFailed(soon, T0 + 40_000, 'refused'))).toBe(T0 + 40_000 + 2 * MIN);
  });
});
