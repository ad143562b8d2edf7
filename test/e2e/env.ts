/**
 * The end-to-end world: the BUILT plugin (dist/) installed in a temporary Stash plugins folder and run
 * exactly as Stash runs it (test/stash-host), against the fake Stash and the fake Plex.
 *
 *   const env = await startEnv({ scenes: 3 });        // scenes 1..3 in Stash, each with a Plex item
 *   await env.edit('1', { title: 'New' });            // updates Stash, then runs the Update hook
 *   await env.waitFor(() => env.plexItem('1').scalars.title === 'New');
 *   await env.task('status');
 *   await env.close();                                // kills the worker, closes the servers
 *
 * Stash sees files under /data/videos, Plex under /media/videos; path_map joins them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakePlex, type FakeItem, type FakePlex, type FakePlexOptions } from '../fake-plex/server';
import { startFakeStash, type FakeSceneInput, type FakeStash } from '../fake-stash/server';
import { listPlugins, loadManifest, loadPlugins, runBulkHooks, runHook, runOperation, runTask, startTask, type HookCall, type HostRunResult, type LoadedPlugins } from '../stash-host/host';

export const STASH_ROOT = '/data/videos';
export const PLEX_ROOT = '/media/videos';
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface EnvOptions {
  /** How many scenes (ids 1..n), or the scenes themselves. Each gets a Plex item unless `plexItems: false`. */
  scenes?: number | FakeSceneInput[];
  plexItems?: boolean;
  plex?: FakePlexOptions;
  /** PlexCourier settings saved in Stash, on top of plex_url, plex_token and path_map. */
  settings?: Record<string, unknown>;
  /** Extra environment for the plugin's processes. */
  env?: NodeJS.ProcessEnv;
  /** How long an idle worker stays (PLEXCOURIER_IDLE_MS). Default 20 s. */
  idleMs?: number;
  /** The host's safety net for one hook or task run (Stash has none). Default 2 min; benchmarks raise it. */
  killAfterMs?: number;
  /** Other plugins installed beside ours: a manifest's text at a path under the plugins folder, e.g. `community/PlexSync/PlexSync.yml`. */
  neighbours?: { file: string; yml: string }[];
  /** Plugin ids Settings > Plugins has disabled. */
  disabledPlugins?: string[];
}

