import { afterEach, describe, expect, it } from 'vitest';
import { StashClient, StashError, STASH_QUERIES, clientOptionsFromConnection } from '../../src/stash/graphql';
import { parsePluginInput } from '../../src/stash/input';
import { SCENE_FIELDS } from '../../src/stash/scene';
import { startFakeStash, tinyPng, validateAgainstStash, type FakeStash } from '../fake-stash/server';
import { buildStdin, loadManifest } from '../stash-host/host';
import { PLUGIN_YML } from './fixtures';

let stash: FakeStash | undefined;
afterEach(async () => {
  await stash?.close();
  stash = undefined;
});

function scene(id: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    title: `Scene ${id}`,
    date: '2024-05-01',
    rating100: 80,
    studio: { id: 's1', name: 'Studio', parent_studio: { id: 's0', name: 'Network' } },
    performers: [{ id: 'p1', name: 'Ann', disambiguation: null }],
    tags: [{ id: 't1', name: 'Outdoor' }],
    groups: [{ group: { id: 'g1', name: 'Series' }, scene_index: 2 }],
    files: [{ path: `/media/scene ${id}.mp4`, size: 1234 }],
    ...extra,
  };
}

/** A client the way the plugin builds one: from the stdin Stash wrote. */
function clientFor(s: FakeStash, apiKey?: string): StashClient {
  const input = parsePluginInput(buildStdin(loadManifest(PLUGIN_YML), s.connection, { mode: 'status' }));
  return new StashClient(clientOptionsFromConnection(input.connection, apiKey));
}

describe('every query validates against the real Stash schema', () => {
  for (const [name, query] of Object.entries(STASH_QUERIES)) {
    it(name, () => expect(validateAgainstStash(query)).toEqual([]));
  }
  it('SCENE_FIELDS on findScene', () => expect(validateAgainstStash(`query { findScene(id: "1") { ${SCENE_FIELDS} } }`)).toEqual([]));
  it('the validator does catch a field Stash does not have', () => {
    expect(validateAgainstStash('query { findScene(id: "1") { id rating } }').join()).toMatch(/rating/);
  });
});

describe('queries against the fake Stash', () => {
  it('reads the plugin settings, and {} when none were ever saved', async () => {
    stash = await startFakeStash();
    const client = clientFor(stash);
    expect(await client.fetchPluginSettings()).toEqual({});
    stash.setSettings({ plex_url: 'http://plex:32400', skip_poster: true, concurrency: 3 });
    expect(await client.fetchPluginSettings()).toEqual({ plex_url: 'http://plex:32400', skip_poster: true, concurrency: 3 });
    expect(stash.violations).toEqual([]);
  });

  it('hydrates one scene through stashSceneSchema, null for an unknown id', async () => {
    stash = await startFakeStash({ scenes: [scene('45')] });
    const client = clientFor(stash);
    const s = await client.findScene('45');
    expect(s).toMatchObject({ id: '45', title: 'Scene 45', rating100: 80, studio: { name: 'Studio', parent_studio: { name: 'Network' } } });
    expect(s?.files[0]).toMatchObject({ path: '/media/scene 45.mp4', basename: 'scene 45.mp4', size: 1234 });
    expect(s?.paths?.screenshot).toMatch(/\/scene\/45\/screenshot\?t=/);
    expect(await client.findScene('999')).toBeNull();
    expect(stash.violations).toEqual([]);
  });

  it('fetches many scenes by id in one request', async () => {
    stash = await startFakeStash({ scenes: ['1', '2', '3', '4'].map((id) => scene(id)) });
    const client = clientFor(stash);
    const before = stash.requestLog.length;
    const got = await client.findScenesByIds(['2', '4']);
    expect(got.map((s) => s.id).sort()).toEqual(['2', '4']);
    expect(stash.requestLog.length - before).toBe(1);
    expect(stash.violations).toEqual([]);
  });

  it('leaves out scenes Stash no longer has, though Stash fails the whole query for one unknown id', async () => {
    stash = await startFakeStash({ scenes: ['1', '2', '3', '4'].map((id) => scene(id)) });
    const client = clientFor(stash);
    const before = stash.requestLog.length;
    const got = await client.findScenesByIds(['2', '77', '4', '78']);
    expect(got.map((s) => s.id).sort()).toEqual(['2', '4']);
    // One query, then one more per unknown id Stash names.
    expect(stash.requestLog.length - before).toBe(3);
    expect(stash.violations).toEqual([]);
  });

  it('pages through all scenes in a stable order', async () => {
    stash = await startFakeStash({ scenes: Array.from({ length: 1203 }, (_, i) => scene(String(i + 1))) });
    const client = clientFor(stash);
    const ids: string[] = [];
    let count = 0;
    for (let page = 1; ; page++) {
      const r = await client.sceneIdsPage({ page, perPage: 500 });
      count = r.count;
      ids.push(...r.scenes.map((s) => s.id));
      if (r.scenes.length < 500) break;
    }
    expect(count).toBe(1203);
    expect(ids).toHaveLength(1203);
    expect(ids.slice(0, 3)).toEqual(['1', '2', '3']);
    const full = await client.findScenesPage({ page: 3, perPage: 500, sort: 'id', direction: 'DESC' });
    // Descending by id, page 3 of 500: the last 203 scenes, 203 down to 1.
    expect(full.scenes.map((s) => Number(s.id))).toEqual(Array.from({ length: 203 }, (_, i) => 203 - i));
    expect(stash.violations).toEqual([]);
  });

  it('filters by updated_at and created_at for Sync Recent', async () => {
    const old = '2020-01-01T00:00:00Z';
    stash = await startFakeStash({
      scenes: [scene('1', { created_at: old, updated_at: old }), scene('2', { created_at: old }), scene('3')],
    });
    const client = clientFor(stash);
    const since = new Date(Date.now() - 24 * 3600_000);
    expect((await client.sceneIdsPage({ page: 1, perPage: 500, updatedSince: since })).scenes.map((s) => s.id)).toEqual(['2', '3']);
    expect((await client.sceneIdsPage({ page: 1, perPage: 500, createdSince: since })).scenes.map((s) => s.id)).toEqual(['3']);
    expect(stash.violations).toEqual([]);
  });

  it('fetches the screenshot bytes with the same credentials', async () => {
    stash = await startFakeStash({ scenes: [scene('45')] });
    const client = clientFor(stash);
    const s = await client.findScene('45');
    const img = await client.fetchImage(s!.paths!.screenshot!);
    expect(img.contentType).toBe('image/png');
    expect(img.bytes.equals(tinyPng('45'))).toBe(true);
  });

  it('refuses the screenshot without credentials, as Stash does', async () => {
    stash = await startFakeStash({ scenes: [scene('45')] });
    const anonymous = new StashClient({ url: stash.url });
    await expect(anonymous.fetchImage(`${stash.url}/scene/45/screenshot`)).rejects.toMatchObject({ kind: 'unauthorized' });
  });

  it('a query the schema rejects becomes a graphql error and a recorded violation', async () => {
    stash = await startFakeStash();
    const client = clientFor(stash);
    await expect(client.request('query Broken { findScene(id: "1") { id nonsense } }')).rejects.toMatchObject({ kind: 'graphql' });
    expect(stash.violations).toHaveLength(1);
    expect(stash.violations[0]!.errors.join()).toMatch(/nonsense/);
  });
});

