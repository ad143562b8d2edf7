import { describe, expect, it } from 'vitest';
import { plexErrorOf, useFakePlex } from './harness';

const setup = useFakePlex();

describe('health', () => {
  it('reports the server, a valid token and the libraries in use', async () => {
    const h = await setup({ sections: [{ title: 'Movies', type: 'movie', locations: ['/m'] }, { title: 'TV', type: 'show', locations: ['/tv'] }] });
    const health = await h.service({ libraries: 'TV' }).health();
    expect(health).toMatchObject({ reachable: true, tokenValid: true, serverName: 'Fake Plex', platform: 'Linux' });
    expect(health.libraries).toEqual([{ key: '2', title: 'TV', type: 'show', locations: ['/tv'] }]);
    expect(health.problem).toBeUndefined();
  });

  it('tells a wrong token apart from an unreachable server', async () => {
    const h = await setup();
    const bad = await h.service({ token: 'wrong' }).health();
    expect(bad).toMatchObject({ reachable: true, tokenValid: false, problem: { kind: 'unauthorized' } });
    expect(bad.problem!.message).not.toContain('wrong');
    await h.plex.down();
    const down = await h.service().health();
    expect(down).toMatchObject({ reachable: false, tokenValid: false, problem: { kind: 'unreachable' } });
  });

  it('names the existing libraries when plex_libraries names an unknown one', async () => {
    const h = await setup();
    const health = await h.service({ libraries: 'Nope' }).health();
    expect(health.problem!.message).toMatch(/"Nope".*"Movies"/);
  });

  it('a maintenance start-up is reported as a server error', async () => {
    const h = await setup({ maintenanceForMs: 60_000 });
    const health = await h.service().health();
    expect(health.problem!.kind).toBe('server');
  });
});

describe('libraries created after the index was built', () => {
  it('a file only a new library holds is found: a miss lists the libraries again and indexes the new one', async () => {
    const h = await setup({ sections: [{ title: 'Movies', type: 'movie', locations: ['/m'] }] });
    h.plex.addItem({ file: '/m/old.mp4' });
    const svc = h.service({ sectionsRecheckMs: 0 });
    expect(await svc.findItems('/m/old.mp4')).toHaveLength(1);

    const clips = h.plex.addSection({ title: 'Clips', type: 'movie', locations: ['/clips'] });
    const item = h.plex.addItem({ section: clips.key, file: '/clips/new.mp4' });
    const [ref] = await svc.findItems('/clips/new.mp4');
    expect(ref!.ratingKey).toBe(item.ratingKey);
    expect((await svc.sections()).map((s) => s.title)).toEqual(['Movies', 'Clips']);
  });

  it('checkSections indexes a new library and a folder added to one, and forgets a library that is gone', async () => {
    const h = await setup({ sections: [{ title: 'Movies', type: 'movie', locations: ['/m'] }] });
    const svc = h.service();
    await svc.findItems('/m/a.mp4').catch(() => undefined);
    expect(await svc.checkSections()).toEqual({ changed: 0, items: 0 });

    const clips = h.plex.addSection({ title: 'Clips', type: 'movie', locations: ['/clips'] });
    h.plex.addItem({ section: clips.key, file: '/clips/1.mp4' });
    h.plex.addItem({ section: clips.key, file: '/clips/2.mp4' });
    expect(await svc.checkSections()).toEqual({ changed: 1, items: 2 });
    expect(await svc.isIndexed('/clips/2.mp4')).toBe(true);

    clips.locations.push('/more');
    h.plex.addItem({ section: clips.key, file: '/more/3.mp4' });
    expect(await svc.checkSections()).toEqual({ changed: 1, items: 3 });
    expect(await svc.isIndexed('/more/3.mp4')).toBe(true);

    h.plex.removeSection(clips.key);
    expect(await svc.checkSections()).toEqual({ changed: 1, items: 0 });
    expect(await svc.isIndexed('/clips/1.mp4')).toBe(false);
    expect((await svc.sections()).map((s) => s.title)).toEqual(['Movies']);
  });
});

describe('partial scans', () => {
  it('scans the mapped Plex folder of a missing file once per debounce window, then finds the file', async () => {
    const h = await setup();
    h.plex.addDiskFile('/media/movies/new/scene.mp4', 10);
    const svc = h.service({ pathMap: '/data=>/media/movies', scanDebounceMs: 60_000 });
    expect((await plexErrorOf(() => svc.findItems('/data/new/scene.mp4'))).kind).toBe('not_found');
    expect(await svc.requestScan('/data/new/scene.mp4')).toEqual({ folder: '/media/movies/new', sectionIds: ['1'] });
    expect(await svc.requestScan('/data/new/other.mp4')).toEqual({ folder: '/media/movies/new', sectionIds: [] });
    expect(h.plex.scans).toEqual([{ sectionKey: '1', path: '/media/movies/new' }]);
    await new Promise((r) => setTimeout(r, 20));
    expect(await svc.findItems('/data/new/scene.mp4')).toHaveLength(1);
  });

  it('a folder outside every library is a clear error instead of a silent scan', async () => {
    const h = await setup();
    const e = await plexErrorOf(() => h.service().requestScan('/nowhere/x.mp4'));
    expect(e.kind).toBe('bad_request');
    expect(e.message).toMatch(/\/media\/movies/);
  });
});

describe('outages', () => {
  it('a service started while Plex is down works once Plex is back on the same port', async () => {
    const h = await setup();
    h.plex.addItem({ file: '/media/movies/a.mp4' });
    await h.plex.down();
    const svc = h.service();
    expect((await plexErrorOf(() => svc.findItems('/media/movies/a.mp4'))).kind).toBe('unreachable');
    await h.plex.up();
    const [ref] = await svc.findItems('/media/movies/a.mp4');
    const r = await svc.applyDesired(ref!, { scalars: { title: 'Back' }, tags: {} });
    expect(r.changedFields).toEqual(['title']);
  });

  it('keeps the index across restarts and refreshes it incrementally', async () => {
    const h = await setup();
    h.plex.addItem({ file: '/media/movies/a.mp4', addedAt: 1000 });
    const first = h.service();
    await first.findItems('/media/movies/a.mp4');
    await first.close();
    h.plex.addItem({ file: '/media/movies/b.mp4', addedAt: 2000 });
    h.plex.clearLog();
    const second = h.service();
    const stats = await second.refreshIndex();
    expect(stats.requests).toBe(1);
    const lists = h.plex.requestLog.filter((r) => r.path.endsWith('/all'));
    expect(lists).toHaveLength(1); // loaded from disk: no full walk
    h.plex.clearLog();
    expect(await second.findItems('/media/movies/b.mp4')).toHaveLength(1);
    expect(h.plex.requestLog).toHaveLength(0);
  });
});
