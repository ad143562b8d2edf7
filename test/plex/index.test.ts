import fs from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { PathIndex, indexSection, refreshSection } from '../../src/plex/index';
import { fetchSections, selectSections } from '../../src/plex/sections';
import { useFakePlex, type Harness } from './harness';

const setup = useFakePlex();

async function movieSection(h: Harness) {
  const c = h.client();
  const [s] = selectSections(await fetchSections(c));
  return { c, s: s! };
}

function addMovies(h: Harness, n: number, from = 0, addedAt = 1_700_000_000) {
  return h.plex.addItems(Array.from({ length: n }, (_, i) => ({ file: `/media/movies/m${from + i}.mp4`, size: 100 + from + i, addedAt: addedAt + from + i })));
}

const listRequests = (h: Harness) => h.plex.requestLog.filter((r) => r.path.endsWith('/all') && r.method === 'GET');

describe('building the path index', () => {
  it('pages the section with a container size on every request and indexes every file', async () => {
    const h = await setup();
    addMovies(h, 1234);
    const { c, s } = await movieSection(h);
    const index = new PathIndex(h.indexFile);
    const stats = await indexSection(c, index, s, 500);
    expect(stats).toEqual({ requests: 3, items: 1234, complete: true });
    const starts = listRequests(h).map((r) => r.query.find(([k]) => k === 'X-Plex-Container-Start')![1]);
    expect(starts).toEqual(['0', '480', '960']); // each page re-reads the last 20 of the one before
    expect(index.lookup('/media/movies/m1233.mp4')[0]!.files[0]!.size).toBe(1333);
    expect(listRequests(h).every((r) => Number(r.query.find(([k]) => k === 'X-Plex-Container-Size')![1]) <= 1000)).toBe(true);
  });

  it('never asks for more than 1000 per page, even when told to', async () => {
    const h = await setup();
    addMovies(h, 1500);
    const { c, s } = await movieSection(h);
    const stats = await indexSection(c, new PathIndex(h.indexFile), s, 5000);
    expect(stats.items).toBe(1500);
    expect(stats.requests).toBe(2);
  });

  it('survives short pages by advancing on what arrived', async () => {
    const h = await setup();
    addMovies(h, 100);
    const { c, s } = await movieSection(h);
    h.plex.setFault({ kind: 'shortPage', pageSize: 7, path: /\/all$/ });
    const index = new PathIndex(h.indexFile);
    const stats = await indexSection(c, index, s, 50);
    expect(stats.items).toBe(100);
    expect(stats.complete).toBe(true);
    expect(stats.requests).toBe(15); // 100 ÷ 7, as many as the server forces
  });

  it('catches items inserted and deleted while it walks', async () => {
    const h = await setup();
    const items = addMovies(h, 300);
    const { c, s } = await movieSection(h);
    let page = 0;
    h.plex.setFault({
      kind: 'hook',
      path: /\/all$/,
      hook: (fake) => {
        page++;
        if (page === 2) {
          fake.removeItem(items[10]!.ratingKey); // shifts later items back across the page boundary
          fake.addItem({ file: '/media/movies/new.mp4', addedAt: 1_800_000_000 });
        }
      },
    });
    const index = new PathIndex(h.indexFile);
    const stats = await indexSection(c, index, s, 100);
    expect(stats.complete).toBe(true);
    expect(index.lookup('/media/movies/new.mp4')).toHaveLength(1);
    expect(index.lookup(`/media/movies/m100.mp4`)).toHaveLength(1);
    // m10 was deleted after it was read: it stays until it 404s, when the writer re-validates it.
  });

  it('ends, marked incomplete, when the server ignores the offset', async () => {
    const h = await setup();
    addMovies(h, 30);
    const { c, s } = await movieSection(h);
    h.plex.setFault({ kind: 'ignoreOffset', path: /\/all$/ });
    const stats = await indexSection(c, new PathIndex(h.indexFile), s, 10);
    expect(stats.complete).toBe(false);
    expect(stats.requests).toBe(12);
  });

  it('persists compactly and loads back the same lookups', async () => {
    const h = await setup();
    h.plex.addItem({ file: '/media/movies/two.mp4', media: [[{ file: '/media/movies/cd1.mp4', size: 5 }, { file: '/media/movies/cd2.mp4', size: 6 }]] });
    const { c, s } = await movieSection(h);
    const index = new PathIndex(h.indexFile);
    await indexSection(c, index, s);
    await index.save();
    const loaded = await PathIndex.load(h.indexFile);
    expect(loaded.lookup('/media/movies/cd2.mp4')[0]).toEqual(index.lookup('/media/movies/cd2.mp4')[0]);
    expect(loaded.sections).toEqual(index.sections);
  });

  it('a corrupt index file loads as empty instead of failing', async () => {
    const h = await setup();
    await fs.writeFile(h.indexFile, '{"v":1,"items":[[');
    expect((await PathIndex.load(h.indexFile)).size).toBe(0);
  });

  it('refreshes incrementally, newest first, stopping at what it already has', async () => {
    const h = await setup();
    addMovies(h, 1000);
    const { c, s } = await movieSection(h);
    const index = new PathIndex(h.indexFile);
    await indexSection(c, index, s);
    addMovies(h, 5, 5000, 1_800_000_000);
    h.plex.clearLog();
    const stats = await refreshSection(c, index, s, 200);
    expect(stats.requests).toBe(1);
    expect(stats.items).toBeGreaterThanOrEqual(5);
    expect(index.lookup('/media/movies/m5004.mp4')).toHaveLength(1);
    expect(listRequests(h)[0]!.query).toContainEqual(['sort', 'addedAt:desc']);
  });

  it('indexes a library of 100k items', async () => {
    const h = await setup();
    addMovies(h, 100_000);
    const { c, s } = await movieSection(h);
    const index = new PathIndex(h.indexFile);
    const stats = await indexSection(c, index, s, 1000);
    expect(stats).toEqual({ requests: 103, items: 100_000, complete: true });
    expect(index.lookup('/media/movies/m99999.mp4')).toHaveLength(1);
    await index.save();
    expect((await PathIndex.load(h.indexFile)).size).toBe(100_000);
  });
});
