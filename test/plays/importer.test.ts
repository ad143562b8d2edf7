import { putSyncRecord } from '../queue/helpers';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PlexClient } from '../../src/plex/client';
import { fetchSections, selectSections } from '../../src/plex/sections';
import { importPlays, type ImportKind } from '../../src/plays/importer';
import { PlaysJournal } from '../../src/plays/journal';
import { sceneIdsByRatingKey } from '../../src/plays/scenes';
import { QueueStore } from '../../src/queue';
import { StashClient } from '../../src/stash/graphql';
import { startFakePlex, type FakePlex } from '../fake-plex/server';
import { startFakeStash, type FakeStash } from '../fake-stash/server';
import { useTempDirs } from '../queue/helpers';

const tempDir = useTempDirs();
const T0 = 1_700_000_000;

interface World {
  plex: FakePlex;
  stash: FakeStash;
  store: QueueStore;
  journal: PlaysJournal;
  /** Scene id → its Plex item's ratingKey. */
  rk: (sceneId: string) => string;
  run(kind: ImportKind, accounts?: string[], nowSeconds?: number, shouldStop?: () => boolean): ReturnType<typeof importPlays>;
  logs: string[];
  close(): Promise<void>;
}

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** Scenes 1..n in Stash, each with a Plex item; the first `synced` have sync records naming their item. */
async function startWorld(n: number, synced = n): Promise<World> {
  const dir = tempDir();
  // A second library that plex_libraries leaves out: its plays are not PlexCourier's business.
  const plex = await startFakePlex({ sections: [{ title: 'Movies', type: 'movie', locations: ['/media/movies'] }, { title: 'Home Videos', type: 'movie', locations: ['/media/home'] }] });
  const items = plex.addItems(Array.from({ length: n }, (_, i) => ({ file: `/media/movies/scene-${i + 1}.mp4` })));
  const stash = await startFakeStash({ scenes: items.map((_, i) => ({ id: String(i + 1), title: `Scene ${i + 1}` })) });
  const store = await QueueStore.open(path.join(dir, 'queue'));
  for (let i = 0; i < synced; i++) await putSyncRecord(store, String(i + 1), { stateHash: 'h', ratingKeys: [items[i]!.ratingKey], syncedAt: Date.now() });
  const journal = PlaysJournal.of(store);
  const plexClient = new PlexClient({ url: plex.url, token: plex.token, clientIdFile: path.join(dir, 'client-id') });
  const stashClient = new StashClient({ url: stash.url, sessionCookie: stash.connection.sessionCookie });
  const logs: string[] = [];
  let runs = 0;
  return {
    plex,
    stash,
    store,
    journal,
    logs,
    rk: (sceneId) => items[Number(sceneId) - 1]!.ratingKey,
    run: (kind, accounts = [], nowSeconds, shouldStop) =>
      importPlays(
        {
          journal,
          plex: plexClient,
          stash: stashClient,
          sectionKeys: async () => new Set(selectSections(await fetchSections(plexClient), ['Movies']).map((s) => s.key)),
          sceneMap: () => sceneIdsByRatingKey(stashClient, store),
          log: { info: (m) => logs.push(m), warn: (m) => logs.push(m), debug: (m) => logs.push(m) },
          ...(nowSeconds !== undefined ? { nowSeconds: () => nowSeconds } : {}),
          ...(shouldStop ? { shouldStop } : {}),
        },
        { runId: `run-${++runs}`, kind, accounts },
      ),
    close: async () => {
      plexClient.close();
      stashClient.close();
      await store.close();
      await plex.close();
      await stash.close();
    },
  };
}

const plays = (w: World, sceneId: string) => w.stash.getScene(sceneId)!.play_history;
const iso = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

