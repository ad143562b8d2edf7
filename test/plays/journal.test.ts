import { describe, expect, it } from 'vitest';
import { QueueStore } from '../../src/queue';
import { PlaysJournal } from '../../src/plays/journal';
import { useTempDirs } from '../queue/helpers';

const tempDir = useTempDirs();
const row = (historyId: string, sceneId = '3', viewedAt = 1_700_000_000) => ({ historyId, ratingKey: '12', sceneId, viewedAt, accountId: 1 });

describe('the plays journal (a sublevel of the real LevelDB store)', () => {
  it('keeps pending, applied and unmatched rows, watermarks and resume states across a reopen', async () => {
    const dir = tempDir();
    let store = await QueueStore.open(dir);
    let journal = PlaysJournal.of(store);
    const p1 = await journal.markPending(row('1'));
    await journal.markPending(row('2'));
    await journal.markApplied(p1);
    await journal.markUnmatched([{ historyId: '3', ratingKey: '99', viewedAt: 1_700_000_100, accountId: 1 }]);
    await journal.setWatermark(1, 1_700_000_100);
    await journal.setResumeState('12', { viewOffset: 90_000, lastViewedAt: 1_700_000_200 });
    await store.close();

    store = await QueueStore.open(dir);
    journal = PlaysJournal.of(store);
    expect((await journal.entries(['1', '2', '3', '4'])).map((e) => e?.state)).toEqual(['applied', 'pending', 'unmatched', undefined]);
    expect((await journal.pending()).map((e) => e.historyId)).toEqual(['2']);
    expect(await journal.appliedAt('3', 1_700_000_000)).toBe(1);
    expect(await journal.appliedAt('3', 1_700_000_001)).toBe(0);
    expect(await journal.appliedAt('30', 1_700_000_000)).toBe(0);
    expect(await journal.watermark(1)).toBe(1_700_000_100);
    expect(await journal.watermark(5)).toBeUndefined();
    expect(await journal.resumeState('12')).toEqual({ viewOffset: 90_000, lastViewedAt: 1_700_000_200 });
    await store.close();
  });

  it('lives beside the queue without touching it: the queue opens, counts and compacts as before', async () => {
    const dir = tempDir();
    let store = await QueueStore.open(dir);
    await store.enqueue([{ sceneId: '3', priority: 1, trigger: 'test' }]);
    const journal = PlaysJournal.of(store);
    for (let i = 0; i < 50; i++) await journal.markApplied(await journal.markPending(row(String(i))));
    await store.compact();
    await store.close();
    store = await QueueStore.open(dir);
    expect(store.loadProblems).toEqual([]);
    expect(store.counts()).toMatchObject({ ready: 1, delayed: 0, active: 0, dlq: 0 });
    expect(await PlaysJournal.of(store).appliedAt('3', 1_700_000_000)).toBe(50);
    await store.close();
  });
});
