import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { QueueStore, StoreLockedError, JobStateError, type QueueStoreOptions } from '../../src/queue';
import { loadClassicLevel } from '../../src/native';
import { Clock, doneList, useTempDirs } from './helpers';

const tempDir = useTempDirs();

async function openStore(opts: QueueStoreOptions = {}, dir = path.join(tempDir(), 'queue')) {
  const clock = new Clock();
  const store = await QueueStore.open(dir, { now: clock.now, ...opts });
  return { store, clock, dir };
}

const hook = (sceneId: string, extra: Partial<{ priority: 0 | 1 | 2; trigger: string; force: boolean; runAt: number }> = {}) => ({
  sceneId,
  priority: 1 as const,
  trigger: 'Scene.Update.Post',
  ...extra,
});

describe('QueueStore: one job per scene, latest wins', () => {
  it('an event for a queued scene updates its job: higher priority kept, newest trigger, force OR-ed', async () => {
    const { store } = await openStore();
    await store.enqueue([hook('7', { priority: 2, trigger: 'sync_all', force: true })]);
    const summary = await store.enqueue([hook('7', { priority: 1, trigger: 'Scene.Update.Post' })]);
    expect(summary).toMatchObject({ created: 0, updated: 1 });
    const job = store.jobForScene('7');
    expect(job).toMatchObject({ priority: 1, trigger: 'Scene.Update.Post', force: true, state: 'ready' });
    await store.enqueue([hook('7', { priority: 2, trigger: 'sync_recent' })]);
    expect(store.jobForScene('7')).toMatchObject({ priority: 1, trigger: 'sync_recent' });
    expect(store.counts()).toMatchObject({ ready: 1 });
    await store.close();
  });

  it('an event for an active scene marks it to run once more after it completes', async () => {
    const { store } = await openStore();
    await store.enqueue([hook('7')]);
    const [job] = await store.take(1);
    const summary = await store.enqueue([hook('7', { trigger: 'Scene.Update.Post#2', priority: 0 })]);
    expect(summary.rerun).toBe(1);
    expect(store.counts()).toMatchObject({ ready: 0, active: 1 });
    await store.complete(job!, { summary: 'synced' });
    expect(store.counts()).toMatchObject({ ready: 1, active: 0, done: 1 });
    const [again] = await store.take(1);
    expect(again).toMatchObject({ sceneId: '7', trigger: 'Scene.Update.Post#2', priority: 0, attempts: 0 });
    await store.complete(again!, { summary: 'synced' });
    expect(store.counts()).toMatchObject({ ready: 0, active: 0, done: 2 });
    await store.close();
  });

  it('an event for a dead-lettered scene starts a fresh job and removes the DLQ entry', async () => {
    const { store } = await openStore();
    await store.enqueue([hook('9')]);
    const [job] = await store.take(1);
    await store.deadLetter(job!, { class: 'permanent', message: 'Plex said 400' });
    expect(store.counts().dlq).toBe(1);
    const summary = await store.enqueue([hook('9')]);
    expect(summary).toMatchObject({ created: 1, revived: 1 });
    expect(store.counts()).toMatchObject({ dlq: 0, ready: 1 });
    expect(store.jobForScene('9')).toMatchObject({ attempts: 0, state: 'ready' });
    await store.close();
  });

  it('removing a destroyed scene drops its waiting job, sync record and DLQ entry', async () => {
    const { store } = await openStore();
    await store.enqueue([hook('1'), hook('2')]);
    const [synced] = await store.take(1);
    await store.complete(synced!, { summary: 'synced', record: { stateHash: 'h', ratingKeys: ['55'], syncedAt: 1 } });
    expect(await store.records.getOne('1')).toBeDefined();
    await store.enqueue([hook('1')]);
    const [second, first] = await store.take(2);
    expect(first!.sceneId).toBe('1');
    await store.release(second!);
    await store.deadLetter(first!, { class: 'permanent', message: 'x' });
    await store.removeScene('1');
    await store.removeScene('2');
    expect(store.counts()).toEqual({ ready: 0, delayed: 0, active: 0, dlq: 0, done: 1 });
    expect(await store.records.getOne('1')).toBeUndefined();
    await store.close();
  });

  it('a scene destroyed while its job is active is dropped when the job completes, without a sync record', async () => {
    const { store } = await openStore();
    await store.enqueue([hook('3')]);
    const [job] = await store.take(1);
    await store.removeScene('3');
    await store.complete(job!, { summary: 'synced', record: { stateHash: 'h', ratingKeys: [], syncedAt: 1 } });
    expect(store.jobForScene('3')).toBeUndefined();
    expect(await store.records.getOne('3')).toBeUndefined();
    expect(store.counts()).toMatchObject({ ready: 0, delayed: 0, active: 0 });
    await store.close();
  });
});

