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
