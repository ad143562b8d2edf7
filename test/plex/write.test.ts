import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { DesiredItem } from '../../src/plex/desired';
import { PlexError } from '../../src/plex/errors';
import type { ApplyResult } from '../../src/plex/write';
import { plexErrorOf, useFakePlex } from './harness';

const setup = useFakePlex();
const PLEXAPI_TAG = `Test Tag !@#$%^&*()-_=+[];:'"/?,.`;

function image(bytes: Buffer) {
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex'), contentType: 'image/jpeg' };
}

async function oneMovie(opts: Parameters<typeof setup>[0] = {}) {
  const h = await setup(opts);
  const item = h.plex.addItem({ file: '/media/movies/scene.mp4', size: 1234, title: 'scene' });
  const svc = h.service();
  const [ref] = await svc.findItems('/media/movies/scene.mp4');
  return { h, item, svc, ref: ref! };
}

const edits = (h: { plex: { requestLog: { method: string; path: string }[] } }) =>
  h.plex.requestLog.filter((r) => r.method === 'PUT' && r.path.endsWith('/all'));

describe('applyDesired', () => {
  it('writes every changed field in one locked PUT and verifies it', async () => {
    const { h, svc, ref, item } = await oneMovie();
    h.plex.clearLog();
    const desired: DesiredItem = {
      scalars: { title: 'New Title', summary: 'About it', originallyAvailableAt: '2024-05-06', studio: 'Studio X', contentRating: 'XXX' },
      tags: { actor: ['Ann', 'Bob'], genre: ['G1'], collection: ['Studio X'] },
    };
    const r = await svc.applyDesired(ref, desired);
    expect(r.changedFields.sort()).toEqual(['actor', 'collection', 'contentRating', 'genre', 'originallyAvailableAt', 'studio', 'summary', 'title'].sort());
    expect(edits(h)).toHaveLength(1);
    expect(h.plex.requestLog.map((x) => x.method)).toEqual(['GET', 'PUT', 'GET']);
    expect(r.requests).toBe(3);
    const it2 = h.plex.item(item.ratingKey);
    expect(it2.scalars).toMatchObject({ title: 'New Title', summary: 'About it', originallyAvailableAt: '2024-05-06', studio: 'Studio X' });
    expect(it2.tags.Role.map((t) => t.tag)).toEqual(['Ann', 'Bob']);
    expect([...it2.locks].sort()).toEqual(['actor', 'collection', 'contentRating', 'genre', 'originallyAvailableAt', 'studio', 'summary', 'title'].sort());
  });

  it('sends nothing but the read when Plex already matches', async () => {
    const { h, svc, ref } = await oneMovie();
    const desired: DesiredItem = { scalars: { title: 'T' }, tags: { genre: ['a', 'b'] } };
    await svc.applyDesired(ref, desired);
    h.plex.clearLog();
    const r = await svc.applyDesired(ref, desired);
    expect(r.changedFields).toEqual([]);
    expect(h.plex.requestLog.map((x) => `${x.method} ${x.path}`)).toEqual([`GET /library/metadata/${ref.ratingKey}`]);
  });

  it('round-trips tag names with commas, %, &, +, quotes and the plexapi test tag through add and remove', async () => {
    const { h, svc, ref, item } = await oneMovie();
    const names = ['a,b', '100%', 'R&D', 'C++', `"quoted" 'single'`, PLEXAPI_TAG, 'plain'];
    await svc.applyDesired(ref, { scalars: {}, tags: { genre: names, actor: names } });
    expect(h.plex.item(item.ratingKey).tags.Genre.map((t) => t.tag)).toEqual(names);
    expect(h.plex.item(item.ratingKey).tags.Role.map((t) => t.tag)).toEqual(names);
    await svc.applyDesired(ref, { scalars: {}, tags: { genre: ['plain'], actor: [] } });
    expect(h.plex.item(item.ratingKey).tags.Genre.map((t) => t.tag)).toEqual(['plain']);
    expect(h.plex.item(item.ratingKey).tags.Role).toEqual([]);
  });

  it('works the same when the server replaces tags on the indexed form', async () => {
    const { h, svc, ref, item } = await oneMovie({ indexedTagSemantics: 'replace' });
    await svc.applyDesired(ref, { scalars: {}, tags: { genre: ['a', 'b', 'c'] } });
    await svc.applyDesired(ref, { scalars: {}, tags: { genre: ['c', 'd'] } });
    expect(h.plex.item(item.ratingKey).tags.Genre.map((t) => t.tag).sort()).toEqual(['c', 'd']);
  });

  it('locked fields survive an agent refresh; unlocked ones are reset', async () => {
    const { h, svc, ref, item } = await oneMovie();
    h.plex.item(item.ratingKey).scalars.tagline = 'from the agent, unlocked';
    await svc.applyDesired(ref, { scalars: { title: 'Mine', summary: 'Kept' }, tags: { genre: ['G'] } });
    h.plex.agentRefresh(item.ratingKey);
    const after = h.plex.item(item.ratingKey);
    expect(after.scalars.title).toBe('Mine');
    expect(after.scalars.summary).toBe('Kept');
    expect(after.tags.Genre.map((t) => t.tag)).toEqual(['G']);
    expect(after.scalars.tagline).toBeUndefined();
  });

  it('a write that does not take is a lost_write naming the field', async () => {
    const { h, svc, ref } = await oneMovie();
    h.plex.setFault({ kind: 'lostWrite', method: 'PUT' });
    const e = await plexErrorOf(() => svc.applyDesired(ref, { scalars: { title: 'Lost' }, tags: {} }));
    expect(e.kind).toBe('lost_write');
    expect(e.message).toContain('title');
  });

  it('a stale read right after the edit is reported as lost_write, and the retry succeeds', async () => {
    const { h, svc, ref, item } = await oneMovie();
    h.plex.setFault({ kind: 'staleRead', method: 'PUT', ms: 200, times: 1 });
    expect((await plexErrorOf(() => svc.applyDesired(ref, { scalars: { title: 'Fresh' }, tags: {} }))).kind).toBe('lost_write');
    await new Promise((r) => setTimeout(r, 250));
    const r = await svc.applyDesired(ref, { scalars: { title: 'Fresh' }, tags: {} });
    expect(r.changedFields).toEqual([]);
    expect(h.plex.item(item.ratingKey).scalars.title).toBe('Fresh');
  });

  it('an item re-keyed between lookup and write is found again by its file and written', async () => {
    const { h, svc, ref, item } = await oneMovie();
    const newKey = h.plex.rekeyItem(item.ratingKey);
    const r = await svc.applyDesired(ref, { scalars: { title: 'Moved' }, tags: {} });
    expect(r.ref.ratingKey).toBe(newKey);
    expect(h.plex.item(newKey).scalars.title).toBe('Moved');
    expect((await svc.findItems('/media/movies/scene.mp4'))[0]!.ratingKey).toBe(newKey);
  });

  it('an item that vanished for good is not_found', async () => {
    const { h, svc, ref, item } = await oneMovie();
    h.plex.removeItem(item.ratingKey);
    const e = await plexErrorOf(() => svc.applyDesired(ref, { scalars: { title: 'X' }, tags: {} }));
    expect(e.kind).toBe('not_found');
  });

  it('episodes get labels for genres and never studio or tagline', async () => {
    const h = await setup({ sections: [{ title: 'TV', type: 'show', locations: ['/tv'] }], inapplicableField: '400' });
    const ep = h.plex.addItem({ file: '/tv/Show/S01E01.mkv' });
    const svc = h.service();
    const [ref] = await svc.findItems('/tv/Show/S01E01.mkv');
    expect(ref!.type).toBe('episode');
    await svc.applyDesired(ref!, { scalars: { title: 'Ep', studio: 'S', tagline: 'T' }, tags: { genre: ['g'] } });
    const after = h.plex.item(ep.ratingKey);
    expect(after.scalars.title).toBe('Ep');
    expect(after.tags.Label.map((t) => t.tag)).toEqual(['g']);
    expect(after.tags.Genre).toEqual([]);
    expect(h.plex.requestLog.find((r) => r.method === 'PUT')!.query).toContainEqual(['type', '4']);
  });

  it('a summary that would make the URL too long goes in its own PUT, and both land', async () => {
    // The fake answers 414 above 9000 bytes: together they would exceed it, apart they fit.
    const { h, svc, ref, item } = await oneMovie({ maxUrlLength: 9000 });
    h.plex.clearLog();
    const summary = 'é&,'.repeat(700);
    const title = 'Long '.repeat(200);
    await svc.applyDesired(ref, { scalars: { title, summary }, tags: { genre: ['g'] } });
    expect(edits(h)).toHaveLength(2);
    expect(h.plex.item(item.ratingKey).scalars.summary).toBe(summary);
    expect(h.plex.item(item.ratingKey).scalars.title).toBe(title);
  });

  it('fillEmptyOnly keeps what the user typed in Plex', async () => {
    const { h, svc, ref, item } = await oneMovie();
    h.plex.item(item.ratingKey).scalars.title = 'User title';
    await svc.applyDesired(ref, { scalars: { title: 'Stash title', summary: 'S' }, tags: {} }, { fillEmptyOnly: true });
    expect(h.plex.item(item.ratingKey).scalars).toMatchObject({ title: 'User title', summary: 'S' });
  });

  it('a 10 000-character summary is written in full', async () => {
    const { h, svc, ref, item } = await oneMovie();
    const summary = 'x, y & z — 100% '.repeat(625);
    expect(summary.length).toBe(10_000);
    await svc.applyDesired(ref, { scalars: { summary }, tags: {} });
    expect(h.plex.item(item.ratingKey).scalars.summary).toBe(summary);
  });

  it('sets the user rating through /:/rate and clears it with null', async () => {
    const { h, svc, ref, item } = await oneMovie();
    await svc.applyDesired(ref, { scalars: {}, tags: {}, userRating: 8 });
    expect(h.plex.item(item.ratingKey).userRating).toBe(8);
    expect(h.plex.requestLog.some((r) => r.path === '/:/rate')).toBe(true);
    await svc.applyDesired(ref, { scalars: {}, tags: {}, userRating: null });
    expect(h.plex.item(item.ratingKey).userRating).toBeUndefined();
  });
});