describe('QueueStore: order', () => {
  it('takes user edits before hook events before bulk syncs, FIFO within a priority', async () => {
    const { store } = await openStore();
    await store.enqueue([hook('b1', { priority: 2 }), hook('n1'), hook('b2', { priority: 2 }), hook('u1', { priority: 0 }), hook('n2')]);
    await store.enqueue([hook('u2', { priority: 0 })]);
    const jobs = await store.take(10);
    expect(jobs.map((j) => j.sceneId)).toEqual(['u1', 'u2', 'n1', 'n2', 'b1', 'b2']);
    await store.close();
  });

  it('a retry that is not yet due never blocks a ready job, and runs once due', async () => {
    const { store, clock } = await openStore();
    await store.enqueue([hook('a', { priority: 0 })]);
    const [a] = await store.take(1);
    await store.retry(a!, clock.t + 60_000, { class: 'transient', message: 'ECONNRESET' });
    await store.enqueue([hook('b', { priority: 2 })]);
    expect((await store.take(5)).map((j) => j.sceneId)).toEqual(['b']);
    expect(store.nextDueAt()).toBe(clock.t + 60_000);
    clock.advance(60_000);
    const [due] = await store.take(5);
    expect(due).toMatchObject({ sceneId: 'a', attempts: 1, lastError: { class: 'transient', message: 'ECONNRESET' } });
    expect(due!.firstFailureAt).toBeDefined();
    expect(store.nextDueAt()).toBeUndefined();
    await store.close();
  });

  it('defer waits without consuming an attempt', async () => {
    const { store, clock } = await openStore();
    await store.enqueue([hook('a')]);
    const [a] = await store.take(1);
    await store.defer(a!, clock.t + 5_000, 'breaker open');
    expect(store.counts()).toMatchObject({ delayed: 1, ready: 0 });
    clock.advance(5_000);
    const [again] = await store.take(1);
    expect(again).toMatchObject({ attempts: 0, deferredReason: 'breaker open' });
    await store.close();
  });

  it('release puts a job back at its place in the ready order', async () => {
    const { store } = await openStore();
    await store.enqueue([hook('a'), hook('b'), hook('c')]);
    const [a, b] = await store.take(2);
    await store.release(b!);
    await store.release(a!);
    expect((await store.take(3)).map((j) => j.sceneId)).toEqual(['a', 'b', 'c']);
    await store.close();
  });

  it('a delayed enqueue waits until its run time', async () => {
    const { store, clock } = await openStore();
    await store.enqueue([hook('later', { runAt: clock.t + 1000 })]);
    expect(await store.take(1)).toEqual([]);
    clock.advance(1000);
    expect((await store.take(1)).map((j) => j.sceneId)).toEqual(['later']);
    await store.close();
  });

  it('a transition on a job that is not active is refused with a clear error', async () => {
    const { store } = await openStore();
    await store.enqueue([hook('a')]);
    const [a] = await store.take(1);
    await store.complete(a!, { summary: 'ok' });
    await expect(store.complete(a!, { summary: 'again' })).rejects.toBeInstanceOf(JobStateError);
    await store.close();
  });
});

