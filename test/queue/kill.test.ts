import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeInboxFile } from '../../src/inbox/write';
import { dataPaths } from '../../src/paths';
import { QueueStore } from '../../src/queue';
import { bundleScript, cleanBundlesAfterAll } from './bundle';
import { doneList, listJobs } from './helpers';
import { int, rng } from '../support/random';
import { useTempDirs } from './helpers';

const tempDir = useTempDirs();
let workerScript = '';

cleanBundlesAfterAll();
beforeAll(async () => {
  workerScript = await bundleScript(fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url)));
});


/** Scene ids: every 40th is rejected (DLQ), every 7th is retried once. */
const sceneName = (i: number): string => `e${i}${i % 40 === 0 ? 'x' : i % 7 === 0 ? 'r' : ''}`;

/**
 * Runs the worker; with `kill`, SIGKILLs it `afterMs` after spawning, or after it reported holding the
 * store when `afterOpen` (so that, however loaded the machine, most kills land in the middle of work).
 */
function runWorker(
  root: string,
  kill?: { afterMs: number; afterOpen: boolean },
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve) => {
    // A worker that is to be killed lingers, so the kill always finds it alive.
    const env = { ...process.env, LINGER_MS: kill === undefined ? '0' : '60000' };
    const child = spawn(process.execPath, [workerScript, root], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    const arm = () => (timer = setTimeout(() => child.kill('SIGKILL'), kill!.afterMs));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      if (kill?.afterOpen && timer === undefined && d.toString().includes('OPEN')) arm();
    });
    if (kill && !kill.afterOpen) arm();
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

/** Where each scene is now: its job's state, 'dlq:<class>', and one 'done' per completed run. */
async function placesOf(store: QueueStore, scenes: string[]): Promise<Map<string, string[]>> {
  const places = new Map<string, string[]>(scenes.map((s) => [s, []]));
  for (const job of listJobs(store)) places.get(job.sceneId)?.push(job.state);
  for (const entry of store.dlqList()) places.get(entry.sceneId)?.push(`dlq:${entry.errorClass}`);
  for (const done of doneList(store)) places.get(done.sceneId)?.push('done');
  return places;
}

describe('kill test', () => {
  it('a worker SIGKILLed at random moments while ingesting and processing loses no event and repeats work at most once per kill and in-flight job', async () => {
    const root = tempDir();
    const paths = dataPaths(root);
    const r = rng(2026);
    const rounds = 50;
    const scenes: string[] = [];
    let kills = 0;

    const writeEvents = async (n: number) => {
      const batch = Array.from({ length: n }, (_, k) => sceneName(scenes.length + k + 1));
      scenes.push(...batch);
      for (let k = 0; k < batch.length; k += 25) {
        await Promise.all(batch.slice(k, k + 25).map((sceneId) => writeInboxFile(paths.inbox, 'event', JSON.stringify({ sceneId }))));
      }
    };

    await writeEvents(500);
    for (let round = 0; round < rounds; round++) {
      await writeEvents(30);
      const result = await runWorker(root, r() < 0.2 ? { afterMs: int(r, 0, 250), afterOpen: false } : { afterMs: int(r, 0, 300), afterOpen: true });
      expect(result.signal, result.stderr).toBe('SIGKILL');
      kills++;

      // The restart: opening the store recovers what the dead worker had in flight.
      const store = await QueueStore.open(paths.store, { doneMaxEntries: 1e7, doneTtlMs: 1e12 });
      const waiting = new Set(readdirSync(paths.inboxNew).map((name) => JSON.parse(readFileSync(path.join(paths.inboxNew, name), 'utf8')).sceneId as string));
      const places = await placesOf(store, scenes);
      await store.close();
      for (const [sceneId, where] of places) {
        // Exactly one place, or none yet because its event still waits in the inbox (a kill between commit and unlink leaves both).
        if (where.length === 0) expect(waiting.has(sceneId), `round ${round}: scene ${sceneId} is lost`).toBe(true);
        else expect(where, `round ${round}: scene ${sceneId}`).toHaveLength(1);
      }
    }

    // Real work must have happened under fire, not only in the final calm run.
    const startedUnderKills = readFileSync(path.join(root, 'runs.log'), 'utf8').split('\n').filter((l) => l.startsWith('S ')).length;
    expect(startedUnderKills).toBeGreaterThan(100);

    const final = await runWorker(root);
    expect(final.code, final.stderr).toBe(0);
    expect(readdirSync(paths.inboxNew)).toEqual([]);
    const store = await QueueStore.open(paths.store, { doneMaxEntries: 1e7, doneTtlMs: 1e12 });
    const places = await placesOf(store, scenes);
    expect(store.counts()).toMatchObject({ ready: 0, delayed: 0, active: 0 });
    await store.close();
    for (const [sceneId, where] of places) {
      if (sceneId.endsWith('x')) expect(where.length === 1 && where[0]!.startsWith('dlq:'), `${sceneId}: ${where}`).toBe(true);
      else expect(['done', 'dlq:poison'], `${sceneId}: ${where}`).toContain(where.length === 1 ? where[0] : where.join('+'));
    }

    // Work repeated because of kills: runs started but never recorded as finished.
    const lines = readFileSync(path.join(root, 'runs.log'), 'utf8').trim().split('\n');
    const unfinished = lines.filter((l) => l.startsWith('S ')).length - lines.filter((l) => l.startsWith('E ')).length;
    expect(kills).toBe(rounds);
    expect(unfinished).toBeLessThanOrEqual(kills * 16);
    expect(existsSync(paths.inboxBad)).toBe(false);
    console.log(`kill test: ${scenes.length} events, ${kills} kills, ${startedUnderKills} runs started under kills, ${unfinished} runs repeated after a kill`);
  }, 180_000);
});
