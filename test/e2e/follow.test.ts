import { putSyncRecord } from '../queue/helpers';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { QueueStore } from '../../src/queue';
import { killWorkers, makeScene, PLEX_ROOT, readLog, STASH_ROOT, startEnv, type Env } from './env';

/**
 * Stash changes that fire no Scene hook (issue 17): renames, merges and deletions of tags, performers,
 * studios and groups, a scene merge (no hook at all), and scenes with several files. The fake Stash
 * changes its data and returns the hooks a real Stash fires; env.fire runs those the manifest subscribes to.
 */

let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const genres = (e: Env, id: string) => e.plexItem(id).tags.Genre.map((t) => t.tag).sort();
const actors = (e: Env, id: string) => e.plexItem(id).tags.Role.map((t) => t.tag);
const collections = (e: Env, id: string) => e.plexItem(id).tags.Collection.map((t) => t.tag).sort();
/** Plex requests that touched one item (reads or writes). */
const requestsFor = (e: Env, id: string) => e.plex.requestLog.filter((r) => r.path.startsWith(`/library/metadata/${e.plexItem(id).ratingKey}`));

const scenes = [
  makeScene('1', {
    tags: [{ id: '1', name: 'Tag One' }],
    performers: [{ id: '1', name: 'Ann Example' }],
    studio: { id: '1', name: 'Studio One' },
    groups: [{ group: { id: '1', name: 'Group One' } }],
  }),
  makeScene('2', {
    tags: [
      { id: '1', name: 'Tag One' },
      { id: '2', name: 'Tag Two' },
    ],
    performers: [{ id: '2', name: 'Bea Example' }],
    studio: { id: '2', name: 'Studio Two' },
  }),
  makeScene('3', { tags: [{ id: '3', name: 'Tag Three' }], performers: [], studio: null }),
];

async function synced(opts: Parameters<typeof startEnv>[0]): Promise<Env> {
  const e = await startEnv({ idleMs: 60_000, ...opts });
  const run = await e.task('sync_all');
  expect(run.error).toBeNull();
  e.plex.clearLog();
  return e;
}

describe('renames reach every synced scene that uses the renamed thing', () => {
  it('tag, performer, studio and group renames, each one hook, reach exactly the scenes using them', async () => {
    env = await synced({ scenes, settings: { groups_as_collections: true } });
    const fired = [
      ...(await env.fire(env.stash.updateEntity('tag', '1', { name: 'Tag Uno' }))),
      ...(await env.fire(env.stash.updateEntity('performer', '1', { name: 'Ann Renamed' }))),
      ...(await env.fire(env.stash.updateEntity('studio', '2', { name: 'Studio Deux' }))),
      ...(await env.fire(env.stash.updateEntity('group', '1', { name: 'Group Uno' }))),
    ];
    // Four Saves, four hooks: Stash also fires Movie.Update.Post for the group, which the plugin does not subscribe to.
    expect(fired).toHaveLength(4);
    for (const r of fired) expect(r.error).toBeNull();

    await env.waitFor(() => collections(env!, '1').includes('Group Uno') && env!.plexItem('2').scalars.studio === 'Studio Deux', 'the renames to reach Plex');
    await env.waitFor(() => genres(env!, '2').includes('Tag Uno') && actors(env!, '1')[0] === 'Ann Renamed', 'the tag and performer renames');
    expect(genres(env, '1')).toEqual(['Tag Uno']);
    expect(genres(env, '2')).toEqual(['Tag Two', 'Tag Uno']);
    expect(env.plexItem('1').scalars.studio).toBe('Studio One');
    // Scene 3 uses none of them: Plex never hears of it.
    expect(requestsFor(env, '3')).toEqual([]);
    expect(env.stash.violations).toEqual([]);
  });

  it("a rename of a tag no synced scene uses costs no Plex request, and a tag's description costs nothing at all", async () => {
    env = await synced({ scenes });
    // A scene added after the sync (never synced) uses tag 9.
    env.stash.addScene(makeScene('4', { tags: [{ id: '9', name: 'Unsynced' }], files: [{ path: `${STASH_ROOT}/elsewhere.mp4` }] }));
    await env.fire(env.stash.updateEntity('tag', '9', { name: 'Still Unsynced' }));
    await env.fire(env.stash.updateEntity('tag', '1', { description: 'Only a description' }));
    await env.waitFor(() => /Tag\.Update\.Post tag 9: touches no synced scene/.test(readLog(env!.dataDir)), 'the rename to be looked at');
    expect(env.plex.requestLog).toEqual([]);
    expect(readLog(env.dataDir)).not.toMatch(/tag 1:/);
  });

  it('a tag merge reaches the scenes that had the merged tags', async () => {
    env = await synced({ scenes });
    await env.fire(env.stash.mergeTags(['3'], '2'));
    await env.waitFor(() => genres(env!, '3').includes('Tag Two'), 'the merge to reach scene 3');
    expect(genres(env, '3')).toEqual(['Tag Two']);
    expect(genres(env, '2')).toEqual(['Tag One', 'Tag Two']);
  });
});

