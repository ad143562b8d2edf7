import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build as esbuild } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hookInput, loadScripts, procFields, runLikeStash, waitFor } from './helpers';

// The installed plugin as Stash sees it: dist/ copied where no node_modules exists in any folder above.
let tmp: string;
let pluginDir: string;
let dataDir: string;
let workerPid: number | undefined;

const alive = (pid: number) => {
  const state = procFields(pid)?.[0];
  return state !== undefined && state !== 'Z' && state !== 'X';
};

beforeAll(async () => {
  const { build } = await loadScripts();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'plexcourier-dist-'));
  const built = await build.buildDist({ distDir: path.join(tmp, 'build') });
  pluginDir = path.join(tmp, 'plugins', 'community', 'plexcourier');
  mkdirSync(path.dirname(pluginDir), { recursive: true });
  cpSync(built, pluginDir, { recursive: true });
  rmSync(built, { recursive: true, force: true });
  dataDir = path.join(pluginDir, 'data');
  // The probe: src/native.ts bundled with the build's own options, placed beside plexcourier.cjs.
  await esbuild(build.bundleOptions(path.join(__dirname, 'fixtures', 'probe.ts'), path.join(pluginDir, 'probe.cjs')));
});

afterAll(async () => {
  if (workerPid !== undefined && alive(workerPid)) {
    process.kill(workerPid, 'SIGTERM');
    await waitFor('the worker to stop', () => (alive(workerPid as number) ? undefined : true), 20_000).catch(() => process.kill(workerPid as number, 'SIGKILL'));
  }
  rmSync(tmp, { recursive: true, force: true });
});

describe('dist/ installed without node_modules', () => {
  it('has no node_modules in any folder above it', () => {
    for (let dir = pluginDir; ; dir = path.dirname(dir)) {
      expect(existsSync(path.join(dir, 'node_modules')), dir).toBe(false);
      if (path.dirname(dir) === dir) break;
    }
  });

  it('opens LevelDB with the binary from its own prebuilds/ folder', () => {
    const location = path.join(tmp, 'probe-db');
    const run = spawnSync(process.execPath, [path.join(pluginDir, 'probe.cjs'), location], { cwd: '/', encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ value: 'queued', location });
  });

  it('spools a hook through the launcher even before any worker can run', async () => {
    const input = hookInput(pluginDir, 7);
    const run = await runLikeStash(['sh', path.join(pluginDir, 'plexcourier.sh'), 'hook'], input, {
      PATH: process.env.PATH,
      PLEXCOURIER_NODE: path.join(tmp, 'no-node-here'),
    });
    const [name] = readdirSync(path.join(dataDir, 'inbox', 'new'));
    expect(JSON.parse(run.stdout).output).toBe(`queued ${name}`);
    expect(readFileSync(path.join(dataDir, 'inbox', 'new', name as string), 'utf8')).toBe(input);
  });

  it('starts the bundled worker from a hook; it takes the store, writes its pid file and ingests the inbox', async () => {
    const run = await runLikeStash(['sh', path.join(pluginDir, 'plexcourier.sh'), 'hook'], hookInput(pluginDir, 8), {
      PATH: process.env.PATH,
      HOME: tmp,
      PLEXCOURIER_IDLE_MS: '3000',
    });
    expect(JSON.parse(run.stdout).output).toMatch(/worker started$/);

    const pidLine = await waitFor('worker.pid', () => {
      const file = path.join(dataDir, 'worker.pid');
      return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    }, 30_000);
    const [pid, startTime] = pidLine.trim().split(' ');
    workerPid = Number(pid);
    expect(procFields(workerPid)?.[19]).toBe(startTime);
    expect(existsSync(path.join(dataDir, 'queue', 'CURRENT'))).toBe(true);
    await waitFor('the inbox to be ingested', () => (readdirSync(path.join(dataDir, 'inbox', 'new')).length === 0 ? true : undefined), 30_000);
  });

  it('answers `status --json` from the installed bundle', () => {
    const run = spawnSync(process.execPath, [path.join(pluginDir, 'plexcourier.cjs'), 'status', '--json'], { cwd: '/', encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(typeof JSON.parse(run.stdout)).toBe('object');
  });
});
