import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ingestInbox, type CommandFile, type IngestHandlers } from '../../src/inbox/ingest';
import { writeInboxFile } from '../../src/inbox/write';
import { dataPaths, type DataPaths } from '../../src/paths';
import { QueueStore } from '../../src/queue';
import { listJobs } from '../queue/helpers';

const opened: QueueStore[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function setup(): Promise<{ paths: DataPaths; store: QueueStore }> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'plexcourier-ingest-'));
  dirs.push(root);
  const paths = dataPaths(root);
  const store = await QueueStore.open(paths.store);
  opened.push(store);
  return { paths, store };
}

/** Event files here are `{"sceneId": ...}` or `{"destroy": ...}`; the worker's real interpreter is the Stash stdin schema. */
function handlers(log: { interpreted: string[]; commands: [string, CommandFile][] }): IngestHandlers {
  return {
    interpret(name, bytes) {
      log.interpreted.push(name);
      let body: { sceneId?: string; destroy?: string };
      try {
        body = JSON.parse(bytes.toString('utf8'));
      } catch {
        return { error: 'stdin is not JSON: expected the object Stash writes to a raw plugin' };
      }
      if (body.destroy) return { requests: [], removals: [body.destroy] };
      if (!body.sceneId) return { error: 'args.hookContext.id is missing' };
      return { requests: [{ sceneId: body.sceneId, priority: 1, trigger: 'Scene.Update.Post' }], removals: [] };
    },
    onCommand(name, cmd) {
      log.commands.push([name, cmd]);
    },
  };
}

const event = (paths: DataPaths, body: object) => writeInboxFile(paths.inbox, 'event', JSON.stringify(body));