describe('images', () => {
  it('uploads the poster bytes once per hash and locks the field', async () => {
    const { h, svc, ref, item } = await oneMovie({ lockOnImageUpload: false });
    const poster = image(Buffer.from('jpeg bytes one'));
    const r1 = await svc.applyDesired(ref, { scalars: {}, tags: {}, poster });
    expect(r1.posterSha256).toBe(poster.sha256);
    expect(r1.changedFields).toContain('poster');
    const it1 = h.plex.item(item.ratingKey);
    expect(it1.posters.find((p) => p.selected)!.ratingKey).toBe(`upload://posters/${createHash('sha1').update(poster.bytes).digest('hex')}`);
    expect(it1.locks.has('thumb')).toBe(true);
    const uploads = () => h.plex.requestLog.filter((x) => x.method === 'POST').length;
    const r2 = await svc.applyDesired(ref, { scalars: {}, tags: {}, poster }, { lastPosterSha256: r1.posterSha256! });
    expect(uploads()).toBe(1);
    expect(r2.posterSha256).toBe(poster.sha256);
  });

  it('an image over 10 MB is a warning for that field only; the rest is applied', async () => {
    const { h, svc, ref, item } = await oneMovie();
    const big = Buffer.alloc(10 * 1024 * 1024 + 1, 1);
    const r = await svc.applyDesired(ref, { scalars: { title: 'Still written' }, tags: {}, art: image(big) });
    expect(r.warnings.join(' ')).toMatch(/art is 10\.0 MB, over Plex's 10 MB limit/);
    expect(r.artSha256).toBeUndefined();
    expect(h.plex.item(item.ratingKey).scalars.title).toBe('Still written');
    expect(h.plex.requestLog.some((x) => x.method === 'POST')).toBe(false);
  });

  it('a refused upload is a warning and leaves the last hash in place', async () => {
    const { h, svc, ref } = await oneMovie();
    h.plex.setFault({ kind: 'status', status: 500, method: 'POST' });
    const r = await svc.applyDesired(ref, { scalars: { title: 'T2' }, tags: {}, poster: image(Buffer.from('x')) }, { lastPosterSha256: 'old' });
    expect(r.posterSha256).toBe('old');
    expect(r.warnings.join(' ')).toMatch(/poster upload failed/);
  });
});

describe('applyDesiredBatch', () => {
  it('reads the items in one GET per lane, writes each, verifies in one GET per lane: fewer than 2 requests per changed scene', async () => {
    const h = await setup();
    const files = Array.from({ length: 32 }, (_, i) => `/media/movies/s${i}.mp4`);
    for (const f of files) h.plex.addItem({ file: f });
    const svc = h.service();
    const refs = (await Promise.all(files.map((f) => svc.findItems(f)))).map((r) => r[0]!);
    h.plex.clearLog();
    const results = await svc.applyDesiredBatch(refs.map((ref, i) => ({ ref, desired: { scalars: { title: `T${i}` }, tags: { genre: ['g'] } } })));
    expect(results.every((r) => !(r instanceof PlexError))).toBe(true);
    const gets = h.plex.requestLog.filter((r) => r.method === 'GET');
    expect(gets).toHaveLength(8); // 4 lanes (twice the in-flight limit) × (read + verify), each for 8 items
    expect(gets.every((g) => g.path.split(',').length === 8)).toBe(true);
    expect(h.plex.requestLog.length / files.length).toBe(1.25);
    expect(h.plex.maxInFlightSeen).toBeLessThanOrEqual(2);
    files.forEach((_, i) => expect(h.plex.item(refs[i]!.ratingKey).scalars.title).toBe(`T${i}`));
  });

  it("one item's failure does not fail the others", async () => {
    const h = await setup();
    const a = h.plex.addItem({ file: '/media/movies/a.mp4' });
    const b = h.plex.addItem({ file: '/media/movies/b.mp4' });
    const svc = h.service();
    const ra = (await svc.findItems('/media/movies/a.mp4'))[0]!;
    const rb = (await svc.findItems('/media/movies/b.mp4'))[0]!;
    h.plex.removeItem(b.ratingKey);
    const [x, y] = await svc.applyDesiredBatch([
      { ref: ra, desired: { scalars: { title: 'A' }, tags: {} } },
      { ref: rb, desired: { scalars: { title: 'B' }, tags: {} } },
    ]);
    expect((x as ApplyResult).changedFields).toEqual(['title']);
    expect((y as PlexError).kind).toBe('not_found');
    expect(h.plex.item(a.ratingKey).scalars.title).toBe('A');
  });

  it('a 500 on one PUT fails only that entry, as a server error', async () => {
    const h = await setup();
    h.plex.addItem({ file: '/media/movies/a.mp4' });
    h.plex.addItem({ file: '/media/movies/b.mp4' });
    const svc = h.service();
    const ra = (await svc.findItems('/media/movies/a.mp4'))[0]!;
    const rb = (await svc.findItems('/media/movies/b.mp4'))[0]!;
    h.plex.setFault({ kind: 'status', status: 500, method: 'PUT', times: 1 });
    const res = await svc.applyDesiredBatch([
      { ref: ra, desired: { scalars: { title: 'A' }, tags: {} } },
      { ref: rb, desired: { scalars: { title: 'B' }, tags: {} } },
    ]);
    const failed = res.filter((r): r is PlexError => r instanceof PlexError);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.kind).toBe('server');
  });
});
