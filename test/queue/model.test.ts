import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { QueueStore, type Job, type Priority } from '../../src/queue';
import { Clock, listJobs, useTempDirs } from './helpers';
import { int, pick, rng } from '../support/random';

const tempDir = useTempDirs();

/**
 * The queue's rules, written as plainly as possible: arrays, sorting and a counter. The store must
 * agree with it after every step of a random sequence of operations.
 */
interface MJob {
  sceneId: string;
  priority: Priority;
  trigger: string;
  force: boolean;
  attempts: number;
  crashCount: number;
  state: 'ready' | 'delayed' | 'active';
  runAt: number;
  order: number;
  created: number;
  deferred: boolean;
  rerun?: { priority: Priority; trigger: string; force: boolean };
  removed: boolean;
}
interface MDlq {
  sceneId: string;
  errorClass: string;
  attempts: number;
  force: boolean;
  failedAt: number;
  order: number;
}

class Model {
  jobs = new Map<string, MJob>();
  dlq: MDlq[] = [];
  done = 0;
  private counter = 0;
  constructor(private readonly clock: Clock) {}

  private next(): number {
    return ++this.counter;
  }

  enqueue(sceneId: string, priority: Priority, trigger: string, force: boolean, runAt: number): void {
    const now = this.clock.t;
    const job = this.jobs.get(sceneId);
    if (job?.state === 'active') {
      job.rerun = {
        priority: job.rerun ? (Math.min(job.rerun.priority, priority) as Priority) : priority,
        trigger,
        force: (job.rerun?.force ?? false) || force,
      };
      job.removed = false;
      return;
    }
    if (job) {
      const p = Math.min(job.priority, priority) as Priority;
      job.trigger = trigger;
      job.force ||= force;
      const failed = job.attempts > 0 || job.deferred || job.crashCount > 0;
      if (job.state === 'ready') {
        if (p !== job.priority) job.order = this.next();
      } else if (!failed && runAt < job.runAt) {
        job.state = runAt <= now ? 'ready' : 'delayed';
        job.runAt = runAt;
        job.order = this.next();
      }
      job.priority = p;
      return;
    }
    this.dlq = this.dlq.filter((e) => e.sceneId !== sceneId);
    const order = this.next();
    this.jobs.set(sceneId, {
      sceneId, priority, trigger, force, attempts: 0, crashCount: 0, runAt, order, created: order,
      state: runAt <= now ? 'ready' : 'delayed', deferred: false, removed: false,
    });
  }

  remove(sceneId: string): void {
    const job = this.jobs.get(sceneId);
    if (job?.state === 'active') {
      job.removed = true;
      delete job.rerun;
    } else if (job) this.jobs.delete(sceneId);
    this.dlq = this.dlq.filter((e) => e.sceneId !== sceneId);
  }

  take(limit: number): string[] {
    const now = this.clock.t;
    const due = [...this.jobs.values()].filter((j) => j.state === 'delayed' && j.runAt <= now).sort((a, b) => a.runAt - b.runAt || a.order - b.order);
    for (const job of due) {
      job.state = 'ready';
      job.order = this.next();
    }
    const ready = [...this.jobs.values()].filter((j) => j.state === 'ready').sort((a, b) => a.priority - b.priority || a.order - b.order);
    const taken = ready.slice(0, limit);
    for (const job of taken) job.state = 'active';
    return taken.map((j) => j.sceneId);
  }

  private mergeRerun(job: MJob): void {
    if (!job.rerun) return;
    job.priority = Math.min(job.priority, job.rerun.priority) as Priority;
    job.trigger = job.rerun.trigger;
    job.force ||= job.rerun.force;
    delete job.rerun;
  }

  complete(sceneId: string): void {
    const job = this.jobs.get(sceneId)!;
    this.done++;
    if (job.rerun && !job.removed) {
      Object.assign(job, { ...job.rerun, attempts: 0, crashCount: 0, deferred: false, state: 'ready', order: this.next() });
      delete job.rerun;
    } else this.jobs.delete(sceneId);
  }

