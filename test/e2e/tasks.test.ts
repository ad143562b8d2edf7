import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeScene, PLEX_ROOT, startEnv, type Env } from './env';

let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

/** Every task's log ends with one machine-readable JSON line. */
function lastJson(run: { logs: { msg: string }[] }): Record<string, unknown> {
  return JSON.parse(run.logs.at(-1)!.msg) as Record<string, unknown>;
}

const writes = (e: Env) => e.plex.requestLog.filter((r) => r.method === 'PUT' || r.method === 'POST').length;

describe('Stash tasks', () => {
  it('Sync All syncs every scene, and a second run with nothing changed writes nothing to Plex', async () => {
    env = await startEnv({ scenes: 40 });
    const first = await env.task('sync_all');
    expect(first.error).toBeNull();
    expect(lastJson(first)).toMatchObject({ task: 'sync_all', ok: true, queued: 40, remaining: 0 });
    expect(first.progress.at(-1)).toBe(1);
    for (let id = 1; id <= 40; id++) expect(env.plexItem(String(id)).scalars.title).toBe(`Scene ${id}`);

    const before = writes(env);
    const second = await env.task('sync_all');
    expect(lastJson(second)).toMatchObject({ task: 'sync_all', ok: true, queued: 40 });
    expect(writes(env)).toBe(before);

    // Forced: written again even though nothing changed (Plex shows the same, so no field changes, but every item is read).
    const reads = env.plex.requestLog.length;
    const forced = await env.startTask('sync_all', { force: 'true' }).result;
    expect(lastJson(forced)).toMatchObject({ task: 'sync_all', force: true });
    expect(env.plex.requestLog.length).toBeGreaterThan(reads);
  });

  it("Sync All's progress follows the scenes as they are settled, and its log says what happened to them", async () => {
    env = await startEnv({ scenes: 1000, plex: { latencyMs: 5 } });
    const first = await env.task('sync_all');
    // Stash clamps and shows each value; it must climb while scenes move, not sit at one value until the end.
    expect(first.progress).toEqual([...first.progress].sort((a, b) => a - b));
    const midway = new Set(first.progress.filter((p) => p > 0.1 && p < 1));
    expect(midway.size).toBeGreaterThanOrEqual(2);
    expect(first.progress.at(-1)).toBe(1);
    expect(lastJson(first)).toMatchObject({ queued: 1000, synced: 1000, unchanged: 0, failed: 0 });
    expect(first.logs.map((l) => l.msg)).toContain('Sync All: 1000 checked: 0 unchanged since their last sync, 1000 sent to Plex; queue drained');

    const second = await env.task('sync_all');
    expect(lastJson(second)).toMatchObject({ queued: 1000, synced: 0, unchanged: 1000 });
    expect(second.logs.map((l) => l.msg)).toContain('Sync All: 1000 checked: 1000 unchanged since their last sync, 0 sent to Plex; queue drained');
  });

  it('Sync Recent queues only the scenes changed in the last hours', async () => {
    const old = '2020-01-01T00:00:00Z';
    env = await startEnv({ scenes: Array.from({ length: 10 }, (_, i) => makeScene(String(i + 1), { updated_at: old })) });
    env.stash.updateScene('3', { title: 'Recent 3' });
    env.stash.updateScene('7', { title: 'Recent 7' });
    const run = await env.task('sync_recent');
    expect(lastJson(run)).toMatchObject({ task: 'sync_recent', ok: true, queued: 2 });
    expect(env.plexItem('3').scalars.title).toBe('Recent 3');
    expect(env.plexItem('1').scalars.title).toBe('scene-1');
  });

  it('Status reports the queue, the DLQ by error class with scenes, and the breaker', async () => {
    env = await startEnv({ scenes: 2 });
    const fault = env.plex.setFault({ kind: 'status', status: 400, method: 'PUT' });
    await env.edit('2', { title: 'Refused' });
    await env.waitFor(() => env!.status().counts?.dlq === 1, 'the DLQ entry');
    env.plex.clearFault(fault);
    await env.waitFor(() => env!.status().dlqExamples?.length === 1, 'the status file to show it');
    const run = await env.task('status');
    const text = run.logs.map((l) => l.msg).join('\n');
    expect(text).toMatch(/1 in the DLQ/);
    expect(text).toMatch(/bad_request/);
    expect(text).toMatch(/scene 2 \(bad_request\)/);
    expect(text).toMatch(/breaker closed/);
    expect(lastJson(run)).toMatchObject({ task: 'status', ok: true, dlqByClass: { bad_request: 1 } });
  });

  it('Purge DLQ, Clear DLQ and Clear Queue empty what they name', async () => {
    env = await startEnv({ scenes: 3, plexItems: false });
    const fault = env.plex.setFault({ kind: 'status', status: 400, method: 'GET', path: /^\/library\/sections\/\d+\/all$/ });
    await env.edit('1', { title: 'x' });
    await env.waitFor(() => env!.status().counts?.dlq === 1, 'a DLQ entry');
    env.plex.clearFault(fault);
    expect(lastJson(await env.task('purge_dlq'))).toMatchObject({ task: 'purge_dlq', ok: true, purged: 0 });
    expect(lastJson(await env.task('clear_dlq'))).toMatchObject({ task: 'clear_dlq', ok: true, removed: 1 });
    await env.edit('2', { title: 'y' });
    await env.waitFor(() => env!.status().counts?.delayed === 1, 'scene 2 waiting for Plex to have its file');
    expect(lastJson(await env.task('clear_queue'))).toMatchObject({ task: 'clear_queue', ok: true, removed: 1 });
  });

  it('Clear Queue during a Sync All also clears the round prepared ahead: nothing is written after it returns, nothing is lost', async () => {
    const scenes = 1_000;
    env = await startEnv({ scenes, plex: { latencyMs: 2 }, settings: { skip_poster: true } });
    const sync = env.startTask('sync_all');
    await env.waitFor(() => writes(env!) > 0, 'the first writes of the Sync All');
    const cleared = lastJson(await env.task('clear_queue'));
    const writesAfterClear = writes(env);
    await sync.result;
    await env.waitFor(() => {
      const c = env!.status().counts;
      return !!c && c.ready + c.delayed + c.active === 0;
    }, 'the worker to finish its round');
    expect(writes(env)).toBe(writesAfterClear);
    const synced = Array.from({ length: scenes }, (_, i) => String(i + 1)).filter((id) => env!.plexItem(id).scalars.title === `Scene ${id}`).length;
    expect(cleared).toMatchObject({ task: 'clear_queue', ok: true });
    expect(Number(cleared.removed)).toBeGreaterThan(0);
    expect(synced + Number(cleared.removed)).toBe(scenes);
  });

  it('Reconcile finds scenes missing from Plex and never synced, reports examples and queues them', async () => {
    env = await startEnv({ scenes: 5, plexItems: false });
    for (const id of ['1', '2', '3']) env.plex.addItem({ file: `${PLEX_ROOT}/scene-${id}.mp4`, size: 1000 + Number(id) });
    const run = await env.task('reconcile');
    expect(run.error).toBeNull();
    expect(lastJson(run)).toMatchObject({ task: 'reconcile', ok: true, checked: 5, missing: 2, neverSynced: 3, queued: 5 });
    expect(run.logs.map((l) => l.msg).join('\n')).toMatch(/2 scene\(s\) have no Plex item \(e\.g\. scenes 4, 5\)/);
  });

  it('Health checks Plex and the path map on a sample of real Stash paths', async () => {
    env = await startEnv({ scenes: [makeScene('1'), makeScene('2'), makeScene('3', { files: [{ path: '/nowhere/lost.mp4', size: 1 }] })], plexItems: false });
    for (const id of ['1', '2']) env.plex.addItem({ file: `${PLEX_ROOT}/scene-${id}.mp4`, size: 1000 + Number(id) });
    const run = await env.task('health');
    expect(run.error).toBeNull();
    const text = run.logs.map((l) => l.msg).join('\n');
    expect(text).toMatch(/reachable, token valid/);
    expect(text).toMatch(/2 of 3 sampled scenes found in Plex; 1 not in any library, e\.g\. \/nowhere\/lost\.mp4/);
    expect(lastJson(run)).toMatchObject({ task: 'health', ok: true, sampled: 3, found: 2 });
    expect(text).not.toContain(env.plex.token);
  });

  it('Rebuild Index walks every library again', async () => {
    env = await startEnv({ scenes: 3 });
    const run = await env.task('rebuild_index');
    expect(lastJson(run)).toMatchObject({ task: 'rebuild_index', ok: true, items: 3, sections: 1 });
    expect(fs.existsSync(path.join(env.dataDir, 'plex-index.json'))).toBe(true);
  });
});