describe('QueueStore: election and crash recovery', () => {
  it('a second opener of the same store gets StoreLockedError with a one-line message', async () => {
    const { store, dir } = await openStore();
    const err = await QueueStore.open(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreLockedError);
    expect((err as StoreLockedError).code).toBe('LOCKED');
    expect((err as Error).message).not.toContain('\n');
    await store.close();
    const reopened = await QueueStore.open(dir);
    await reopened.close();
  });

  it('jobs left active by a dead worker are re-queued at their place with crashCount + 1', async () => {
    const { store, dir } = await openStore();
    await store.enqueue([hook('a'), hook('b')]);
    await store.take(1);
    await store.close(); // as if the worker died: 'a' is still active on disk
    const again = await QueueStore.open(dir);
    expect(again.counts()).toMatchObject({ ready: 2, active: 0 });
    const jobs = await again.take(2);
    expect(jobs.map((j) => [j.sceneId, j.crashCount])).toEqual([
      ['a', 1],
      ['b', 0],
    ]);
    await again.close();
  });

  it('a job in flight during three crashes goes to the DLQ as poison with that reason', async () => {
    const { store, dir } = await openStore();
    await store.enqueue([hook('p')]);
    await store.take(1);
    await store.close();
    for (let crash = 1; crash <= 2; crash++) {
      const s = await QueueStore.open(dir);
      expect(s.jobForScene('p')?.crashCount).toBe(crash);
      await s.take(1);
      await s.close();
    }
    const s = await QueueStore.open(dir);
    expect(s.jobForScene('p')).toBeUndefined();
    const [entry] = s.dlqList();
    expect(entry).toMatchObject({ sceneId: 'p', errorClass: 'poison', crashCount: 3 });
    expect(entry!.message).toContain('crashed 3 times');
    await s.close();
  });

  it('reads a round of sync records at once, in the order asked, missing ones as undefined', async () => {
    const { store } = await openStore();
    await store.enqueue([hook('x'), hook('z')]);
    const [x, z] = await store.take(2);
    await store.complete(x!, { summary: 'ok', record: { stateHash: 'hx', ratingKeys: ['7'], syncedAt: 1 } });
    await store.complete(z!, { summary: 'ok', record: { stateHash: 'hz', ratingKeys: ['9', '10'], syncedAt: 2 } });
    await store.meta.put('unrelated', 1);
    expect(await store.records.get(['z', 'y', 'x'])).toEqual([
      { stateHash: 'hz', ratingKeys: ['9', '10'], syncedAt: 2 },
      undefined,
      { stateHash: 'hx', ratingKeys: ['7'], syncedAt: 1 },
    ]);
    expect(await store.records.get([])).toEqual([]);
    await store.close();
  });

  it('everything survives a reopen: jobs, DLQ, done records, sync records, meta and the sequence', async () => {
    const { store, dir, clock } = await openStore();
    await store.enqueue([hook('a'), hook('b'), hook('c', { priority: 0 })]);
    const [c, a] = await store.take(2);
    await store.complete(c!, { summary: 'synced c', record: { stateHash: 'hc', ratingKeys: ['1'], syncedAt: 5 } });
    await store.deadLetter(a!, { class: 'permanent', message: 'no such item' });
    await store.meta.put('breaker', { state: 'open', since: 3 });
    await store.close();
    const s = await QueueStore.open(dir, { now: clock.now });
    expect(s.counts()).toEqual({ ready: 1, delayed: 0, active: 0, dlq: 1, done: 1 });
    expect(s.lastDone('c')).toMatchObject({ summary: 'synced c', trigger: 'Scene.Update.Post', attempts: 0 });
    expect(await s.records.getOne('c')).toEqual({ stateHash: 'hc', ratingKeys: ['1'], syncedAt: 5 });
    expect(await s.meta.get('breaker')).toEqual({ state: 'open', since: 3 });
    await s.enqueue([hook('d')]);
    expect((await s.take(5)).map((j) => j.sceneId)).toEqual(['b', 'd']);
    await s.close();
  });
});

