import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeInboxFile } from '../../src/inbox/write';
import { dataPaths } from '../../src/paths';
import { QueueStore } from '../../src/queue';
import { bundleScript, cleanBundlesAfterAll } from './bundle';
import { doneList, useTempDirs } from './helpers';
import { int, rng } from '../support/random';

const tempDir = useTempDirs();
let workerScript = '';
let openerScript = '';

cleanBundlesAfterAll();
beforeAll(async () => {
  workerScript = await bundleScript(fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url)));
  openerScript = await bundleScript(fileURLToPath(new URL('./fixtures/opener.ts', import.meta.url)));
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(script: string, args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; exit: Promise<Exit>; output: () => string } {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<Exit>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  return { child, exit, output: () => stdout };
}

async function doneScenes(root: string): Promise<string[]> {
  const store = await QueueStore.open(dataPaths(root).store, { doneMaxEntries: 1e6, doneTtlMs: 1e12 });
  const scenes = doneList(store).map((d) => d.sceneId);
  expect(store.counts()).toMatchObject({ ready: 0, delayed: 0, active: 0 });
  await store.close();
  return scenes.sort();
}

describe('election', () => {
  it('two processes racing to open the store: exactly one wins, the other says so in one line', async () => {
    for (let round = 0; round < 3; round++) {
      const dir = path.join(tempDir(), 'queue');
      const go = path.join(path.dirname(dir), 'go');
      const a = start(openerScript, [dir, go]);
      const b = start(openerScript, [dir, go]);
      while (!(a.output().includes('READY') && b.output().includes('READY'))) await sleep(5);
      writeFileSync(go, '');
      // The winner holds the lock until both have answered.
      while (!(/WON|LOCKED/.test(a.output()) && /WON|LOCKED/.test(b.output()))) await sleep(5);
      writeFileSync(`${go}.release`, '');
      const results = await Promise.all([a.exit, b.exit]);
      const won = results.filter((r) => r.code === 0);
      const lost = results.filter((r) => r.code === 3);
      expect(won, JSON.stringify(results)).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(won[0]!.stdout).toBe('READY\nWON\n');
      expect(lost[0]!.stdout).toMatch(/^READY\nLOCKED the queue store at .* is locked by another process \(a worker is running\); send it a command file instead\n$/);
      expect(lost[0]!.stderr).toBe('');
    }
  });

  it('an event written while the exiting worker is between closing the store and its recheck is not left behind', async () => {
    const root = tempDir();
    const paths = dataPaths(root);
    await writeInboxFile(paths.inbox, 'event', JSON.stringify({ sceneId: 'first' }));
    const worker = start(workerScript, [root], { PAUSE_BEFORE_RECHECK: '1' });
    while (!existsSync(path.join(root, 'paused'))) await sleep(5);
    // The worker has closed the store and removed its pid file: this is the window of the race.
    expect(existsSync(paths.pidFile)).toBe(false);
    await writeInboxFile(paths.inbox, 'event', JSON.stringify({ sceneId: 'in-the-gap' }));
    writeFileSync(path.join(root, 'go'), '');
    // It re-opens, ingests, and pauses again before its final recheck; let it go through.
    const result = await worker.exit;
    expect(result.code, result.stderr).toBe(0);
    expect(readdirSync(paths.inboxNew)).toEqual([]);
    expect(await doneScenes(root)).toEqual(['first', 'in-the-gap']);
  });

  it('hooks racing exiting workers: with "write, then start a worker if none is alive", no event is stranded', async () => {
    const root = tempDir();
    const paths = dataPaths(root);
    const r = rng(99);
    const children: Promise<Exit>[] = [];
    const expected: string[] = [];
    for (let i = 0; i < 120; i++) {
      const sceneId = `s${i}`;
      expected.push(sceneId);
      await writeInboxFile(paths.inbox, 'event', JSON.stringify({ sceneId }));
      // The launcher's rule: after writing, start a worker unless the pid file shows one.
      if (!existsSync(paths.pidFile)) children.push(start(workerScript, [root], { LINGER_MS: String(int(r, 0, 30)) }).exit);
      if (r() < 0.3) await sleep(int(r, 1, 40));
    }
    const exits = await Promise.all(children);
    for (const e of exits) expect([0, 3], e.stderr).toContain(e.code);
    expect(children.length).toBeGreaterThan(1);
    expect(readdirSync(paths.inboxNew)).toEqual([]);
    expect(await doneScenes(root)).toEqual(expected.sort());
  }, 120_000);
});