describe('importing plays from Plex', () => {
  it('turns each Plex play of a synced item into one Stash play, and a second run adds nothing', async () => {
    world = await startWorld(3, 2);
    const w = world;
    w.plex.addPlay(w.rk('1'), { viewedAt: T0 });
    w.plex.addPlay(w.rk('1'), { viewedAt: T0 + 3_600 });
    w.plex.addPlay(w.rk('2'), { viewedAt: T0 + 60 });
    w.plex.addPlay(w.rk('3'), { viewedAt: T0 + 120 }); // scene 3 was never synced

    const first = await w.run('backfill');
    expect(first).toMatchObject({ read: 4, applied: 3, alreadyApplied: 0, unmatched: 1, accounts: ['owner (1)'] });
    expect(plays(w, '1')).toEqual([iso(T0), iso(T0 + 3_600)]);
    expect(plays(w, '2')).toEqual([iso(T0 + 60)]);
    expect(plays(w, '3')).toEqual([]);

    const second = await w.run('backfill');
    expect(second).toMatchObject({ applied: 0, alreadyApplied: 3, unmatched: 1 });
    const check = await w.run('check', [], T0 + 3_700);
    expect(check).toMatchObject({ applied: 0, unmatched: 0 });
    expect(plays(w, '1')).toHaveLength(2);
    expect(w.stash.requestLog.filter((r) => r.operationName === 'PlexCourierAddPlay')).toHaveLength(3);
    expect(w.stash.violations).toEqual([]);
    w.plex.assertManners();
  });

  it('a check reads from its watermark; plays older than its first look are left to the backfill', async () => {
    world = await startWorld(2);
    const w = world;
    w.plex.addPlay(w.rk('1'), { viewedAt: T0 }); // long before the feature was turned on
    const first = await w.run('check', [], T0 + 86_400);
    expect(first).toMatchObject({ read: 0, applied: 0 });
    expect(await w.journal.watermark(1)).toBe(T0 + 86_400 - 3_600);

    w.plex.addPlay(w.rk('2'), { viewedAt: T0 + 90_000 });
    const second = await w.run('check', [], T0 + 90_100);
    expect(second).toMatchObject({ read: 1, applied: 1 });
    expect(await w.journal.watermark(1)).toBe(T0 + 90_000);
    const sent = w.plex.requestLog.filter((r) => r.path === '/status/sessions/history/all').at(-1)!;
    // An hour behind the watermark the first check left.
    expect(sent.query).toContainEqual(['viewedAt>', String(T0 + 86_400 - 3_600 - 3_600)]);

    const backfill = await w.run('backfill');
    expect(backfill).toMatchObject({ read: 2, applied: 1, alreadyApplied: 1 });
    expect(plays(w, '1')).toEqual([iso(T0)]);
  });

  it('copies the owner\'s resume points: a partial watch from Continue Watching, 0 after a finished play, and not again while unchanged', async () => {
    world = await startWorld(3);
    const w = world;
    w.plex.setViewOffset(w.rk('1'), 93_500);
    w.plex.setViewOffset(w.rk('2'), 10_000);
    w.plex.addPlay(w.rk('2'), { viewedAt: T0 }); // finished: the point is cleared
    w.stash.updateScene('3', { resume_time: 42 });

    const first = await w.run('check', [], T0 + 60);
    expect(first).toMatchObject({ applied: 1, resumePoints: 2 });
    expect(w.stash.getScene('1')!.resume_time).toBe(93.5);
    expect(w.stash.getScene('2')!.resume_time).toBe(0);
    expect(w.stash.getScene('3')!.resume_time).toBe(42);

    // The user moves on in Stash; an unchanged Plex point does not overwrite it.
    w.stash.updateScene('1', { resume_time: 300 });
    expect(await w.run('check', [], T0 + 120)).toMatchObject({ resumePoints: 0 });
    expect(w.stash.getScene('1')!.resume_time).toBe(300);
    w.plex.setViewOffset(w.rk('1'), 120_000);
    expect(await w.run('check', [], T0 + 180)).toMatchObject({ resumePoints: 1 });
    expect(w.stash.getScene('1')!.resume_time).toBe(120);
    expect(w.stash.violations).toEqual([]);
  });

  it('a backfill of old plays does not rewind a resume point set in Stash since', async () => {
    world = await startWorld(1);
    const w = world;
    w.plex.addPlay(w.rk('1'), { viewedAt: T0 });
    w.stash.updateScene('1', { resume_time: 300 });
    expect(await w.run('backfill')).toMatchObject({ applied: 1, resumePoints: 0 });
    expect(w.stash.getScene('1')!.resume_time).toBe(300);
  });

  it('counts plays of items that no scene or several scenes name, and of items Plex removed, without guessing', async () => {
    world = await startWorld(4, 2);
    const w = world;
    await putSyncRecord(w.store, '4', { stateHash: 'h', ratingKeys: [w.rk('2')], syncedAt: Date.now() }); // two scenes, one item
    w.plex.addPlay(w.rk('2'), { viewedAt: T0 });
    w.plex.addPlay(w.rk('3'), { viewedAt: T0 + 1 });
    w.plex.addPlay(w.rk('1'), { viewedAt: T0 + 2 });
    w.plex.removeItem(w.rk('1'));
    const r = await w.run('backfill');
    // Scene 1's item is gone from Plex, but the history row and the sync record still name it: it counts.
    expect(r).toMatchObject({ applied: 1, unmatched: 2 });
    expect(plays(w, '1')).toHaveLength(1);
    expect(plays(w, '2')).toEqual([]);
    expect(plays(w, '4')).toEqual([]);
    expect(w.logs.join('\n')).toMatch(/matches several scenes \(2, 4\)/);

    // Syncing scene 3 later lets a backfill import its play; a check alone does not revisit it.
    await putSyncRecord(w.store, '3', { stateHash: 'h', ratingKeys: [w.rk('3')], syncedAt: Date.now() });
    expect(await w.run('check', [], T0 + 60)).toMatchObject({ applied: 0, unmatched: 0 });
    expect(await w.run('backfill')).toMatchObject({ applied: 1, unmatched: 1 });
    expect(plays(w, '3')).toHaveLength(1);
  });

  it('leaves plays and resume points of libraries outside plex_libraries alone, counted apart from unmatched ones', async () => {
    world = await startWorld(1);
    const w = world;
    const home = w.plex.addItem({ section: '2', file: '/media/home/birthday.mp4' });
    w.plex.addPlay(home.ratingKey, { viewedAt: T0 });
    w.plex.setViewOffset(home.ratingKey, 5_000);
    w.plex.addPlay(w.rk('1'), { viewedAt: T0 + 1 });
    const r = await w.run('backfill');
    expect(r).toMatchObject({ read: 2, applied: 1, unmatched: 0, otherLibraries: 1, resumePoints: 0 });
    // Nothing in them needed the scene map: a check with only such activity asks Stash for no scene list.
    const listings = () => w.stash.requestLog.filter((q) => q.operationName === 'PlexCourierSceneIdsPage').length;
    const before = listings();
    w.plex.addPlay(home.ratingKey, { viewedAt: T0 + 7_000 });
    w.plex.setViewOffset(home.ratingKey, 9_000);
    // The check reads from an hour before its watermark, so it sees the first one again too.
    expect(await w.run('check', [], T0 + 7_100)).toMatchObject({ read: 3, otherLibraries: 2, unmatched: 0, resumePoints: 0 });
    expect(listings()).toBe(before);
  });

  it('reads only the accounts plex_accounts names, and reports one it does not know', async () => {
    world = await startWorld(2);
    const w = world;
    const alice = w.plex.addAccount('alice', 5);
    const bob = w.plex.addAccount('bob', 6);
    w.plex.addPlay(w.rk('1'), { viewedAt: T0, accountID: alice.id });
    w.plex.addPlay(w.rk('1'), { viewedAt: T0 + 1, accountID: bob.id });
    w.plex.addPlay(w.rk('2'), { viewedAt: T0 + 2 });
    const r = await w.run('backfill', ['Alice', '1', 'carol']);
    expect(r).toMatchObject({ applied: 2, accounts: ['alice (5)', 'owner (1)'] });
    expect(r.problems).toEqual([expect.stringMatching(/no account "carol"/)]);
    expect(plays(w, '1')).toEqual([iso(T0)]);
    expect(plays(w, '2')).toEqual([iso(T0 + 2)]);
    const accountsAsked = w.plex.requestLog.filter((q) => q.path === '/status/sessions/history/all').map((q) => q.query.find(([k]) => k === 'accountID')?.[1]);
    expect(accountsAsked).toEqual(['5', '1']);
  });

  it('settles entries left pending by an interrupted run: a play already in Stash is not added twice, a missing one is added', async () => {
    world = await startWorld(3);
    const w = world;
    w.plex.addPlay(w.rk('1'), { viewedAt: T0 }); // history 1: reached Stash before the crash
    w.plex.addPlay(w.rk('2'), { viewedAt: T0 + 5 }); // history 2: the crash came before the call
    w.plex.addPlay(w.rk('3'), { viewedAt: T0 + 9 }); // history 3 and 4: same second, same scene
    w.plex.addPlay(w.rk('3'), { viewedAt: T0 + 9 });
    // What a run killed at those moments leaves behind.
    await w.journal.markPending({ historyId: '1', ratingKey: w.rk('1'), sceneId: '1', viewedAt: T0, accountId: 1 });
    w.stash.updateScene('1', { play_history: [iso(T0)] });
    await w.journal.markPending({ historyId: '2', ratingKey: w.rk('2'), sceneId: '2', viewedAt: T0 + 5, accountId: 1 });
    await w.journal.markApplied(await w.journal.markPending({ historyId: '3', ratingKey: w.rk('3'), sceneId: '3', viewedAt: T0 + 9, accountId: 1 }));
    w.stash.updateScene('3', { play_history: [iso(T0 + 9)] });
    await w.journal.markPending({ historyId: '4', ratingKey: w.rk('3'), sceneId: '3', viewedAt: T0 + 9, accountId: 1 });

    const r = await w.run('backfill');
    expect(r).toMatchObject({ recovered: 3, applied: 0, alreadyApplied: 4 });
    expect(plays(w, '1')).toEqual([iso(T0)]);
    expect(plays(w, '2')).toEqual([iso(T0 + 5)]);
    expect(plays(w, '3')).toEqual([iso(T0 + 9), iso(T0 + 9)]);
    expect(await w.journal.pending()).toEqual([]);
  });

  it('a worker that is leaving stops the run between two rows, and the next run carries on from the journal', async () => {
    world = await startWorld(3);
    const w = world;
    for (let i = 0; i < 9; i++) w.plex.addPlay(w.rk(String((i % 3) + 1)), { viewedAt: T0 + i });
    let asked = 0;
    const stopped = await w.run('backfill', [], undefined, () => ++asked > 5);
    expect(stopped.error).toBe('the worker is stopping; the next run carries on');
    expect(stopped.applied).toBe(4);
    expect(await w.journal.pending()).toEqual([]);
    expect(await w.run('backfill')).toMatchObject({ applied: 5, alreadyApplied: 4 });
    for (const id of ['1', '2', '3']) expect(plays(w, id)).toHaveLength(3);
  });

  it('stops with a one-line error when Stash fails, and the next run finishes the job without doubling a play', async () => {
    world = await startWorld(2);
    const w = world;
    w.plex.addPlay(w.rk('1'), { viewedAt: T0 });
    w.plex.addPlay(w.rk('2'), { viewedAt: T0 + 1 });
    w.stash.failWith(502);
    const failed = await w.run('backfill');
    expect(failed.error).toMatch(/502/);
    expect(failed.applied).toBe(0);
    w.stash.failWith(undefined);
    expect(await w.run('backfill')).toMatchObject({ applied: 2 });
    expect(plays(w, '1')).toHaveLength(1);
    expect(plays(w, '2')).toHaveLength(1);
  });
});
