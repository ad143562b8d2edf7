import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakePlex, type FakePlex } from './server';

/**
 * The fake's watch history, accounts and resume points, driven as python-plexapi drives a real server:
 * PlexServer.history() asks `/status/sessions/history/all` with `sort=viewedAt:desc`, `accountID` and
 * `viewedAt>` (query keys sorted, only values encoded; requests then encodes the `>` of the key), and
 * pages with X-Plex-Container-Start/Size headers, advancing by the page size until it passes totalSize.
 */

function get(plex: FakePlex, pathAndQuery: string, headers: Record<string, string> = {}): Promise<{ status: number; json: any; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${plex.url}${pathAndQuery}`,
      { headers: { Accept: 'application/json', 'X-Plex-Token': plex.token, 'X-Plex-Client-Identifier': 'selftest', ...headers } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: body.startsWith('{') ? JSON.parse(body) : body, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** plexapi's history() URL: keys sorted case-insensitively, values quoted, `>` of the key as requests sends it. */
function historyPath(args: Record<string, string | number>): string {
  const keys = Object.keys(args).sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
  const query = keys.map((k) => `${k.replace('>', '%3E')}=${encodeURIComponent(String(args[k]))}`).join('&');
  return `/status/sessions/history/all?${query}`;
}

/** plexapi's fetchItems paging: start += size until start passes totalSize (or size when totalSize is absent). */
async function fetchAll(plex: FakePlex, path: string, size: number): Promise<any[]> {
  const out: any[] = [];
  for (let start = 0; ; start += size) {
    const r = await get(plex, path, { 'X-Plex-Container-Start': String(start), 'X-Plex-Container-Size': String(size) });
    expect(r.status).toBe(200);
    const c = r.json.MediaContainer;
    out.push(...(c.Metadata ?? []));
    const total = c.totalSize ?? c.size;
    if (start + size > total) break;
  }
  return out;
}

let plex: FakePlex;
afterEach(async () => plex?.close());

describe('the fake Plex watch history', () => {
  it('answers plexapi\'s history() walk: newest first, filtered by viewedAt> and accountID, paged', async () => {
    plex = await startFakePlex();
    const alice = plex.addAccount('alice', 5);
    const [a, b] = plex.addItems([{ file: '/media/movies/a.mp4' }, { file: '/media/movies/b.mp4' }]);
    for (let i = 0; i < 7; i++) plex.addPlay(a!.ratingKey, { viewedAt: 1_700_000_000 + i * 60 });
    plex.addPlay(b!.ratingKey, { viewedAt: 1_700_000_030, accountID: alice.id });

    const all = await fetchAll(plex, historyPath({ sort: 'viewedAt:desc', accountID: 1 }), 3);
    expect(all.map((r) => r.viewedAt)).toEqual([6, 5, 4, 3, 2, 1, 0].map((i) => 1_700_000_000 + i * 60));
    expect(all[0]).toMatchObject({ historyKey: '/status/sessions/history/7', key: `/library/metadata/${a!.ratingKey}`, ratingKey: a!.ratingKey, librarySectionID: '1', type: 'movie', accountID: 1, deviceID: 1 });

    const since = await fetchAll(plex, historyPath({ sort: 'viewedAt:desc', accountID: 1, 'viewedAt>': 1_700_000_240 }), 100);
    expect(since.map((r) => r.viewedAt)).toEqual([1_700_000_360, 1_700_000_300]);

    const hers = await fetchAll(plex, historyPath({ sort: 'viewedAt:desc', accountID: alice.id }), 100);
    expect(hers).toHaveLength(1);
    expect(hers[0]).toMatchObject({ ratingKey: b!.ratingKey, accountID: 5 });

    // Paging headers come back as on every list, and the request log shows the decoded filter key.
    const page = await get(plex, historyPath({ sort: 'viewedAt:desc' }), { 'X-Plex-Container-Start': '2', 'X-Plex-Container-Size': '2' });
    expect(page.headers['x-plex-container-total-size']).toBe('8');
    expect(page.json.MediaContainer).toMatchObject({ size: 2, totalSize: 8, offset: 2 });
    expect(plex.requestLog.find((r) => r.rawUrl.includes('viewedAt%3E'))!.query).toContainEqual(['viewedAt>', '1700000240']);
    plex.assertManners();
  });

  it('keeps a row after its item is removed, and refuses a list without a container size like the sections', async () => {
    plex = await startFakePlex();
    const a = plex.addItem({ file: '/media/movies/a.mp4', title: 'Gone soon' });
    plex.addPlay(a.ratingKey, { viewedAt: 1_700_000_000 });
    plex.removeItem(a.ratingKey);
    const rows = await fetchAll(plex, historyPath({ sort: 'viewedAt:desc' }), 10);
    expect(rows).toEqual([expect.objectContaining({ ratingKey: a.ratingKey, title: 'Gone soon' })]);
    expect((await get(plex, historyPath({ sort: 'viewedAt:desc' }))).status).toBe(400);
  });

  it('lists the system accounts with the owner as id 1, as plexapi\'s systemAccounts() reads them', async () => {
    plex = await startFakePlex({ ownerName: 'stasher' });
    plex.addAccount('alice', 5);
    const r = await get(plex, '/accounts');
    expect(r.json.MediaContainer.Account).toEqual([
      expect.objectContaining({ id: 0, name: '', key: '/accounts/0' }),
      expect.objectContaining({ id: 1, name: 'stasher', key: '/accounts/1', defaultAudioLanguage: 'en', subtitleMode: 0, thumb: '' }),
      expect.objectContaining({ id: 5, name: 'alice' }),
    ]);
  });

  it('shows the owner\'s resume point on the item and in Continue Watching until the item is played (plexapi test_video_Movie_continueWatching)', async () => {
    plex = await startFakePlex();
    const a = plex.addItem({ file: '/media/movies/a.mp4' });
    const hub = async () => (await fetchAll(plex, '/hubs/continueWatching/items', 50)).map((i) => i.ratingKey);
    expect(await hub()).toEqual([]);
    plex.setViewOffset(a.ratingKey, 90_000);
    expect(await hub()).toEqual([a.ratingKey]);
    const item = (await get(plex, `/library/metadata/${a.ratingKey}`)).json.MediaContainer.Metadata[0];
    expect(item.viewOffset).toBe(90_000);
    expect(item.lastViewedAt).toBeGreaterThan(0);

    plex.addPlay(a.ratingKey);
    expect(await hub()).toEqual([]);
    const played = (await get(plex, `/library/metadata/${a.ratingKey}`)).json.MediaContainer.Metadata[0];
    expect(played.viewOffset).toBeUndefined();
    expect(played.viewCount).toBe(1);
    // A play by another account leaves the owner's view state alone.
    const bob = plex.addAccount('bob');
    plex.setViewOffset(a.ratingKey, 5_000);
    plex.addPlay(a.ratingKey, { accountID: bob.id });
    expect(await hub()).toEqual([a.ratingKey]);
  });
});
