import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakePlex, type FakePlex } from './server';

/** Raw requests, so the checks are exercised against a deliberately ill-mannered client. */
function send(plex: FakePlex, method: string, pathAndQuery: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${plex.url}${pathAndQuery}`, { method, headers: { 'X-Plex-Client-Identifier': 'test', ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type'] ?? '') }));
    });
    req.on('error', reject);
    req.end();
  });
}

let plex: FakePlex;
afterEach(async () => plex?.close());

describe('the fake Plex', () => {
  it('flags every kind of bad manners in its request log', async () => {
    plex = await startFakePlex();
    const it1 = plex.addItem({ file: '/media/movies/a.mp4' });
    const json = { Accept: 'application/json', 'X-Plex-Token': plex.token };
    await send(plex, 'GET', `/library/sections?X-Plex-Token=${plex.token}`, { Accept: 'application/json' });
    await send(plex, 'GET', '/library/sections/1/all?type=1', json);
    await send(plex, 'GET', '/', { 'X-Plex-Token': plex.token });
    await send(plex, 'PUT', `/library/sections/1/all?type=1&id=${it1.ratingKey}&title.value=X`, json);
    await send(plex, 'PUT', '/library/sections/1/all?type=1&title.value=Y&title.locked=1', json);
    await send(plex, 'PUT', `/library/sections/1/all?type=1&id=${it1.ratingKey}&genre[].tag.tag-=a%2Cb%20c,d`, json);
    const v = plex.mannersViolations().join('\n');
    expect(v).toMatch(/token in the URL/);
    expect(v).toMatch(/list without X-Plex-Container-Size/);
    expect(v).toMatch(/no Accept: application\/json/);
    expect(v).toMatch(/title\.value without title\.locked=1/);
    expect(v).toMatch(/edit without id/);
    expect(v).toMatch(/removal not double-encoded/);
    expect(() => plex.assertManners()).toThrow(/manners violated/);
  });

  it('answers 401 with an HTML body for a missing token, and XML to a client that forgot Accept', async () => {
    plex = await startFakePlex();
    const noToken = await send(plex, 'GET', '/library/sections', { Accept: 'application/json' });
    expect(noToken.status).toBe(401);
    expect(noToken.type).toContain('text/html');
    const xml = await send(plex, 'GET', '/library/sections', { 'X-Plex-Token': plex.token });
    expect(xml.body).toContain('<MediaContainer');
  });

  it('rejects list requests without a container size, or above 1000, when strict', async () => {
    plex = await startFakePlex();
    const h = { Accept: 'application/json', 'X-Plex-Token': plex.token };
    expect((await send(plex, 'GET', '/library/sections/1/all?type=1', h)).body).toContain('Missing X-Plex-Container-Size header.');
    expect((await send(plex, 'GET', '/library/sections/1/all?type=1&X-Plex-Container-Size=1001', h)).status).toBe(400);
    expect((await send(plex, 'GET', '/library/sections/1/all?type=1', { ...h, 'X-Plex-Container-Size': '10' })).status).toBe(200);
  });

  it('applies an edit without id to every item of the section, as the real server does', async () => {
    plex = await startFakePlex();
    const a = plex.addItem({ file: '/media/movies/a.mp4' });
    const b = plex.addItem({ file: '/media/movies/b.mp4' });
    await send(plex, 'PUT', '/library/sections/1/all?type=1&studio.value=Oops&studio.locked=1', { Accept: 'application/json', 'X-Plex-Token': plex.token });
    expect([plex.item(a.ratingKey).scalars.studio, plex.item(b.ratingKey).scalars.studio]).toEqual(['Oops', 'Oops']);
  });

  it('removes double-encoded tag names containing commas', async () => {
    plex = await startFakePlex();
    const a = plex.addItem({ file: '/media/movies/a.mp4', tags: { Genre: ['a,b c', 'd', 'keep'] } });
    await send(plex, 'PUT', `/library/sections/1/all?type=1&id=${a.ratingKey}&genre[].tag.tag-=a%252Cb%2520c%2Cd`, { Accept: 'application/json', 'X-Plex-Token': plex.token });
    expect(plex.item(a.ratingKey).tags.Genre.map((t) => t.tag)).toEqual(['keep']);
  });

  it('an agent refresh resets unlocked fields and keeps locked ones', async () => {
    plex = await startFakePlex();
    const a = plex.addItem({ file: '/media/movies/clip.mp4', scalars: { title: 'Mine', summary: 'S', studio: 'St' }, tags: { Genre: ['g'], Role: ['r'] }, locks: ['title', 'genre'] });
    const res = await send(plex, 'PUT', `/library/metadata/${a.ratingKey}/refresh`, { Accept: 'application/json', 'X-Plex-Token': plex.token });
    expect(res.status).toBe(200);
    const it2 = plex.item(a.ratingKey);
    expect(it2.scalars).toEqual({ title: 'Mine' });
    expect(it2.tags.Genre.map((t) => t.tag)).toEqual(['g']);
    expect(it2.tags.Role).toEqual([]);
  });

  it('selecting a poster answers plain text, not JSON', async () => {
    plex = await startFakePlex();
    const a = plex.addItem({ file: '/media/movies/a.mp4' });
    const h = { Accept: 'application/json', 'X-Plex-Token': plex.token };
    await send(plex, 'POST', `/library/metadata/${a.ratingKey}/posters?url=${encodeURIComponent('http://img/x.jpg')}`, h);
    const r = await send(plex, 'PUT', `/library/metadata/${a.ratingKey}/poster?url=${encodeURIComponent('http://img/x.jpg')}`, h);
    expect(r.type).toContain('text/plain');
    expect(r.body).toMatch(new RegExp(`^/library/metadata/${a.ratingKey}/thumb/\\d+$`));
  });

  it('goes down and comes back on the same port', async () => {
    plex = await startFakePlex();
    const port = plex.port;
    await plex.down();
    await expect(send(plex, 'GET', '/identity')).rejects.toThrow(/ECONNREFUSED/);
    await plex.up();
    expect(plex.port).toBe(port);
    expect((await send(plex, 'GET', '/identity', { Accept: 'application/json' })).status).toBe(200);
  });
});
