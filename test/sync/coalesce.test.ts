import { describe, expect, it } from 'vitest';
import { debounceUntil } from '../../src/sync/coalesce';

const T0 = Date.UTC(2025, 0, 1);

describe('debounceUntil', () => {
  it('waits 2 s after the latest event of a burst', () => {
    expect(debounceUntil({ firstEventAt: T0, lastEventAt: T0 + 1500 }, T0 + 1500)).toBe(T0 + 3500);
  });

  it('runs a job whose burst settled long ago at once', () => {
    expect(debounceUntil({ firstEventAt: T0, lastEventAt: T0 }, T0 + 60_000)).toBe(T0 + 60_000);
  });

  it('does not let a steady stream of edits hold the scene back more than 10 s', () => {
    let runAt = 0;
    for (let t = 0; t <= 30_000; t += 500) runAt = debounceUntil({ firstEventAt: T0, lastEventAt: T0 + t }, T0 + t);
    expect(runAt).toBe(T0 + 30_000);
    expect(debounceUntil({ firstEventAt: T0, lastEventAt: T0 + 9_000 }, T0 + 9_000)).toBe(T0 + 10_000);
  });

  it('skips the wait when the window is 0 (bulk syncs)', () => {
    expect(debounceUntil({ firstEventAt: T0, lastEventAt: T0 }, T0, 0)).toBe(T0);
  });
});