export interface Env {
  stash: FakeStash;
  plex: FakePlex;
  pluginDir: string;
  yml: string;
  dataDir: string;
  processEnv: NodeJS.ProcessEnv;
  /** What Stash loaded from the plugins folder (ours and the neighbours), with its load log. */
  plugins: LoadedPlugins;
  scene(id: string): FakeSceneInput;
  plexItem(sceneId: string): FakeItem;
  /** Changes a scene in Stash and runs the hook Stash would run for a sceneUpdate of those fields. */
  edit(id: string, patch: Partial<FakeSceneInput>, inputFields?: string[]): Promise<HostRunResult>;
  hook(call: HookCall): Promise<HostRunResult>;
  /**
   * Runs, one after another as Stash does, the hooks a fake Stash mutation returned that the manifest
   * subscribes to (Stash runs nothing for the others, e.g. Movie.* beside Group.*).
   */
  fire(calls: HookCall[]): Promise<HostRunResult[]>;
  bulkHook(call: HookCall & { ids: number[]; input: unknown }): Promise<HostRunResult[]>;
  /** Runs the task whose defaultArgs.mode is `mode` (the first such task of the manifest). */
  task(mode: string, args?: Record<string, unknown>): Promise<HostRunResult>;
  startTask(mode: string, args?: Record<string, unknown>): ReturnType<typeof startTask>;
  /** runPluginOperation(plugin_id: "plexcourier", args): exec alone, args on stdin only. */
  operation(args: Record<string, unknown>): Promise<HostRunResult>;
  status(): Record<string, any>;
  workerPid(): number | undefined;
  waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export function sceneFile(id: string, root = STASH_ROOT): string {
  return `${root}/scene-${id}.mp4`;
}

export function makeScene(id: string, extra: Partial<FakeSceneInput> = {}): FakeSceneInput {
  return {
    id,
    title: `Scene ${id}`,
    details: `Details of scene ${id}`,
    date: '2024-05-01',
    rating100: 80,
    studio: { id: '1', name: 'Studio One' },
    performers: [{ id: '1', name: 'Ann Example' }],
    tags: [{ id: '1', name: 'Tag One' }],
    files: [{ path: sceneFile(id), size: 1000 + Number(id) }],
    ...extra,
  };
}

export async function startEnv(opts: EnvOptions = {}): Promise<Env> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'plexcourier-e2e-'));
  const pluginDir = path.join(tmp, 'plugins', 'plexcourier');
  fs.cpSync(path.join(repo, 'dist'), pluginDir, { recursive: true });
  const yml = path.join(pluginDir, 'plexcourier.yml');
  const dataDir = path.join(pluginDir, 'data');
  for (const n of opts.neighbours ?? []) {
    const file = path.join(tmp, 'plugins', n.file);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, n.yml);
  }
  const plugins = loadPlugins(path.join(tmp, 'plugins'));

  const scenes = typeof opts.scenes === 'number' || opts.scenes === undefined
    ? Array.from({ length: opts.scenes ?? 0 }, (_, i) => makeScene(String(i + 1)))
    : opts.scenes;
  const plex = await startFakePlex({ sections: [{ title: 'Videos', type: 'movie', locations: [PLEX_ROOT] }], ...opts.plex });
  const ratingKeys = new Map<string, string>();
  if (opts.plexItems !== false) {
    const items = plex.addItems(
      scenes.map((s) => ({ file: (s.files?.[0]?.path ?? '').replace(STASH_ROOT, PLEX_ROOT), size: s.files?.[0]?.size ?? 0, title: path.basename(s.files?.[0]?.path ?? 'x', '.mp4') })),
    );
    items.forEach((item, i) => ratingKeys.set(scenes[i]!.id, item.ratingKey));
  }
  const stash = await startFakeStash({
    scenes,
    settings: { plex_url: plex.url, plex_token: plex.token, path_map: `${STASH_ROOT}=>${PLEX_ROOT}`, ...opts.settings },
    plugins: listPlugins(plugins.plugins, opts.disabledPlugins),
  });
  const processEnv: NodeJS.ProcessEnv = {
    ...process.env,
    PLEXCOURIER_IDLE_MS: String(opts.idleMs ?? 20_000),
    ...opts.env,
  };
  delete processEnv.PLEXCOURIER_DATA_DIR;
  const hostOpts = { env: processEnv, cwd: tmp, killAfterMs: opts.killAfterMs ?? 120_000 };
  const manifest = loadManifest(yml);
  const taskName = (mode: string) => {
    const t = manifest.tasks.find((x) => x.defaultArgs?.mode === mode);
    if (!t) throw new Error(`no task with mode ${mode}`);
    return t.name;
  };

  const env: Env = {
    stash,
    plex,
    pluginDir,
    yml,
    dataDir,
    processEnv,
    plugins,
    scene: (id) => {
      const s = stash.getScene(id);
      if (!s) throw new Error(`no scene ${id}`);
      return s;
    },
    plexItem: (sceneId) => {
      const rk = ratingKeys.get(sceneId);
      if (!rk) throw new Error(`scene ${sceneId} has no Plex item`);
      return plex.item(rk);
    },
    edit: (id, patch, inputFields) => {
      stash.updateScene(id, patch);
      const fields = inputFields ?? ['id', ...Object.keys(patch).map(inputFieldOf)];
      const input: Record<string, unknown> = { id };
      for (const f of fields) if (f !== 'id') input[f] = null;
      return runHook(yml, { type: 'Scene.Update.Post', id: Number(id), input, inputFields: fields }, stash.connection, hostOpts);
    },
    hook: (call) => runHook(yml, call, stash.connection, hostOpts),
    fire: async (calls) => {
      const subscribed = new Set(manifest.hooks.flatMap((h) => h.triggeredBy));
      const results: HostRunResult[] = [];
      for (const call of calls) if (subscribed.has(call.type)) results.push(await runHook(yml, call, stash.connection, hostOpts));
      return results;
    },
    bulkHook: (call) => runBulkHooks(yml, call, stash.connection, hostOpts),
    task: (mode, args = {}) => runTask(yml, taskName(mode), args, stash.connection, hostOpts),
    startTask: (mode, args = {}) => startTask(yml, taskName(mode), args, stash.connection, hostOpts),
    operation: (args) => runOperation(yml, args, stash.connection, hostOpts),
    status: () => {
      try {
        return JSON.parse(fs.readFileSync(path.join(dataDir, 'status.json'), 'utf8'));
      } catch {
        return {};
      }
    },
    workerPid: () => {
      try {
        return Number(fs.readFileSync(path.join(dataDir, 'worker.pid'), 'utf8').split(' ')[0]) || undefined;
      } catch {
        return undefined;
      }
    },
    waitFor: async (check, what, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (await check()) return;
        if (Date.now() > deadline) {
          const log = readLog(dataDir).split('\n').slice(-15).join('\n');
          throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}\nworker log tail:\n${log}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    close: async () => {
      killWorkers(dataDir);
      await stash.close();
      await plex.close();
      // A worker that was starting when we looked may still be writing for a moment.
      await new Promise((r) => setTimeout(r, 100));
      killWorkers(dataDir);
      fs.rmSync(tmp, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    },
  };
  return env;
}

/** Stash's SceneUpdateInput field for a scene property the fake stores. */
function inputFieldOf(key: string): string {
  return ({ studio: 'studio_id', performers: 'performer_ids', tags: 'tag_ids', groups: 'groups', files: 'primary_file_id' } as Record<string, string>)[key] ?? key;
}

export function readLog(dataDir: string): string {
  try {
    return fs.readFileSync(path.join(dataDir, 'plexcourier.log'), 'utf8');
  } catch {
    return '';
  }
}

/** Every process started from this plugin's bundle as a worker (those that lost an election too). */
export function killWorkers(dataDir: string): void {
  const bundle = path.join(path.dirname(dataDir), 'plexcourier.cjs');
  for (const pid of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let cmdline = '';
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    const args = cmdline.split('\0');
    if (args.includes(bundle) && args.includes('worker')) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
