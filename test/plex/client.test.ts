import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PlexClient } from '../../src/plex/client';
import { rootResponse, sectionsResponse } from '../../src/plex/schema';
import { startFakePlex } from '../fake-plex/server';
import { plexErrorOf, useFakePlex } from './harness';

const setup = useFakePlex();
const root = (c: PlexClient) => c.getJson('/', rootResponse, { what: 'reading the server' });

describe('PlexClient requests', () => {
  it('sends the token only as a header, asks for JSON and identifies itself as PlexCourier', async () => {
    const h = await setup();
    const c = h.client();
    await root(c);
    const r = h.plex.requestLog[0]!;
    expect(r.headers['x-plex-token']).toBe(h.plex.token);
    expect(r.rawUrl).not.toContain(h.plex.token);
    expect(r.headers.accept).toBe('application/json');
    expect(r.headers['x-plex-product']).toBe('PlexCourier');
    expect(r.headers['x-plex-client-identifier']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('creates the client identifier once and reuses it across clients', async () => {
    const h = await setup();
    await root(h.client());
    await root(h.client());
    const stored = (await fs.readFile(h.clientIdFile, 'utf8')).trim();
    const ids = new Set(h.plex.requestLog.map((r) => r.headers['x-plex-client-identifier']));
    expect([...ids]).toEqual([stored]);
  });

  it('reads sections even when Plex omits the empty Location and Directory arrays', async () => {
    const h = await setup({ sections: [] });
    const res = await h.client().getJson('/library/sections', sectionsResponse, { what: 'listing' });
    expect(res.Directory).toEqual([]);
  });

  it('never has more requests in flight than configured', async () => {
    const h = await setup({ latencyMs: 20, maxInFlight: 2 });
    const c = h.client({ maxInFlight: 2 });
    await Promise.all(Array.from({ length: 10 }, () => root(c)));
    expect(h.plex.requestLog).toHaveLength(10);
    expect(h.plex.maxInFlightSeen).toBe(2);
  });

  it('rejects a plex_url that carries the token, without echoing it', async () => {
    const e = await plexErrorOf(async () => new PlexClient({ url: 'http://h:32400/?X-Plex-Token=sekrit', token: 'sekrit', clientIdFile: '/tmp/x' }));
    expect(e.kind).toBe('bad_request');
    expect(e.message).not.toContain('sekrit');
  });
});

describe('PlexClient error classes', () => {
  const cases = [
    { fault: { kind: 'unauthorized' as const }, kind: 'unauthorized' },
    { fault: { kind: 'status' as const, status: 404 }, kind: 'not_found' },
    { fault: { kind: 'status' as const, status: 400 }, kind: 'bad_request' },
    { fault: { kind: 'status' as const, status: 409 }, kind: 'bad_request' },
    { fault: { kind: 'status' as const, status: 500 }, kind: 'server' },
    { fault: { kind: 'status' as const, status: 502 }, kind: 'server' },
    { fault: { kind: 'maintenance' as const }, kind: 'server' },
    { fault: { kind: 'html200' as const }, kind: 'invalid_response' },
    { fault: { kind: 'xml200' as const }, kind: 'invalid_response' },
    { fault: { kind: 'empty200' as const }, kind: 'invalid_response' },
    { fault: { kind: 'truncatedJson' as const }, kind: 'invalid_response' },
    { fault: { kind: 'invalidJson' as const }, kind: 'invalid_response' },
    { fault: { kind: 'reset' as const }, kind: 'unreachable' },
  ];
  for (const c of cases) {
    it(`${c.fault.kind}${'status' in c.fault ? ' ' + c.fault.status : ''} becomes ${c.kind} and never shows the token`, async () => {
      const h = await setup();
      h.plex.setFault(c.fault);
      const e = await plexErrorOf(() => root(h.client()));
      expect(e.kind).toBe(c.kind);
      expect(e.message).not.toContain(h.plex.token);
      expect(e.message).not.toMatch(/\n/);
    });
  }

  it('a 429 carries Retry-After in milliseconds', async () => {
    const h = await setup();
    h.plex.setFault({ kind: 'rateLimited', retryAfter: '7' });
    const e = await plexErrorOf(() => root(h.client()));
    expect(e.kind).toBe('rate_limited');
    expect(e.retryAfterMs).toBe(7000);
  });

  it('a 503 maintenance with Retry-After is a retryable server error with the delay', async () => {
    const h = await setup();
    h.plex.setFault({ kind: 'maintenance', retryAfter: '3' });
    const e = await plexErrorOf(() => root(h.client()));
    expect(e.kind).toBe('server');
    expect(e.retryAfterMs).toBe(3000);
    expect(e.message).toMatch(/starting up|migrating/);
  });

  it('a token revoked mid-run turns the next requests into unauthorized', async () => {
    const h = await setup();
    const c = h.client();
    h.plex.setFault({ kind: 'unauthorized', after: 2 });
    await root(c);
    await root(c);
    const e = await plexErrorOf(() => root(c));
    expect(e.kind).toBe('unauthorized');
    expect(e.message).toMatch(/plex_token/);
  });

  it('JSON with a wrong Content-Type is still read', async () => {
    const h = await setup();
    h.plex.setFault({ kind: 'wrongContentType' });
    const r = await root(h.client());
    expect(r.friendlyName).toBe('Fake Plex');
  });

  it('a server that is down gives unreachable, and the same client works once it is back', async () => {
    const h = await setup();
    const c = h.client();
    await root(c);
    await h.plex.down();
    const e = await plexErrorOf(() => root(c));
    expect(e.kind).toBe('unreachable');
    expect(e.message).toMatch(/refused|reset|closed/);
    await h.plex.up();
    expect((await root(c)).friendlyName).toBe('Fake Plex');
  });

  it('a hung request ends at the read timeout as a timeout', async () => {
    const h = await setup();
    h.plex.setFault({ kind: 'hang', times: 1 });
    const e = await plexErrorOf(() => root(h.client({ readTimeoutMs: 300 })));
    expect(e.kind).toBe('timeout');
    expect(e.message).toMatch(/read timeout/);
  });

  it('a body trickled slower than the read timeout is cut off; a fast one is not', async () => {
    const h = await setup();
    const c = h.client({ readTimeoutMs: 400 });
    h.plex.setFault({ kind: 'slowBody', ms: 2000, times: 1 });
    expect(await plexErrorOf(() => root(c))).toMatchObject({ kind: 'timeout', message: expect.stringMatching(/read timeout/) });
    h.plex.setFault({ kind: 'slowBody', ms: 50, times: 1 });
    expect((await root(c)).friendlyName).toBe('Fake Plex');
  });
});

describe('PlexClient TLS', () => {
  const tlsDir = path.join(__dirname, '..', 'fake-plex', 'tls');

  it('refuses a self-signed certificate by default, with a hint, then accepts it with caFile or tlsInsecure', async () => {
    const [key, cert] = await Promise.all([fs.readFile(path.join(tlsDir, 'key.pem')), fs.readFile(path.join(tlsDir, 'cert.pem'))]);
    const plex = await startFakePlex({ tls: { key, cert } });
    const dir = await fs.mkdtemp(path.join((await import('node:os')).tmpdir(), 'plexcourier-tls-'));
    const base = { url: plex.url, token: plex.token, clientIdFile: path.join(dir, 'id') };
    const clients: PlexClient[] = [];
    const make = (extra: object) => {
      const c = new PlexClient({ ...base, ...extra });
      clients.push(c);
      return c;
    };
    try {
      const e = await plexErrorOf(() => root(make({})));
      expect(e.kind).toBe('unreachable');
      expect(e.message).toMatch(/TLS verification/);
      expect(e.message).toMatch(/caFile|tlsInsecure|plex\.direct/);
      expect((await root(make({ caFile: path.join(tlsDir, 'cert.pem') }))).friendlyName).toBe('Fake Plex');
      expect((await root(make({ tlsInsecure: true }))).friendlyName).toBe('Fake Plex');
      plex.assertManners();
    } finally {
      for (const c of clients) c.close();
      await plex.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('PlexClient identity file', () => {
  it('an unwritable data directory is a clear error naming the file', async () => {
    const h = await setup();
    await fs.writeFile(path.join(h.dir, 'blocker'), 'a file, not a directory');
    const e = await plexErrorOf(() => root(h.client({ clientIdFile: path.join(h.dir, 'blocker', 'client-id') })));
    expect(e.kind).toBe('bad_request');
    expect(e.message).toMatch(/client id file .*blocker.*writable/);
    expect(h.plex.requestLog).toHaveLength(0);
  });
});
