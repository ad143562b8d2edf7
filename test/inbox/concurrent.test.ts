import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ingestInbox } from '../../src/inbox/ingest';
import { dataPaths } from '../../src/paths';
import { QueueStore } from '../../src/queue';
import { bundleScript, cleanBundlesAfterAll } from '../queue/bundle';

let writerScript = '';
const dirs: string[] = [];
cleanBundlesAfterAll();
beforeAll(async () => {
  writerScript = await bundleScript(fileURLToPath(new URL('./fixtures/writer.ts', import.meta.url)));
});
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function runWriter(inboxDir: string, tag: string, count: number): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [writerScript, inboxDir, tag, String(count)], { stdio: 'ignore' });
    child.on('exit', (code) => resolve(code));
  });
}

describe('concurrent writers', () => {
  it('120 writer processes at once while the worker ingests: every event is ingested exactly once', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'plexcourier-concurrent-'));
    dirs.push(root);
    const paths = dataPaths(root);
    const store = await QueueStore.open(paths.store);
    const interpretations = new Map<string, number>();
    const handlers = {
      interpret(name: string, bytes: Buffer) {
        interpretations.set(name, (interpretations.get(name) ?? 0) + 1);
        const { sceneId } = JSON.parse(bytes.toString('utf8')) as { sceneId: string };
        return { requests: [{ sceneId, priority: 1 as const, trigger: 'Scene.Update.Post' }], removals: [] };
      },
      onCommand: () => undefined,
    };

    const writers = 120;
    const perWriter = 3;
    let writing = true;
    let ingested = 0;
    const worker = (async () => {
      while (writing || readdirSync(paths.inboxNew).length > 0) {
        ingested += (await ingestInbox(store, paths, handlers, { batchSize: 32 })).ingested;
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    // Waves of 40 keep 2 cores from thrashing; within a wave all start at once.
    const codes: (number | null)[] = [];
    for (let wave = 0; wave < writers; wave += 40) {
      codes.push(...(await Promise.all(Array.from({ length: 40 }, (_, i) => runWriter(paths.inbox, `w${wave + i}`, perWriter)))));
    }
    writing = false;
    await worker;

    expect(codes.every((c) => c === 0)).toBe(true);
    expect(ingested).toBe(writers * perWriter);
    expect(interpretations.size).toBe(writers * perWriter);
    expect([...interpretations.values()].every((n) => n === 1)).toBe(true);
    expect(store.counts().ready).toBe(writers * perWriter);
    for (let w = 0; w < writers; w++) for (let i = 0; i < perWriter; i++) expect(store.jobForScene(`w${w}-${i}`)).toBeDefined();
    expect(readdirSync(paths.inboxTmp)).toEqual([]);
    await store.close();
  }, 120_000);

  it('a writer killed at any instant leaves only complete files in new/ and at most litter in tmp/', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'plexcourier-writer-kill-'));
    dirs.push(root);
    const inbox = path.join(root, 'inbox');
    let killed = 0;
    for (let round = 0; round < 20; round++) {
      const child = spawn(process.execPath, [writerScript, inbox, `k${round}`, '100000'], { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, 60 + ((round * 37) % 120)));
      child.kill('SIGKILL');
      await new Promise((r) => child.on('exit', r));
      killed++;
    }
    const names = readdirSync(path.join(inbox, 'new'));
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      const body = JSON.parse(readFileSync(path.join(inbox, 'new', name), 'utf8')) as { sceneId: string };
      expect(body.sceneId).toMatch(/^k\d+-\d+$/);
    }
    // At most the one file each killed writer was in the middle of.
    expect(readdirSync(path.join(inbox, 'tmp')).length).toBeLessThanOrEqual(killed);
  }, 120_000);
});
