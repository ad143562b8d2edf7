import { describe, expect, it } from 'vitest';
import { MinuteHistory } from '../../src/worker/history';

const totals = (synced: number, errors = 0) => ({ synced, unchanged: 0, retried: errors, deadLettered: 0 });
const T0 = Date.UTC(2026, 11, 4, 14, 0, 0);

describe('MinuteHistory', () => {
  it('counts what changed per wall-clock minute, unchanged scenes as synced', () => {
    const h = new MinuteHistory();
    h.record(totals(0), T0);
    h.record(totals(3, 1), T0 + 10_000);
    h.record({ synced: 4, unchanged: 2, retried: 1, deadLettered: 1 }, T0 + 70_000);
    expect(h.list()).toEqual([
      { at: T0, synced: 3, errors: 1 },
      { at: T0 + 60_000, synced: 3, errors: 1 },
    ]);
  });

  it('keeps the last hour only, and leaves quiet minutes out', () => {
    const h = new MinuteHistory(60);
    h.record(totals(0), T0);
    for (let m = 0; m < 90; m++) h.record(totals(m + 1), T0 + m * 60_000 + 1);
    const list = h.list();
    expect(list).toHaveLength(60);
    expect(list[0]!.at).toBe(T0 + 30 * 60_000);
    h.record(totals(90), T0 + 200 * 60_000);
    expect(h.list()).toEqual([]);
  });

  it('carries over what a previous worker published, and ignores anything malformed or too old', () => {
    const h = new MinuteHistory();
    h.seed([{ at: T0, synced: 5, errors: 0 }, { at: T0 - 3 * 3_600_000, synced: 9, errors: 9 }, { at: 'x' }], T0 + 120_000);
    h.record(totals(10), T0 + 120_000);
    h.record(totals(12), T0 + 130_000);
    expect(h.list()).toEqual([
      { at: T0, synced: 5, errors: 0 },
      { at: T0 + 120_000, synced: 12, errors: 0 },
    ]);
  });
});
