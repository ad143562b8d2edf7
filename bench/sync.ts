/**
 * End-to-end figures for the built plugin, run as Stash runs it against the fake Stash and fake Plex:
 *
 * 1. Sync throughput with 5 ms of Plex latency and 2 requests in flight, against the request-bound
 *    ideal: in-flight ÷ (Plex requests per changed scene × latency).
 * 2. Sync All over many scenes (default 50,000): the first run (time, Plex requests), then a second
 *    run with nothing changed (time; it must send no Plex write).
 * 3. The worker's peak RSS (VmHWM) while it indexes a 100,000-item Plex library and syncs.
 *
 * Sizes: BENCH_THROUGHPUT_SCENES (1000), BENCH_SYNC_ALL_SCENES (50000), BENCH_LIBRARY_ITEMS (100000).
 */
import fs from 'node:fs';
import { makeScene, PLEX_ROOT, sceneFile, startEnv, type Env } from '../test/e2e/env';
import { startFakePlexChild } from './fake-plex-child';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const num = (name: string, dflt: number) => (Number(process.env[name]) > 0 ? Number(process.env[name]) : dflt);
const writes = (env: Env) => env.plex.requestLog.filter((r) => r.method === 'PUT' || r.method === 'POST').length;

function peakRss(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Sync throughput: Sync All over scenes whose title changed since their last sync. The fake Plex runs
 * in a process of its own, as a real one would (sharing the fake Stash's event loop, its answers
 * waited behind Stash's GraphQL work). Timed from its request log: steady state from the first Plex
 * request to the last answer, and wall time from the task's start (Node start-up, paging Stash,
 * queueing) to the last answer. Three measured runs after a warm-up; medians.
 */
async function throughput(): Promise<void> {
  const n = num('BENCH_THROUGHPUT_SCENES', 1000);
  const latencyMs = 5;
  const inFlight = 2;
  // Items scene-0 … scene-n under PLEX_ROOT: scene i of Stash is scene-i.mp4 (path_map joins the roots).
  const plex = await startFakePlexChild(['--items', String(n + 1), '--root', PLEX_ROOT, '--latency', String(latencyMs)]);
  const env = await startEnv({
    scenes: n,
    plexItems: false,
    settings: { skip_poster: true, plex_url: plex.url, plex_token: plex.token },
    idleMs: 120_000,
  });
  try {
    const drained = () => {
      const c = env.status().counts;
      return !!c && c.ready + c.delayed + c.active === 0;
    };
    // Warm up: every scene synced once (index built, ratings set), so what is measured is an edit.
    const warm = await env.task('sync_all');
    if (warm.error) throw new Error(warm.error);
    const ids = Array.from({ length: n - 1 }, (_, i) => String(i + 2));
    const runs: { steady: number; wall: number; perScene: number; secs: number }[] = [];
    for (let run = 0; run < 3; run++) {
      for (const id of ids) env.stash.updateScene(id, { title: `Changed ${run} ${id}` });
      await plex.send('clearlog');
      const t0 = performance.timeOrigin + performance.now();
      const result = await env.task('sync_all');
      if (result.error) throw new Error(result.error);
      let t = await plex.send('timings');
      await env.waitFor(async () => {
        t = await plex.send('timings');
        return Number(t.puts) >= ids.length && drained();
      }, 'every changed scene written to Plex', 600_000);
      const first = Number(t.first);
      const last = Number(t.last);
      const perScene = Number(t.requests) / ids.length;
      const ideal = inFlight / (perScene * (latencyMs / 1000));
      runs.push({
        steady: ids.length / ((last - first) / 1000) / ideal,
        wall: ids.length / ((last - t0) / 1000) / ideal,
        perScene,
        secs: (last - t0) / 1000,
      });
    }
    const med = (f: (r: (typeof runs)[number]) => number) => median(runs.map(f));
    const ideal = inFlight / (med((r) => r.perScene) * (latencyMs / 1000));
    const pct = (x: number) => `${(100 * x).toFixed(0)} %`;
    console.log(`throughput: ${ids.length} scenes whose title changed since their last sync, Plex latency ${latencyMs} ms (fake Plex in its own process), ${inFlight} requests in flight, 3 runs`);
    console.log(`  ${med((r) => r.perScene).toFixed(2)} Plex requests per changed scene (no image uploads: skip_poster); request-bound ideal ${ideal.toFixed(0)} scenes/s`);
    console.log(
      `  steady state (first Plex request → last answer): median ${(med((r) => r.steady) * ideal).toFixed(0)} scenes/s = ${pct(med((r) => r.steady))} of ideal (runs: ${runs.map((r) => pct(r.steady)).join(', ')})`,
    );
    console.log(
      `  wall time (task start → last answer, incl. Node start-up and paging Stash): median ${med((r) => r.secs).toFixed(1)} s = ${pct(med((r) => r.wall))} of ideal (runs: ${runs.map((r) => pct(r.wall)).join(', ')})`,
    );
  } finally {
    await env.close();
    plex.stop();
  }
}

async function syncAll(): Promise<void> {
  const n = num('BENCH_SYNC_ALL_SCENES', 50_000);
  const env = await startEnv({ scenes: n, settings: { skip_poster: true }, idleMs: 600_000, killAfterMs: 3_600_000 });
  try {
    env.plex.clearLog();
    let t0 = performance.now();
    const first = await env.task('sync_all');
    if (first.error) throw new Error(first.error);
    await env.waitFor(() => {
      const c = env.status().counts;
      return !!c && c.ready + c.active + c.delayed === 0;
    }, 'first Sync All', 3_600_000);
    const firstSecs = (performance.now() - t0) / 1000;
    const firstRequests = env.plex.requestLog.length;
    const synced = Array.from({ length: n }, (_, i) => String(i + 1)).filter((id) => env.plexItem(id).scalars.title === `Scene ${id}`).length;
    console.log(`Sync All over ${n} scenes (posters off), first run: ${firstSecs.toFixed(1)} s, ${firstRequests} Plex requests (${(firstRequests / n).toFixed(2)} per scene), ${synced} synced`);

    env.plex.clearLog();
    const writesBefore = writes(env);
    t0 = performance.now();
    const second = await env.task('sync_all');
    if (second.error) throw new Error(second.error);
    const secondSecs = (performance.now() - t0) / 1000;
    console.log(`  second run, nothing changed: ${secondSecs.toFixed(1)} s, ${env.plex.requestLog.length} Plex requests, ${writes(env) - writesBefore} Plex writes`);
    console.log(`  worker peak RSS during the runs: ${peakRss(env.workerPid()).toFixed(0)} MB`);
  } finally {
    await env.close();
  }
}

async function memory(): Promise<void> {
  const items = num('BENCH_LIBRARY_ITEMS', 100_000);
  const scenes = 200;
  const env = await startEnv({ scenes, idleMs: 600_000 });
  try {
    // Fill the library: the scenes' own items exist; add the rest under another folder.
    const batch = 10_000;
    for (let i = 0; i < items - scenes; i += batch) {
      env.plex.addItems(Array.from({ length: Math.min(batch, items - scenes - i) }, (_, k) => ({ file: `${PLEX_ROOT}/library/${i + k}/file-${i + k}.mp4`, size: i + k })));
    }
    // A scene whose file Plex lacks makes the worker walk every section (the full index build).
    env.stash.addScene(makeScene('999999', { files: [{ path: sceneFile('missing'), size: 1 }] }));
    await env.edit('999999', { title: 'not in Plex' });
    await env.waitFor(() => fs.existsSync(`${env.dataDir}/plex-index.json`), 'the path index', 600_000);
    const ids = Array.from({ length: scenes }, (_, i) => String(i + 1));
    for (const id of ids) env.stash.updateScene(id, { title: `Mem ${id}` });
    await env.task('sync_all');
    await env.waitFor(() => ids.every((id) => env.plexItem(id).scalars.title === `Mem ${id}`), 'the scenes', 600_000);
    console.log(`worker peak RSS with a ${items}-item Plex library indexed and ${scenes} scenes synced: ${peakRss(env.workerPid()).toFixed(0)} MB`);
  } finally {
    await env.close();
  }
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const want = (name: string) => only.length === 0 || only.includes(name);
  if (want('throughput')) await throughput();
  if (want('memory')) await memory();
  if (want('syncall')) await syncAll();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error((err as Error).message);
    process.exit(1);
  },
);