  later(sceneId: string, at: number, kind: 'retry' | 'defer'): void {
    const job = this.jobs.get(sceneId)!;
    if (kind === 'retry') job.attempts++;
    job.deferred = kind === 'defer';
    if (job.removed) return void this.jobs.delete(sceneId);
    this.mergeRerun(job);
    Object.assign(job, { state: 'delayed', runAt: at, order: this.next() });
  }

  release(sceneId: string, crashed = false): void {
    const job = this.jobs.get(sceneId)!;
    if (crashed) job.crashCount++;
    if (job.removed) return void this.jobs.delete(sceneId);
    if (crashed && job.crashCount >= 3) {
      this.jobs.delete(sceneId);
      this.dlq.push({ sceneId, errorClass: 'poison', attempts: job.attempts, force: job.force, failedAt: this.clock.t, order: this.next() });
      return;
    }
    this.mergeRerun(job);
    job.state = 'ready';
  }

  deadLetter(sceneId: string, errorClass: string): void {
    const job = this.jobs.get(sceneId)!;
    if (job.removed) return void this.jobs.delete(sceneId);
    if (job.rerun) {
      Object.assign(job, { ...job.rerun, attempts: 0, crashCount: 0, deferred: false, state: 'ready', order: this.next() });
      delete job.rerun;
      return;
    }
    this.jobs.delete(sceneId);
    this.dlq.push({ sceneId, errorClass, attempts: job.attempts + 1, force: job.force, failedAt: this.clock.t, order: this.next() });
  }

  crash(): void {
    const active = [...this.jobs.values()].filter((j) => j.state === 'active').sort((a, b) => a.created - b.created);
    for (const job of active) this.release(job.sceneId, true);
  }

  sortedDlq(): MDlq[] {
    return [...this.dlq].sort((a, b) => a.failedAt - b.failedAt || a.order - b.order);
  }

  redrive(filter: { errorClass?: string; sceneIds?: string[]; limit?: number }, priority: Priority): number {
    const selected = this.sortedDlq()
      .filter((e) => (filter.errorClass === undefined || e.errorClass === filter.errorClass) && (!filter.sceneIds || filter.sceneIds.includes(e.sceneId)))
      .slice(0, filter.limit ?? Infinity);
    for (const entry of selected) {
      this.dlq = this.dlq.filter((e) => e !== entry);
      this.enqueue(entry.sceneId, priority, 'dlq-redrive', entry.force, this.clock.t);
    }
    return selected.length;
  }

  active(): string[] {
    return [...this.jobs.values()].filter((j) => j.state === 'active').map((j) => j.sceneId);
  }
}

const view = (j: Job) => ({
  sceneId: j.sceneId, state: j.state, priority: j.priority, trigger: j.trigger, force: j.force,
  attempts: j.attempts, crashCount: j.crashCount, rerun: j.rerun ?? null, removed: j.removed ?? false,
});
const modelView = (j: MJob) => ({
  sceneId: j.sceneId, state: j.state, priority: j.priority, trigger: j.trigger, force: j.force,
  attempts: j.attempts, crashCount: j.crashCount, rerun: j.rerun ?? null, removed: j.removed,
});
const bySceneId = (a: { sceneId: string }, b: { sceneId: string }) => (a.sceneId < b.sceneId ? -1 : a.sceneId > b.sceneId ? 1 : 0);