describe('QueueStore: DLQ', () => {
  async function storeWithDlq() {
    const opened = await openStore();
    const { store, clock } = opened;
    const classes = ['permanent', 'not-found', 'permanent', 'auth', 'not-found', 'permanent'];
    await store.enqueue(classes.map((_, i) => hook(String(i + 1))));
    for (const [i, cls] of classes.entries()) {
      const [job] = await store.take(1);
      clock.advance(1000);
      await store.deadLetter(job!, { class: cls, message: `failure ${i + 1}` });
    }
    return opened;
  }

  it('lists oldest first, filters by class and scene, and counts by class', async () => {
    const { store } = await storeWithDlq();
    expect(store.dlqList().map((e) => e.sceneId)).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(store.dlqList({ errorClass: 'permanent' }).map((e) => e.sceneId)).toEqual(['1', '3', '6']);
    expect(store.dlqList({ sceneIds: ['5', '2'], limit: 1 }).map((e) => e.sceneId)).toEqual(['2']);
    expect(store.dlqCountByClass()).toEqual({ permanent: 3, 'not-found': 2, auth: 1 });
    expect(store.dlqList()[0]).toMatchObject({ attempts: 1, message: 'failure 1' });
    await store.close();
  });

  it('redrives by class with a limit, by scene, and all, as fresh priority-0 jobs', async () => {
    const { store } = await storeWithDlq();
    await store.enqueue([hook('x', { priority: 1 })]);
    expect(await store.redrive({ errorClass: 'permanent', limit: 2 })).toBe(2);
    expect(store.dlqCountByClass()).toEqual({ permanent: 1, 'not-found': 2, auth: 1 });
    expect(await store.redrive({ sceneIds: ['4'] })).toBe(1);
    const jobs = await store.take(10);
    expect(jobs.map((j) => [j.sceneId, j.priority, j.attempts, j.trigger])).toEqual([
      ['1', 0, 0, 'dlq-redrive'],
      ['3', 0, 0, 'dlq-redrive'],
      ['4', 0, 0, 'dlq-redrive'],
      ['x', 1, 0, 'Scene.Update.Post'],
    ]);
    expect(await store.redrive({ priority: 2 })).toBe(3);
    expect(store.counts()).toMatchObject({ dlq: 0, ready: 3 });
    await store.close();
  });

  it('purges by age and by cap, oldest first', async () => {
    const { store, clock } = await storeWithDlq();
    // entries failed at t+1s .. t+6s; now is t+16s, so the cutoff is t+2.5s
    clock.advance(10_000);
    expect(await store.purgeDlq({ olderThanMs: 13_500, maxEntries: 100 })).toBe(2);
    expect(store.dlqList().map((e) => e.sceneId)).toEqual(['3', '4', '5', '6']);
    expect(await store.purgeDlq({ olderThanMs: 1e9, maxEntries: 1 })).toBe(3);
    expect(store.dlqList().map((e) => e.sceneId)).toEqual(['6']);
    expect(await store.clearDlq()).toBe(1);
    expect(store.counts().dlq).toBe(0);
    await store.close();
  });

  it('dead-lettering trims at the retention the settings gave, and by age only once it is known', async () => {
    const { store, clock } = await openStore();
    await store.enqueue([hook('1'), hook('2'), hook('3')]);
    const [first, second, third] = await store.take(3);
    await store.deadLetter(first!, { class: 'permanent', message: 'x' });
    clock.advance(40 * 86_400_000);
    // The settings are not read yet: a 40-day-old entry stays, whatever the default retention.
    await store.deadLetter(second!, { class: 'permanent', message: 'x' });
    expect(store.dlqList().map((e) => e.sceneId)).toEqual(['1', '2']);
    store.setDlqRetention(90 * 86_400_000);
    clock.advance(10 * 86_400_000);
    await store.deadLetter(third!, { class: 'permanent', message: 'x' });
    expect(store.dlqList().map((e) => e.sceneId)).toEqual(['1', '2', '3']);
    store.setDlqRetention(45 * 86_400_000);
    expect(await store.purgeDlq()).toBe(1);
    expect(store.dlqList().map((e) => e.sceneId)).toEqual(['2', '3']);
    await store.close();
  });

  it('dead-lettering applies the cap', async () => {
    const { store } = await openStore({ dlqMaxEntries: 2 });
    await store.enqueue([hook('1'), hook('2'), hook('3')]);
    for (const job of await store.take(3)) await store.deadLetter(job, { class: 'permanent', message: 'x' });
    expect(store.dlqList().map((e) => e.sceneId)).toEqual(['2', '3']);
    await store.close();
  });
});

