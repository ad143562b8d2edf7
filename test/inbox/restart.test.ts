import { listJobs } from '../queue/helpers';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bootTimeMs, currentBootId, writeLastEvent } from '../../src/inbox/boot';
import type { IngestResult } from '../../src/inbox/ingest';
import { RestartCheck } from '../../src/inbox/restart-check';
import { dataPaths, type DataPaths } from '../../src/paths';
import { QueueStore } from '../../src/queue';
import { StashClient } from '../../src/stash/graphql';
import { startFakeStash, type FakeStash } from '../fake-stash/server';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function world(scenes: { id: string; updated_at: string }[]): Promise<{ paths: DataPaths; store: QueueStore; stash: FakeStash; client: StashClient; lines: { level: string; msg: string }[] }> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'plexcourier-restart-'));
  cleanup.push(() => rmSync(root, { recursive: true, force: true }));
  const paths = dataPaths(root);
  mkdirSync(paths.inbox, { recursive: true });
  const store = await QueueStore.open(paths.store);
  cleanup.push(() => store.close());
  const stash = await startFakeStash({ auth: false, scenes });
  cleanup.push(() => stash.close());
  return { paths, store, stash, client: new StashClient({ url: stash.url }), lines: [] };
}

const logTo = (lines: { level: string; msg: string }[]) => ({
  info: (msg: string) => lines.push({ level: 'info', msg }),
  warn: (msg: string) => lines.push({ level: 'warn', msg }),
});
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const nothing = (extra: Partial<IngestResult> = {}): IngestResult => ({ ingested: 0, bad: 0, commands: 0, badFiles: [], litter: 0, incomplete: 0, incompleteRecent: false, ...extra });
const record = (paths: DataPaths) => JSON.parse(readFileSync(path.join(paths.inbox, 'last-event.json'), 'utf8')) as { bootId: string; lastEventAt?: number };

describe('the first ingestion after a restart', () => {
  const boot = bootTimeMs();
  const lastEventAt = boot - 10 * 60_000;

  it('queues the scenes Stash changed between the last event taken in and the restart, and says their events could have been lost', async () => {
    const w = await world([
      { id: '1', updated_at: iso(lastEventAt - 20 * 60_000) }, // long before: synced already
      { id: '2', updated_at: iso(lastEventAt + 2 * 60_000) }, // after the last event, before the restart
      { id: '3', updated_at: iso(boot - 1_000) }, // just before the restart
      { id: '4', updated_at: iso(Date.now()) }, // after the restart: its own hook covers it
    ]);
    await writeLastEvent(w.paths.inbox, { bootId: 'the-boot-before', lastEventAt });
    const check = await RestartCheck.start(w.store, w.paths, logTo(w.lines), 'this-boot');
    await check.afterIngest(nothing({ bad: 1, badFiles: [{ name: 'x.event', reason: 'incomplete: 0 byte(s) …' }] }), { stash: () => w.client });

    expect(listJobs(w.store).map((j) => j.sceneId).sort()).toEqual(['2', '3']);
    expect(w.lines).toHaveLength(1);
    expect(w.lines[0]?.level).toBe('warn');
    expect(w.lines[0]?.msg).toMatch(/^the machine restarted \(at .* UTC\) since the last event was taken in \(.* UTC\); hook events are spooled without an fsync/);
    expect(w.lines[0]?.msg).toMatch(/1 spooled event file\(s\) were cut short by the restart and moved to inbox\/bad\. Stash has 2 scene\(s\) changed between that event and the restart \(2, 3\): their events could have been lost, so they are queued again/);
    expect(record(w.paths)).toEqual({ bootId: 'this-boot', lastEventAt });
    expect(w.stash.violations).toEqual([]);
  });

  it('says no event was lost when Stash changed nothing in that window', async () => {
    const w = await world([{ id: '1', updated_at: iso(lastEventAt - 60_000) }]);
    await writeLastEvent(w.paths.inbox, { bootId: 'the-boot-before', lastEventAt });
    const check = await RestartCheck.start(w.store, w.paths, logTo(w.lines), 'this-boot');
    await check.afterIngest(nothing(), { stash: () => w.client });
    expect(listJobs(w.store)).toEqual([]);
    expect(w.lines).toEqual([{ level: 'info', msg: expect.stringMatching(/Stash has no scene changed between that event and the restart: no event was lost\.$/) }]);
  });

  it('waits for Stash, keeping the old record, and checks once it can', async () => {
    const w = await world([{ id: '5', updated_at: iso(lastEventAt + 1_000) }]);
    await writeLastEvent(w.paths.inbox, { bootId: 'the-boot-before', lastEventAt });
    const check = await RestartCheck.start(w.store, w.paths, logTo(w.lines), 'this-boot');
    await check.afterIngest(nothing({ newestEventAt: Date.now() }), { stash: () => undefined });
    await check.flush();
    expect(record(w.paths)).toEqual({ bootId: 'the-boot-before', lastEventAt });
    expect(w.lines).toEqual([]);
    await check.afterIngest(nothing(), { stash: () => w.client });
    expect(listJobs(w.store).map((j) => j.sceneId)).toEqual(['5']);
    expect(record(w.paths).bootId).toBe('this-boot');
  });

  it('does nothing in the same boot, and remembers the newest event taken in', async () => {
    const w = await world([{ id: '1', updated_at: iso(Date.now()) }]);
    await writeLastEvent(w.paths.inbox, { bootId: 'this-boot', lastEventAt });
    const check = await RestartCheck.start(w.store, w.paths, logTo(w.lines), 'this-boot');
    const newest = Date.now() - 5;
    await check.afterIngest(nothing({ ingested: 1, newestEventAt: newest }), { stash: () => w.client });
    expect(w.lines).toEqual([]);
    expect(listJobs(w.store)).toEqual([]);
    expect(record(w.paths)).toEqual({ bootId: 'this-boot', lastEventAt: newest });
  });

  it('on a first run writes the record without a check; without a boot id (not Linux) writes nothing', async () => {
    const w = await world([]);
    const first = await RestartCheck.start(w.store, w.paths, logTo(w.lines), 'this-boot');
    await first.afterIngest(nothing(), { stash: () => w.client });
    expect(record(w.paths)).toEqual({ bootId: 'this-boot' });
    rmSync(path.join(w.paths.inbox, 'last-event.json'));
    const elsewhere = await RestartCheck.start(w.store, w.paths, logTo(w.lines), undefined);
    await elsewhere.afterIngest(nothing({ newestEventAt: 5 }), { stash: () => w.client });
    await elsewhere.flush();
    expect(() => record(w.paths)).toThrow();
    expect(w.lines).toEqual([]);
  });

  it('reads this machine’s boot id', () => {
    expect(currentBootId()).toMatch(/^[0-9a-f-]{36}$/);
  });
});