describe('authentication', () => {
  it('sends the session cookie from server_connection on every call', async () => {
    stash = await startFakeStash({ scenes: [scene('1')] });
    const client = clientFor(stash);
    await client.fetchPluginSettings();
    await client.findScene('1');
    expect(stash.requestLog.map((r) => [r.credential, r.status])).toEqual([['cookie', 200], ['cookie', 200]]);
  });

  it('adds the ApiKey header beside the cookie when one is configured, never in the URL', async () => {
    stash = await startFakeStash({ apiKey: 'stash-key-0123456789' });
    const client = clientFor(stash, 'stash-key-0123456789');
    await client.fetchPluginSettings();
    expect(stash.requestLog[0]).toMatchObject({ credential: 'both', status: 200, url: '/graphql' });
    expect(stash.requestLog.every((r) => !r.url.toLowerCase().includes('apikey'))).toBe(true);
  });

  it('the API key alone works once the session has expired', async () => {
    stash = await startFakeStash({ apiKey: 'stash-key-0123456789' });
    stash.expireSessions();
    const client = clientFor(stash, 'stash-key-0123456789');
    expect(await client.fetchPluginSettings()).toEqual({});
  });

  it('follows the refreshed Set-Cookie, so a task outlives its original session', async () => {
    stash = await startFakeStash({ scenes: [scene('1')] });
    const client = clientFor(stash);
    const original = stash.connection.sessionCookie;
    await client.findScene('1');
    expect(client.sessionCookie).not.toBe(original);
    stash.expireSessions([original]); // the hour is up for the cookie Stash gave us
    expect((await client.findScene('1'))?.id).toBe('1');
    // The original cookie on its own is refused now: the refresh is what kept the client working.
    const stale = new StashClient({ url: stash.url, sessionCookie: original });
    await expect(stale.findScene('1')).rejects.toMatchObject({ kind: 'unauthorized' });
  });

  it('a rejected session says to set stash_api_key', async () => {
    stash = await startFakeStash();
    stash.expireSessions();
    const err = await clientFor(stash).fetchPluginSettings().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StashError);
    expect(err).toMatchObject({ kind: 'unauthorized', status: 401 });
    expect((err as Error).message).toMatch(/Stash rejected the plugin's session.*set stash_api_key/);
    expect((err as Error).message).not.toContain(stash.connection.sessionCookie);
  });

  it('a wrong API key says to check it', async () => {
    stash = await startFakeStash({ apiKey: 'right-key-000000' });
    stash.expireSessions();
    await expect(clientFor(stash, 'wrong-key-000000').fetchPluginSettings()).rejects.toThrow(/API key.*check stash_api_key/);
  });
});

describe('typed errors', () => {
  it('unreachable when nothing listens', async () => {
    stash = await startFakeStash();
    const url = stash.url;
    await stash.close();
    stash = undefined;
    await expect(new StashClient({ url }).fetchPluginSettings()).rejects.toMatchObject({ kind: 'unreachable' });
  });

  it('invalid_response for a non-JSON answer such as a proxy error page', async () => {
    stash = await startFakeStash();
    stash.failWith(502);
    await expect(clientFor(stash).fetchPluginSettings()).rejects.toMatchObject({ kind: 'invalid_response', status: 502 });
  });
});
