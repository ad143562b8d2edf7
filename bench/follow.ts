/**
 * Following renames (issue 17), for the built plugin run as Stash runs it against the fake Stash and a
 * fake Plex in its own process at 5 ms latency:
 *
 * 1. A tag rename touching N synced scenes (default 1,000): time from the hook's start to the last
 *    Plex answer, with every item checked to carry the new name (goal: within 20 s). Baseline in the
 *    same run: Sync All over the same N scenes, each with a changed title (the same one PUT per scene).
 * 2. The rename's hook against a scene edit's hook: wall time of each, as Stash waits for it.
 *
 * Size: BENCH_FOLLOW_SCENES (1000).
 */
import { PLEX_ROOT, startEnv, type Env } from '../test/e2e/env';
import type { HostRunResult } from '../test/stash-host/host';
import { startFakePlexChild, type FakePlexChild } from './fake-plex-child';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const num = (name: string, dflt: number) => (Number(process.env[name]) > 0 ? Number(process.env[name]) : dflt);

async function waitWritten(env: Env, plex: FakePlexChild, puts: number): Promise<number> {
  let last = 0;
  await env.waitFor(async () => {
    const t = await plex.send('timings');
    const c = env.status().counts;
    last = Number(t.last);
    return Number(t.puts) >= puts && !!c && c.ready + c.delayed + c.active === 0;
  }, 'every scene written to Plex', 600_000);
  return last;
}

async function main(): Promise<void> {
  const n = num('BENCH_FOLLOW_SCENES', 1000);
  const latencyMs = 5;
  // Items scene-0 … scene-n; scene i of Stash is scene-i.mp4. Every scene has tag 1 (makeScene).
  const plex = await startFakePlexChild(['--items', String(n + 1), '--root', PLEX_ROOT, '--latency', String(latencyMs)]);
  const env = await startEnv({ scenes: n, plexItems: false, settings: { skip_poster: true, plex_url: plex.url, plex_token: plex.token }, idleMs: 600_000 });
  try {
    const warm = await env.task('sync_all');
    if (warm.error) throw new Error(warm.error);
    await waitWritten(env, plex, 0);

    const renames: { secs: number; reached: number; hookMs: number }[] = [];
    const syncAlls: number[] = [];
    const editHooks: number[] = [];
    for (let run = 0; run < 3; run++) {
      // Baseline: Sync All over the same scenes, each with a changed title.
      for (let id = 1; id <= n; id++) env.stash.updateScene(String(id), { title: `Changed ${run} ${id}` });
      await plex.send('clearlog');
      let t0 = performance.timeOrigin + performance.now();
      const all = await env.task('sync_all');
      if (all.error) throw new Error(all.error);
      syncAlls.push((await waitWritten(env, plex, n) - t0) / 1000);

      // The rename: one hook, then the worker fans it out.
      const name = `Tag Renamed ${run}`;
      await plex.send('clearlog');
      t0 = performance.timeOrigin + performance.now();
      const fired: HostRunResult[] = await env.fire(env.stash.updateEntity('tag', '1', { name }));
      if (fired.length !== 1 || fired[0]!.error) throw new Error(`the rename fired ${fired.length} hook(s): ${fired[0]?.error ?? ''}`);
      const last = await waitWritten(env, plex, n);
      const reached = Number((await plex.send(`genre ${encodeURIComponent(name)}`)).items);
      renames.push({ secs: (last - t0) / 1000, reached, hookMs: fired[0]!.wallMs });

      // A scene edit's hook, for the hook cost; its sync is waited for so the next run starts quiet.
      await plex.send('clearlog');
      const edit = await env.edit('1', { title: `Edited ${run}` });
      editHooks.push(edit.wallMs);
      await waitWritten(env, plex, 1);
    }
    const r = median(renames.map((x) => x.secs));
    console.log(`tag rename touching ${n} synced scenes, Plex latency ${latencyMs} ms (fake Plex in its own process), 3 runs`);
    console.log(
      `  hook start → last Plex answer: median ${r.toFixed(1)} s (runs: ${renames.map((x) => x.secs.toFixed(1)).join(', ')}; goal 20 s); items showing the new name: ${renames.map((x) => x.reached).join(', ')} of ${n}`,
    );
    const b = median(syncAlls);
    console.log(`  baseline, Sync All over the same ${n} scenes with changed titles: median ${b.toFixed(1)} s; rename / Sync All = ${(r / b).toFixed(2)}`);
    console.log(
      `  hook wall time (Stash waits for it): rename median ${median(renames.map((x) => x.hookMs)).toFixed(0)} ms, scene edit median ${median(editHooks).toFixed(0)} ms (one process each)`,
    );
  } finally {
    await env.close();
    plex.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error((err as Error).message);
    process.exit(1);
  },
);