describe('ingestInbox', () => {
  it('turns every event file into a job, in name order, across batches, and empties inbox/new', async () => {
    const { paths, store } = await setup();
    for (let i = 0; i < 80; i++) await event(paths, { sceneId: `s${i % 50}` });
    const log = { interpreted: [] as string[], commands: [] as [string, CommandFile][] };
    const result = await ingestInbox(store, paths, handlers(log), { batchSize: 16 });
    expect(result).toMatchObject({ ingested: 80, bad: 0, commands: 0 });
    expect(log.interpreted).toEqual([...log.interpreted].sort());
    expect(store.counts().ready).toBe(50);
    expect(readdirSync(paths.inboxNew)).toEqual([]);
    // Jobs are in arrival order: s0 was the first event.
    expect((await store.take(3)).map((j) => j.sceneId)).toEqual(['s0', 's1', 's2']);
  });

  it('applies creates and destroys in arrival order', async () => {
    const { paths, store } = await setup();
    await event(paths, { sceneId: 'a' });
    await event(paths, { destroy: 'a' });
    await event(paths, { sceneId: 'b' });
    await event(paths, { destroy: 'b' });
    await event(paths, { sceneId: 'b' });
    await ingestInbox(store, paths, handlers({ interpreted: [], commands: [] }));
    expect(listJobs(store).map((j) => j.sceneId)).toEqual(['b']);
  });

  it('a file whose batch was committed but not unlinked (a crash) is not ingested twice', async () => {
    const { paths, store } = await setup();
    const name = await event(paths, { sceneId: 'once' });
    const saved = path.join(paths.root, 'saved');
    copyFileSync(path.join(paths.inboxNew, name), saved);
    await ingestInbox(store, paths, handlers({ interpreted: [], commands: [] }));
    const [job] = await store.take(1);
    await store.complete(job!, { summary: 'synced' });
    copyFileSync(saved, path.join(paths.inboxNew, name)); // as if the unlink never happened
    const log = { interpreted: [] as string[], commands: [] as [string, CommandFile][] };
    const result = await ingestInbox(store, paths, handlers(log));
    expect(result.ingested).toBe(0);
    expect(log.interpreted).toEqual([]);
    expect(store.counts()).toMatchObject({ ready: 0, done: 1 });
    expect(readdirSync(paths.inboxNew)).toEqual([]);
  });

  it('moves invalid files to bad/ with a one-line reason beside them and keeps going', async () => {
    const { paths, store } = await setup();
    const good = await event(paths, { sceneId: 'ok' });
    const noId = await event(paths, { other: 1 });
    const badCmd = await writeInboxFile(paths.inbox, 'cmd', JSON.stringify({ name: 'redrive' }));
    const result = await ingestInbox(store, paths, handlers({ interpreted: [], commands: [] }));
    expect(result).toMatchObject({ ingested: 1, bad: 2 });
    expect(result.badFiles.map((b) => b.name).sort()).toEqual([noId, badCmd].sort());
    expect(readFileSync(path.join(paths.inboxBad, `${noId}.reason`), 'utf8')).toBe('args.hookContext.id is missing\n');
    expect(readFileSync(path.join(paths.inboxBad, `${badCmd}.reason`), 'utf8')).toMatch(/^not a command file: id: Invalid input: expected string, received undefined\n$/);
    expect(readFileSync(path.join(paths.inboxBad, noId), 'utf8')).toBe('{"other":1}');
    expect(readdirSync(paths.inboxNew)).toEqual([]);
    expect(store.jobForScene('ok')).toBeDefined();
    expect(good).toBeTruthy();
  });

  describe('an event file the sh launcher is still writing (straight into new/, no rename)', () => {
    const partial = (paths: DataPaths, name: string, text: string) => {
      mkdirSync(paths.inboxNew, { recursive: true });
      writeFileSync(path.join(paths.inboxNew, name), text);
      return name;
    };

    it('is left alone while it is not a whole JSON object, and taken in once it is', async () => {
      const { paths, store } = await setup();
      const whole = JSON.stringify({ sceneId: 'late', padding: 'x'.repeat(200) });
      const name = partial(paths, `${Date.now()}-4242-0.event`, '');
      const log = { interpreted: [] as string[], commands: [] as [string, CommandFile][] };
      // Every prefix a crash or a slow writer can leave: empty, cut inside a string, cut before the last brace.
      for (const cut of [0, 20, whole.length - 1]) {
        writeFileSync(path.join(paths.inboxNew, name), whole.slice(0, cut));
        const result = await ingestInbox(store, paths, handlers(log));
        expect(result).toMatchObject({ ingested: 0, bad: 0, incomplete: 1, incompleteRecent: true });
      }
      expect(log.interpreted).toEqual([]);
      expect(readdirSync(paths.inboxNew)).toEqual([name]);

      writeFileSync(path.join(paths.inboxNew, name), whole);
      const done = await ingestInbox(store, paths, handlers(log));
      expect(done).toMatchObject({ ingested: 1, incomplete: 0, incompleteRecent: false });
      expect(store.jobForScene('late')).toBeDefined();
      expect(readdirSync(paths.inboxNew)).toEqual([]);
    });

    it('does not hold back the complete files around it', async () => {
      const { paths, store } = await setup();
      await event(paths, { sceneId: 'before' });
      partial(paths, `${Date.now()}-4242-0.event`, '{"sceneId":"half');
      await event(paths, { sceneId: 'after' });
      const result = await ingestInbox(store, paths, handlers({ interpreted: [], commands: [] }));
      expect(result).toMatchObject({ ingested: 2, incomplete: 1 });
      expect(listJobs(store).map((j) => j.sceneId).sort()).toEqual(['after', 'before']);
    });

    it('goes to bad/ with a reason once it has stayed incomplete past the grace time (a killed hook, a crash)', async () => {
      const { paths, store } = await setup();
      const name = partial(paths, '1700000000000-4242-0.event', '{"sceneId":"cut sh');
      const old = (Date.now() - 61_000) / 1000;
      utimesSync(path.join(paths.inboxNew, name), old, old);
      const result = await ingestInbox(store, paths, handlers({ interpreted: [], commands: [] }));
      expect(result).toMatchObject({ ingested: 0, bad: 1, incomplete: 0 });
      expect(readFileSync(path.join(paths.inboxBad, `${name}.reason`), 'utf8')).toMatch(
        /^incomplete: 18 byte\(s\) that are not a whole JSON object 6\d s after the last write \(a hook killed while writing, or the machine stopped before the file reached the disk\)\n$/,
      );
      expect(readFileSync(path.join(paths.inboxBad, name), 'utf8')).toBe('{"sceneId":"cut sh');
    });

    it('does not stay young for ever when stamped in the future (the clock was set back)', async () => {
      const { paths, store } = await setup();
      const name = partial(paths, `${Date.now()}-4242-0.event`, '{"sceneId":');
      const future = (Date.now() + 10 * 60_000) / 1000;
      utimesSync(path.join(paths.inboxNew, name), future, future);
      const result = await ingestInbox(store, paths, handlers({ interpreted: [], commands: [] }));
      expect(result).toMatchObject({ bad: 1, incomplete: 0 });
    });

    it('counts as not recent once its last write is more than 2 s old', async () => {
      const { paths, store } = await setup();
      const name = partial(paths, `${Date.now()}-4242-0.event`, '{');
      const before = (Date.now() - 5_000) / 1000;
      utimesSync(path.join(paths.inboxNew, name), before, before);
      const result = await ingestInbox(store, paths, handlers({ interpreted: [], commands: [] }));
      expect(result).toMatchObject({ incomplete: 1, incompleteRecent: false });
    });
  });

  it('hands command files to onCommand after the batch commit, then removes them', async () => {
    const { paths, store } = await setup();
    await event(paths, { sceneId: 'x' });
    const cmd = { id: 'c1', name: 'redrive', args: { errorClass: 'transient' }, at: 5, connection: { Scheme: 'http', Port: 9999 } };
    const name = await writeInboxFile(paths.inbox, 'cmd', JSON.stringify(cmd));
    let jobsSeenByCommand = -1;
    const result = await ingestInbox(store, paths, {
      ...handlers({ interpreted: [], commands: [] }),
      onCommand(n, c) {
        expect(n).toBe(name);
        expect(c).toEqual(cmd);
        jobsSeenByCommand = store.counts().ready;
      },
    });
    expect(result).toMatchObject({ ingested: 1, commands: 1 });
    expect(jobsSeenByCommand).toBe(1);
    expect(readdirSync(paths.inboxNew)).toEqual([]);
  });

  it('collects tmp litter older than an hour, keeps young tmp files, and ignores foreign names in new/', async () => {
    const { paths, store } = await setup();
    mkdirSync(paths.inboxTmp, { recursive: true });
    mkdirSync(paths.inboxNew, { recursive: true });
    const old = path.join(paths.inboxTmp, '1700000000000-1-a.event');
    const young = path.join(paths.inboxTmp, '1700000000000-1-b.event');
    const stray = path.join(paths.inboxNew, '1700000000000-1-c.event.tmp');
    for (const f of [old, young, stray]) writeFileSync(f, '{}');
    const twoHoursAgo = (Date.now() - 2 * 3_600_000) / 1000;
    utimesSync(old, twoHoursAgo, twoHoursAgo);
    const log = { interpreted: [] as string[], commands: [] as [string, CommandFile][] };
    const result = await ingestInbox(store, paths, handlers(log));
    expect(result).toMatchObject({ ingested: 0, litter: 1 });
    expect(log.interpreted).toEqual([]);
    expect(existsSync(old)).toBe(false);
    expect(existsSync(young)).toBe(true);
    expect(existsSync(stray)).toBe(true);
  });

  it('maxFiles leaves the rest for the next call, oldest first', async () => {
    const { paths, store } = await setup();
    for (let i = 0; i < 10; i++) await writeInboxFile(paths.inbox, 'event', JSON.stringify({ sceneId: `s${i}` }));
    const h = handlers({ interpreted: [], commands: [] });
    expect((await ingestInbox(store, paths, h, { maxFiles: 4 })).ingested).toBe(4);
    expect(listJobs(store).map((j) => j.sceneId)).toEqual(['s0', 's1', 's2', 's3']);
    expect((await ingestInbox(store, paths, h)).ingested).toBe(6);
  });

  it('an interpreter that throws sends the file to bad/ with the error as the reason', async () => {
    const { paths, store } = await setup();
    const name = await event(paths, { sceneId: 'boom' });
    const result = await ingestInbox(store, paths, {
      interpret() {
        throw new Error('hookContext.type is not a scene hook');
      },
      onCommand: () => undefined,
    });
    expect(result.badFiles).toEqual([{ name, reason: 'interpretation failed: hookContext.type is not a scene hook' }]);
    expect(existsSync(path.join(paths.inboxBad, name))).toBe(true);
  });

  it('ingest markers are forgotten after their TTL, once the inbox has been drained', async () => {
    const { paths } = await setup();
    const later = await QueueStore.open(path.join(paths.root, 'queue-later'), { now: () => Date.now() + 8 * 86_400_000 });
    opened.push(later);
    const name = await event(paths, { sceneId: 'a' });
    await ingestInbox(later, paths, handlers({ interpreted: [], commands: [] }));
    // The store's clock is 8 days ahead, so the marker just written is already past the 7-day TTL.
    expect(await later.seen.has([name])).toEqual([false]);
    expect(later.jobForScene('a')).toBeDefined();
  });
});
