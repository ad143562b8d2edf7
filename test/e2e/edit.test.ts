import { afterEach, describe, expect, it } from 'vitest';
import { makeScene, startEnv, type Env } from './env';

let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

describe('a scene edited in Stash', () => {
  it('makes its Plex item show every mapped field, locked, after one hook that returns at once', async () => {
    env = await startEnv({ scenes: 1 });
    const hook = await env.edit('1', {
      title: 'The New Title',
      details: 'A summary',
      date: '2023-02-03',
      rating100: 70,
      studio: { id: '2', name: 'Studio Two' },
      performers: [
        { id: '1', name: 'Ann Example' },
        { id: '2', name: 'Bea Example' },
      ],
      tags: [
        { id: '1', name: 'Tag One' },
        { id: '2', name: 'Tag, With Comma' },
      ],
      director: 'Dee Rector',
    });
    expect(hook.error).toBeNull();
    expect(hook.exitCode).toBe(0);

    const item = () => env!.plexItem('1');
    // The rating and the poster go in their own requests after the edit: wait for the job to be recorded done.
    await env.waitFor(() => item().scalars.title === 'The New Title', 'the title to reach Plex');
    await env.waitFor(() => (env!.status().counts?.done ?? 0) === 1, 'the job to finish');
    const it = item();
    expect(it.scalars).toMatchObject({ title: 'The New Title', summary: 'A summary', originallyAvailableAt: '2023-02-03', year: 2023, studio: 'Studio Two' });
    expect(it.tags.Role.map((t) => t.tag)).toEqual(['Ann Example', 'Bea Example']);
    expect(it.tags.Genre.map((t) => t.tag).sort()).toEqual(['Tag One', 'Tag, With Comma']);
    expect(it.tags.Director.map((t) => t.tag)).toEqual(['Dee Rector']);
    expect(it.userRating).toBe(7);
    for (const field of ['title', 'summary', 'originallyAvailableAt', 'studio', 'genre', 'actor', 'director']) {
      expect(it.locks.has(field), `${field} locked`).toBe(true);
    }
    expect(it.posters.some((p) => p.selected && p.ratingKey.startsWith('upload://'))).toBe(true);
    expect(env.stash.violations).toEqual([]);
    env.plex.assertManners({ maxInFlight: 2 });
  });

  it("leaves Plex's own poster alone when Stash has no cover (Stash serves its default SVG icon instead)", async () => {
    env = await startEnv({ scenes: [makeScene('1', { screenshot: null })] });
    const before = env.plexItem('1').posters.map((p) => p.ratingKey);
    await env.edit('1', { title: 'No Cover Yet' });
    await env.waitFor(() => (env!.status().counts?.done ?? 0) === 1, 'the job to finish');
    const it = env.plexItem('1');
    expect(it.scalars.title).toBe('No Cover Yet');
    expect(it.posters.map((p) => p.ratingKey)).toEqual(before);
    expect(it.posters.find((p) => p.selected)?.ratingKey).toMatch(/^local:\/\/agent\//);
    expect(it.locks.has('thumb')).toBe(false);
    expect(env.plex.requestLog.filter((r) => r.path.endsWith('/posters'))).toEqual([]);
  });

  it('a file Plex deleted and re-added under a new ratingKey gets every field and the poster again', async () => {
    env = await startEnv({ scenes: 1 });
    await env.edit('1', { title: 'First Title' });
    await env.waitFor(() => (env!.status().counts?.done ?? 0) === 1, 'the first sync');
    const old = env.plexItem('1');
    expect(old.posters.some((p) => p.selected && p.ratingKey.startsWith('upload://'))).toBe(true);

    // The "Plex dance": the item goes, and a scan brings the same file back as a fresh item.
    env.plex.removeItem(old.ratingKey);
    const part = old.media[0]!.parts[0]!;
    const fresh = env.plex.addItem({ file: part.file, size: part.size, title: 'scene-1' });
    await env.edit('1', { title: 'Second Title' });
    await env.waitFor(() => (env!.status().counts?.done ?? 0) === 2, 'the second sync');
    const it = env.plex.item(fresh.ratingKey);
    expect(it.scalars.title).toBe('Second Title');
    expect(it.posters.some((p) => p.selected && p.ratingKey.startsWith('upload://'))).toBe(true);
    expect(it.locks.has('thumb')).toBe(true);
  });

  it('a setting changed just before a Save applies to that Save (settings older than 10 s are read again)', async () => {
    env = await startEnv({ scenes: 2 });
    await env.edit('1', { title: 'Synced Title' });
    await env.waitFor(() => (env!.status().counts?.done ?? 0) === 1, 'the first sync');
    await new Promise((r) => setTimeout(r, 11_000));
    env.stash.setSettings({ plex_url: env.plex.url, plex_token: env.plex.token, path_map: '/data/videos=>/media/videos', skip_title: true });
    await env.edit('2', { title: 'Title Plex Must Not Get', details: 'New details' });
    await env.waitFor(() => env!.plexItem('2').scalars.summary === 'New details', 'the edit to reach Plex');
    expect(env.plexItem('2').scalars.title).toBe('scene-2');
  }, 60_000);
});