describe('QueueStore: records', () => {
  it('done records expire after their TTL and beyond their cap; lastDone answers until then', async () => {
    const { store, clock } = await openStore({ doneTtlMs: 60_000, doneMaxEntries: 3 });
    await store.enqueue([hook('1'), hook('2'), hook('3'), hook('4')]);
    for (const job of await store.take(4)) {
      clock.advance(1000);
      await store.complete(job, { summary: `synced ${job.sceneId}` });
    }
    expect(store.counts().done).toBe(3);
    expect(store.lastDone('1')).toBeUndefined();
    expect(store.lastDone('4')).toMatchObject({ summary: 'synced 4', finishedAt: clock.t });
    clock.advance(59_500);
    await store.enqueue([hook('5')]);
    const [five] = await store.take(1);
    await store.complete(five!, { summary: 'synced 5' });
    // 2, 3 finished more than 60 s ago; 4 is 59.5 s old
    expect(doneList(store).map((d) => d.sceneId)).toEqual(['4', '5']);
    await store.close();
  });

  it('clearQueue drops waiting jobs and leaves active ones to finish without a rerun', async () => {
    const { store } = await openStore();
    await store.enqueue([hook('a'), hook('b'), hook('c', { runAt: 1e15 })]);
    const [a] = await store.take(1);
    await store.enqueue([hook('a')]);
    expect(await store.clearQueue()).toBe(2);
    await store.complete(a!, { summary: 'ok' });
    expect(store.counts()).toMatchObject({ ready: 0, delayed: 0, active: 0, done: 1 });
    await store.close();
  });

  it('oldestWaiting names the waiting job created first', async () => {
    const { store, clock } = await openStore();
    await store.enqueue([hook('a')]);
    clock.advance(10);
    await store.enqueue([hook('b')]);
    await store.take(1);
    expect(store.oldestWaiting()).toMatchObject({ sceneId: 'b', state: 'ready', since: clock.t });
    await store.close();
  });

  it('compaction keeps the head lookup working after many deletions', async () => {
    const { store, dir } = await openStore({ compactEvery: 500 });
    const n = 400;
    await store.enqueue(Array.from({ length: n }, (_, i) => hook(String(i))));
    for (const job of await store.take(n)) await store.complete(job, { summary: 'ok' });
    await store.enqueue([hook('last')]);
    await store.compact();
    await store.close();
    // What a fresh iterator finds on disk, past the tombstones of the 400 completed jobs.
    const ClassicLevel = await loadClassicLevel();
    const db = new ClassicLevel<string, string>(dir);
    expect(await db.keys({ gte: 'ready!', lt: 'ready"', limit: 1 }).all()).toEqual([expect.stringMatching(/^ready!01!/)]);
    await db.close();
    const s = await QueueStore.open(dir);
    expect((await s.take(1)).map((j) => j.sceneId)).toEqual(['last']);
    await s.close();
  });
});

describe('QueueStore: removing DLQ entries', () => {
  it('removes the named scenes from the DLQ without retrying them, and counts only those it had', async () => {
    const { store } = await openStore();
    await store.enqueue([hook('1'), hook('2'), hook('3')]);
    for (const job of await store.take(3)) await store.deadLetter(job, { class: 'permanent', message: 'x' });
    expect(await store.removeDlq(['1', '3', '9'])).toBe(2);
    expect(store.dlqList().map((e) => e.sceneId)).toEqual(['2']);
    expect(store.counts()).toMatchObject({ ready: 0, delayed: 0, active: 0, dlq: 1 });
    await store.close();
  });
});