describe('deletions reach the scenes that had the deleted thing, though Stash no longer says which', () => {
  it('a tag, a performer and a studio deleted in Stash leave the Plex items of the scenes that had them', async () => {
    env = await synced({ scenes });
    await env.fire(env.stash.destroyEntity('tag', '1'));
    await env.fire(env.stash.destroyEntity('performer', '2'));
    await env.fire(env.stash.destroyEntity('studio', '1'));
    await env.waitFor(
      () => genres(env!, '1').length === 0 && actors(env!, '2').length === 0 && env!.plexItem('1').scalars.studio === undefined,
      'the deletions to reach Plex',
    );
    expect(genres(env, '2')).toEqual(['Tag Two']);
    expect(actors(env, '1')).toEqual(['Ann Example']);
    expect(env.plexItem('2').scalars.studio).toBe('Studio Two');
    expect(requestsFor(env, '3')).toEqual([]);
  });

  it('a scene synced before links were recorded is still reached by a deletion (checked once, at no Plex cost if unaffected)', async () => {
    env = await synced({ scenes });
    // As an older version left it: the worker stopped, scene 2's record without links, scene 3's too.
    killWorkers(env.dataDir);
    const store = await QueueStore.open(path.join(env.dataDir, 'queue'));
    for (const id of ['2', '3']) {
      const { links: _links, ...old } = (await store.getSyncRecord(id))!;
      await putSyncRecord(store, id, old);
    }
    await store.close();
    await env.fire(env.stash.destroyEntity('tag', '2'));
    await env.waitFor(() => genres(env!, '2').length === 1, 'the deletion to reach scene 2');
    expect(genres(env, '2')).toEqual(['Tag One']);
    await env.waitFor(() => (env!.status().counts?.ready ?? 1) + (env!.status().counts?.active ?? 1) === 0, 'the queue to drain');
    // Scene 3 was checked and found unchanged: Plex never heard of it.
    expect(requestsFor(env, '3')).toEqual([]);
  });
});

describe('every file of a scene', () => {
  it("a scene's metadata goes to the item of each of its files; a removed file's item is left alone", async () => {
    const two = makeScene('1', { files: [{ path: `${STASH_ROOT}/scene-1.mp4`, size: 1001 }, { path: `${STASH_ROOT}/scene-1-copy.mp4`, size: 2002 }] });
    env = await startEnv({ scenes: [two], idleMs: 60_000 });
    // Plex has only the first file at first: that item is written, and the scene stays due for the other.
    await env.edit('1', { title: 'Both Files' });
    await env.waitFor(() => env!.plexItem('1').scalars.title === 'Both Files' && (env!.status().counts?.done ?? 0) === 1, 'the first item to show the title');
    const copy = env.plex.addItem({ file: `${PLEX_ROOT}/scene-1-copy.mp4`, size: 2002, title: 'scene-1-copy' });
    // Nothing changed in Stash, yet Sync All writes the item Plex now has: its file was never written.
    await env.task('sync_all');
    await env.waitFor(() => env!.plex.item(copy.ratingKey).scalars.title === 'Both Files', 'the second item to show the title');
    expect(env.plex.item(copy.ratingKey).tags.Genre.map((t) => t.tag)).toEqual(['Tag One']);

    await env.edit('1', { files: [{ path: `${STASH_ROOT}/scene-1.mp4`, size: 1001 }] });
    await env.edit('1', { title: 'One File' });
    await env.waitFor(() => env!.plexItem('1').scalars.title === 'One File', 'the edit to reach the remaining file');
    expect(env.plex.item(copy.ratingKey).scalars.title).toBe('Both Files');
  });
});

describe('changes that fire no hook', () => {
  it("a scene merge (no hook) reaches the destination's items, the merged-in file's item included, within the catch-up interval", async () => {
    env = await synced({ scenes, env: { PLEXCOURIER_CATCHUP_MS: '1000' } });
    const sourceItem = env.plexItem('2').ratingKey;
    expect(env.stash.mergeScenes(['2'], '1')).toEqual([]);
    await env.waitFor(() => env!.plex.item(sourceItem).scalars.title === 'Scene 1', "the merged file's item to show the destination's title");
    expect(env.plex.item(sourceItem).tags.Genre.map((t) => t.tag)).toEqual(['Tag One']);
    expect(env.plexItem('1').scalars.title).toBe('Scene 1');
    expect(readLog(env.dataDir)).toMatch(/1 scene\(s\) changed in Stash without a hook/);
    // The merged-away scene's claim on the item is gone with it: no "two scenes share an item" warning.
    expect(readLog(env.dataDir)).not.toMatch(/both match Plex item/);

    // Tag 1 is deleted: the records name scene 1 and the merged-away scene 2, which Stash no longer has
    // (a real Stash fails a whole findScenes for one unknown id): scene 1 still syncs, scene 2 is dropped.
    await env.fire(env.stash.destroyEntity('tag', '1'));
    await env.waitFor(() => env!.plex.item(sourceItem).tags.Genre.length === 0 && genres(env!, '1').length === 0, 'the deletion to reach both items');
    expect(readLog(env.dataDir)).not.toMatch(/cannot read scenes from Stash/);
    expect(env.stash.violations).toEqual([]);
  });
});
