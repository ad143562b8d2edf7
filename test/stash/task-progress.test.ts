import { describe, expect, it } from 'vitest';
import { progressReporter, SettledCounter } from '../../src/tasks/link';
import type { WorkerStatus } from '../../src/tasks/status';

const status = (pid: number, session: Record<string, number>): WorkerStatus =>
  ({ pid, heartbeatAt: 0, counts: { ready: 0, delayed: 0, active: 0, dlq: 0, done: 0 }, dlqByClass: {}, session }) as WorkerStatus;

describe('counting the scenes a task queued as the worker settles them', () => {
  it('counts from the starting point taken before queueing, not from the worker start', () => {
    const c = new SettledCounter(status(10, { synced: 5, unchanged: 7 }));
    expect(c.observe(status(10, { synced: 8, unchanged: 9, retried: 1, deadLettered: 1, dropped: 1 }))).toEqual({ synced: 3, unchanged: 2, failed: 2, dropped: 1 });
  });

  it('keeps what a worker settled before it restarted, and counts the new one from zero', () => {
    const c = new SettledCounter(status(10, { synced: 5 }));
    c.observe(status(10, { synced: 9 }));
    expect(c.observe(status(11, { synced: 2, unchanged: 3 }))).toEqual({ synced: 6, unchanged: 3, failed: 0, dropped: 0 });
  });

  it("starts at zero when the last status is a dead worker's", () => {
    const c = new SettledCounter(status(10, { synced: 500 }));
    expect(c.observe(status(12, { unchanged: 4 }))).toEqual({ synced: 0, unchanged: 4, failed: 0, dropped: 0 });
  });
});

describe("a task's progress bar", () => {
  it('moves on every 1 % step, and at most once a second for smaller steps', () => {
    let now = 0;
    const sent: number[] = [];
    const report = progressReporter({ progress: (f) => sent.push(f) }, () => now);
    report(0.1);
    report(0.105); // under 1 %, within the second: held back
    now = 400;
    report(0.12);
    now = 1_500;
    report(0.125); // under 1 %, but a second has passed
    report(0.125); // unchanged
    report(2); // clamped, and the end is always shown
    expect(sent).toEqual([0.1, 0.12, 0.125, 1]);
  });
});