describe('the worker', () => {
  it('exits when idle, removing its pid file, and the next hook starts a new one', async () => {
    env = await startEnv({ scenes: 2, idleMs: 1_500 });
    await env.edit('1', { title: 'First' });
    await env.waitFor(() => env!.plexItem('1').scalars.title === 'First', 'the first sync');
    const first = env.workerPid();
    await env.waitFor(() => env!.workerPid() === undefined, 'the idle worker to leave', 20_000);
    await env.edit('2', { title: 'Second' });
    await env.waitFor(() => env!.plexItem('2').scalars.title === 'Second', 'the second sync');
    expect(env.workerPid()).not.toBe(first);
  });

  it('answers status --json from the command line without touching the store', async () => {
    env = await startEnv({ scenes: 1 });
    await env.edit('1', { title: 'Shown' });
    await env.waitFor(() => env!.plexItem('1').scalars.title === 'Shown', 'the sync');
    await env.waitFor(() => (env!.status().counts?.done ?? 0) === 1, 'the status file');
    const { execFileSync } = await import('node:child_process');
    const out = JSON.parse(execFileSync(process.execPath, [path.join(env.pluginDir, 'plexcourier.cjs'), 'status', '--json'], { env: env.processEnv, encoding: 'utf8' }));
    expect(out).toMatchObject({ alive: true, counts: { done: 1, dlq: 0 } });
  });
});
