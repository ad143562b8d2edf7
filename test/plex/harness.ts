/**
 * Shared set-up for the Plex tests: a fake Plex, a temp data directory, and a client or service
 * pointed at them. `useFakePlex()` registers hooks that check the client's manners after every
 * test (reference/plex-api.md §9 "Request log") and clean up.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { PlexClient, type PlexClientOptions } from '../../src/plex/client';
import { PlexService, type PlexServiceOptions } from '../../src/plex/service';
import { startFakePlex, type FakePlex, type FakePlexOptions } from '../fake-plex/server';

export interface Harness {
  plex: FakePlex;
  dir: string;
  clientIdFile: string;
  indexFile: string;
  client(extra?: Partial<PlexClientOptions>): PlexClient;
  service(extra?: Partial<PlexServiceOptions>): PlexService;
}

export function useFakePlex(): (opts?: FakePlexOptions & { maxInFlight?: number }) => Promise<Harness> {
  const open: { h: Harness; closers: (() => void | Promise<void>)[]; maxInFlight: number }[] = [];
  afterEach(async () => {
    const all = open.splice(0);
    try {
      for (const o of all) o.h.plex.assertManners({ maxInFlight: o.maxInFlight });
    } finally {
      for (const o of all) {
        for (const c of o.closers) await c();
        await o.h.plex.close();
        await fs.rm(o.h.dir, { recursive: true, force: true });
      }
    }
  });
  return async (opts = {}) => {
    const plex = await startFakePlex(opts);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plexcourier-plex-'));
    const closers: (() => void | Promise<void>)[] = [];
    const maxInFlight = opts.maxInFlight ?? 2;
    const base = () => ({ url: plex.url, token: plex.token, clientIdFile: path.join(dir, 'client-id'), maxInFlight });
    const h: Harness = {
      plex,
      dir,
      clientIdFile: path.join(dir, 'client-id'),
      indexFile: path.join(dir, 'plex-index.json'),
      client(extra = {}) {
        const c = new PlexClient({ ...base(), ...extra });
        closers.push(() => c.close());
        return c;
      },
      service(extra = {}) {
        const s = new PlexService({ ...base(), indexFile: path.join(dir, 'plex-index.json'), ...extra });
        closers.push(() => s.close());
        return s;
      },
    };
    open.push({ h, closers, maxInFlight });
    return h;
  };
}

/** Runs `fn` expecting a PlexError; returns it for assertions. */
export async function plexErrorOf(fn: () => Promise<unknown>): Promise<import('../../src/plex/errors').PlexError> {
  const { PlexError } = await import('../../src/plex/errors');
  try {
    await fn();
  } catch (e) {
    if (e instanceof PlexError) return e;
    throw e;
  }
  throw new Error('expected a PlexError, but the call succeeded');
}