async function runSequence(seed: number, steps: number): Promise<void> {
  const r = rng(seed);
  const dir = path.join(tempDir(), 'queue');
  const clock = new Clock();
  const open = () => QueueStore.open(dir, { now: clock.now, doneMaxEntries: 1e6, doneTtlMs: 1e12, dlqMaxEntries: 1e6, dlqMaxAgeMs: 1e12 });
  let store = await open();
  const model = new Model(clock);
  const scenes = Array.from({ length: 8 }, (_, i) => String(i + 1));
  const classes = ['transient', 'permanent', 'not-found'];
  let trig = 0;
  const log: string[] = [];

  for (let step = 0; step < steps; step++) {
    const active = model.active();
    let op = int(r, 0, 99);
    if (op >= 45 && op < 75 && active.length === 0) op = 30; // nothing to finish: take instead
    const ctx = () => `seed ${seed} step ${step}: ${log.slice(-6).join(' | ')}`;
    if (op < 30) {
      const sceneId = pick(r, scenes);
      const priority = int(r, 0, 2) as Priority;
      const force = r() < 0.2;
      const runAt = r() < 0.2 ? clock.t + int(r, 1, 5) * 1000 : clock.t;
      const trigger = `t${++trig}`;
      log.push(`enqueue ${sceneId} p${priority} ${trigger}${runAt > clock.t ? ' later' : ''}`);
      model.enqueue(sceneId, priority, trigger, force, runAt);
      await store.enqueue([{ sceneId, priority, trigger, force, runAt }]);
    } else if (op < 45) {
      const limit = int(r, 1, 3);
      log.push(`take ${limit}`);
      const expected = model.take(limit);
      const got = await store.take(limit);
      expect(got.map((j) => j.sceneId), ctx()).toEqual(expected);
    } else if (op < 75) {
      const sceneId = pick(r, active);
      const ref = store.jobForScene(sceneId)!;
      const what = pick(r, ['complete', 'complete', 'retry', 'defer', 'deadLetter', 'release'] as const);
      log.push(`${what} ${sceneId}`);
      if (what === 'complete') {
        model.complete(sceneId);
        await store.complete(ref, { summary: 'ok' });
      } else if (what === 'retry' || what === 'defer') {
        const at = clock.t + int(r, 0, 4) * 1000;
        model.later(sceneId, at, what);
        if (what === 'retry') await store.retry(ref, at, { class: 'transient', message: 'x' });
        else await store.defer(ref, at, 'breaker open');
      } else if (what === 'deadLetter') {
        const cls = pick(r, classes);
        model.deadLetter(sceneId, cls);
        await store.deadLetter(ref, { class: cls, message: 'x' });
      } else {
        model.release(sceneId);
        await store.release(ref);
      }
    } else if (op < 82) {
      log.push('crash');
      model.crash();
      await store.close(); // the active keys stay on disk, as after a kill
      store = await open();
    } else if (op < 88) {
      const filter = {
        ...(r() < 0.5 ? { errorClass: pick(r, [...classes, 'poison']) } : {}),
        ...(r() < 0.3 ? { sceneIds: scenes.filter(() => r() < 0.4) } : {}),
        ...(r() < 0.5 ? { limit: int(r, 1, 3) } : {}),
      };
      const priority = int(r, 0, 2) as Priority;
      log.push(`redrive ${JSON.stringify(filter)} p${priority}`);
      const expected = model.redrive(filter, priority);
      expect(await store.redrive({ ...filter, priority }), ctx()).toBe(expected);
    } else if (op < 92) {
      const sceneId = pick(r, scenes);
      log.push(`remove ${sceneId}`);
      model.remove(sceneId);
      await store.removeScene(sceneId);
    } else {
      log.push('tick');
      clock.advance(int(r, 1, 3) * 1000);
    }

    expect(listJobs(store).map(view).sort(bySceneId), ctx()).toEqual([...model.jobs.values()].map(modelView).sort(bySceneId));
    expect(store.dlqList().map((e) => [e.sceneId, e.errorClass, e.attempts]), ctx()).toEqual(
      model.sortedDlq().map((e) => [e.sceneId, e.errorClass, e.attempts]),
    );
    expect(store.counts().done, ctx()).toBe(model.done);
    const delayedTimes = [...model.jobs.values()].filter((j) => j.state === 'delayed').map((j) => j.runAt);
    expect(store.nextDueAt(), ctx()).toBe(delayedTimes.length ? Math.min(...delayedTimes) : undefined);
  }
  await store.close();
}

describe('QueueStore against a model', () => {
  it('agrees with the model over random sequences of enqueue, take, complete, retry, defer, dead-letter, crash-and-reopen and redrive', async () => {
    for (let seed = 1; seed <= 15; seed++) await runSequence(seed, 180);
  });
});
