import { describe, expect, it } from 'vitest';
import { sharedItemConflicts } from '../../src/plex/find';
import { plexErrorOf, useFakePlex } from './harness';

const setup = useFakePlex();

describe('finding the Plex item for a Stash file', () => {
  it('maps the Stash path and finds the item in the index without a request', async () => {
    const h = await setup();
    const it1 = h.plex.addItem({ file: '/media/movies/a/scene.mp4' });
    const svc = h.service({ pathMap: '/data/stash=>/media/movies' });
    await svc.sections(); // builds the index
    h.plex.clearLog();
    expect(await svc.findItems('/data/stash/a/scene.mp4')).toEqual([
      { ratingKey: it1.ratingKey, sectionId: '1', type: 'movie', file: '/media/movies/a/scene.mp4' },
    ]);
    expect(h.plex.requestLog).toHaveLength(0);
  });

  it('on an index miss asks with file= and keeps only an exact Part.file match', async () => {
    const h = await setup();
    const svc = h.service();
    await svc.sections();
    h.plex.addItem({ file: '/media/movies/scene.mp4.part2.mp4' }); // contains the path, is not it
    const real = h.plex.addItem({ file: '/media/movies/scene.mp4' });
    h.plex.clearLog();
    const refs = await svc.findItems('/media/movies/scene.mp4');
    expect(refs.map((r) => r.ratingKey)).toEqual([real.ratingKey]);
    const asked = h.plex.requestLog.find((r) => r.query.some(([k]) => k === 'file'));
    expect(asked!.query).toContainEqual(['file', '/media/movies/scene.mp4']);
  });

  it('falls back to a unique basename, case-insensitively, when the folders differ', async () => {
    const h = await setup();
    const it1 = h.plex.addItem({ file: '/media/movies/Other/Scene.MP4' });
    const svc = h.service();
    const refs = await svc.findItems('/somewhere/else/scene.mp4');
    expect(refs.map((r) => r.ratingKey)).toEqual([it1.ratingKey]);
  });

  it('breaks a basename tie with the file size', async () => {
    const h = await setup();
    h.plex.addItem({ file: '/media/movies/x/dup.mp4', size: 111 });
    const b = h.plex.addItem({ file: '/media/movies/y/dup.mp4', size: 222 });
    const refs = await h.service().findItems('/elsewhere/dup.mp4', 222);
    expect(refs.map((r) => r.ratingKey)).toEqual([b.ratingKey]);
  });

  it('several candidates is a permanent ambiguous error listing them, never the first', async () => {
    const h = await setup();
    const a = h.plex.addItem({ file: '/media/movies/x/dup.mp4', size: 5 });
    const b = h.plex.addItem({ file: '/media/movies/y/dup.mp4', size: 5 });
    const e = await plexErrorOf(() => h.service().findItems('/elsewhere/dup.mp4', 5));
    expect(e.kind).toBe('ambiguous');
    expect(e.message).toContain('/media/movies/x/dup.mp4');
    expect(e.message).toContain('/media/movies/y/dup.mp4');
    expect(e.details.candidates!.map((c) => c.ratingKey).sort()).toEqual([a.ratingKey, b.ratingKey].sort());
  });

  it('a file in no library is not_found, with the mapped path and what to check', async () => {
    const h = await setup();
    const e = await plexErrorOf(() => h.service({ pathMap: '/data=>/media/movies' }).findItems('/data/new.mp4'));
    expect(e.kind).toBe('not_found');
    expect(e.message).toContain('/media/movies/new.mp4');
    expect(e.message).toMatch(/path_map/);
  });

  it('the same file in two libraries gives both items', async () => {
    const h = await setup({
      sections: [
        { title: 'Movies', type: 'movie', locations: ['/media'] },
        { title: 'Movies 4K', type: 'movie', locations: ['/media'] },
      ],
    });
    const a = h.plex.addItem({ section: '1', file: '/media/s.mkv' });
    const b = h.plex.addItem({ section: '2', file: '/media/s.mkv' });
    const refs = await h.service().findItems('/media/s.mkv');
    expect(refs.map((r) => [r.sectionId, r.ratingKey]).sort()).toEqual([
      ['1', a.ratingKey],
      ['2', b.ratingKey],
    ]);
  });

  it('only looks in the libraries named in plex_libraries', async () => {
    const h = await setup({
      sections: [
        { title: 'Movies', type: 'movie', locations: ['/a'] },
        { title: 'Private', type: 'movie', locations: ['/b'] },
      ],
    });
    h.plex.addItem({ section: '2', file: '/b/x.mp4' });
    const e = await plexErrorOf(() => h.service({ libraries: 'Movies' }).findItems('/b/x.mp4'));
    expect(e.kind).toBe('not_found');
  });

  it('an unknown library name is a clear error naming the ones that exist', async () => {
    const h = await setup();
    const e = await plexErrorOf(() => h.service({ libraries: 'Films' }).findItems('/media/movies/x.mp4'));
    expect(e.kind).toBe('bad_request');
    expect(e.message).toContain('"Films"');
    expect(e.message).toContain('"Movies"');
  });

  it('matches paths case-insensitively on a Windows server, with \\\\?\\ prefixes and NFD names', async () => {
    const h = await setup({ platform: 'Windows', sections: [{ title: 'Movies', type: 'movie', locations: ['D:\\Media'] }] });
    const a = h.plex.addItem({ file: '\\\\?\\D:\\Media\\Long\\Cafe\u0301.mp4' });
    const svc = h.service({ pathMap: '/data=>D:\\Media' });
    const refs = await svc.findItems('/data/LONG/Caf\u00e9.mp4');
    expect(refs.map((r) => r.ratingKey)).toEqual([a.ratingKey]);
  });

  it('on a Linux server, paths differing only in case are different files', async () => {
    const h = await setup();
    const lower = h.plex.addItem({ file: '/media/movies/a/file.mp4' });
    h.plex.addItem({ file: '/media/movies/A/file.mp4' });
    const refs = await h.service().findItems('/media/movies/a/file.mp4');
    expect(refs.map((r) => r.ratingKey)).toEqual([lower.ratingKey]);
  });

  it('finds an item by any of its parts', async () => {
    const h = await setup();
    const a = h.plex.addItem({ file: 'x', media: [[{ file: '/media/movies/cd1.avi' }, { file: '/media/movies/cd2.avi' }]] });
    expect((await h.service().findItems('/media/movies/cd2.avi'))[0]!.ratingKey).toBe(a.ratingKey);
  });
});

describe('two Stash scenes on one Plex item', () => {
  it('reports the item already claimed by another scene', () => {
    const claims = new Map([['10', 'scene-1']]);
    const refs = [{ ratingKey: '10', sectionId: '1', type: 'movie' as const, file: '/m/cd1.avi' }];
    expect(sharedItemConflicts(claims, 'scene-2', refs)).toEqual([{ ratingKey: '10', otherSceneId: 'scene-1', file: '/m/cd1.avi' }]);
    expect(sharedItemConflicts(claims, 'scene-1', refs)).toEqual([]);
  });
});
