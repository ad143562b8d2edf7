import { afterEach, describe, expect, it } from 'vitest';
import { startEnv, type Env } from './env';

/** The operations behind the PlexCourier page, run as Stash runs them (runPluginOperation: exec alone, args on stdin). */
let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

async function op(args: Record<string, unknown>) {
  const r = await env!.operation(args);
  expect(r.exitCode).toBe(0);
  return r;
}

describe('ui_status', () => {
  it('carries the same counts as status --json, the failed list grouped by class, and the chart history', async () => {
    env = await startEnv({ scenes: 3 });
    const fault = env.plex.setFault({ kind: 'status', status: 400, method: 'PUT' });
    await env.edit('2', { title: 'Refused' });
    await env.waitFor(() => env!.status().counts?.dlq === 1, 'the DLQ entry');
    env.plex.clearFault(fault);
    await env.edit('1', { title: 'Accepted' });
    await env.waitFor(() => env!.plexItem('1').scalars.title === 'Accepted', 'scene 1 in Plex');
    await env.waitFor(() => env!.status().counts?.done >= 1 && (env!.status().history ?? []).length > 0, 'the status file to show the sync');

    const [ui, status] = [await op({ mode: 'ui_status' }), await op({ mode: 'status' })];
    const out = ui.output as Record<string, any>;
    expect(out.counts).toEqual((status.output as Record<string, any>).counts);
    expect(out.worker.state).toMatch(/running|idle/);
    expect(out.failed).toEqual([{ errorClass: 'bad_request', count: 1, entries: [expect.objectContaining({ sceneId: '2', attempts: expect.any(Number), ratingKey: null })] }]);
    expect(out.history.reduce((n: number, b: { synced: number }) => n + b.synced, 0)).toBeGreaterThanOrEqual(1);
    expect(out.history.reduce((n: number, b: { errors: number }) => n + b.errors, 0)).toBeGreaterThanOrEqual(1);
    expect(out.breaker.state).toBe('closed');
    expect(ui.stdout).not.toContain(env.plex.token);
  });

  it('gives a failed scene its Plex item when an earlier sync recorded it', async () => {
    env = await startEnv({ scenes: 2 });
    await env.edit('1', { title: 'Synced once' });
    await env.waitFor(() => env!.plexItem('1').scalars.title === 'Synced once', 'the first sync');
    const fault = env.plex.setFault({ kind: 'status', status: 400, method: 'PUT' });
    await env.edit('1', { title: 'Then refused' });
    await env.edit('2', { title: 'Refused, never synced' });
    await env.waitFor(() => env!.status().counts?.dlq === 2, 'two DLQ entries');
    env.plex.clearFault(fault);
    const rk = env.plexItem('1').ratingKey;
    let entries: Record<string, any>[] = [];
    await env.waitFor(async () => {
      entries = ((await env!.operation({ mode: 'ui_status' })).output as any).failed[0].entries;
      return entries.some((e) => e.plexWebUrl);
    }, 'the Plex Web link of the failed scene');
    expect(entries.find((e) => e.sceneId === '1')).toMatchObject({ ratingKey: rk, plexWebUrl: expect.stringContaining(encodeURIComponent(`/library/metadata/${rk}`)) });
    expect(entries.find((e) => e.sceneId === '2')).toMatchObject({ ratingKey: null, plexWebUrl: null });
  });

  it('says the worker is not running, and what it last saw, without starting one', async () => {
    env = await startEnv({ scenes: 1, idleMs: 300 });
    await env.edit('1', { title: 'Once' });
    await env.waitFor(() => env!.plexItem('1').scalars.title === 'Once', 'the sync');
    await env.waitFor(() => env!.status().exiting === true, 'the worker to leave');
    await env.waitFor(async () => ((await env!.operation({ mode: 'ui_status' })).output as any).worker.state === 'not_running', 'not running');
    const scene = (await op({ mode: 'ui_scene', scene_id: '1' })).output as Record<string, unknown>;
    expect(scene).toMatchObject({ sceneId: '1', worker: 'not_running', state: 'unknown' });
    expect(env.workerPid()).toBeUndefined();
  });
});

describe('ui_scene and ui_action', () => {
  it('follow a scene from synced to failed, retried from the failed list, and a Sync now', async () => {
    env = await startEnv({ scenes: 2 });
    await env.edit('1', { title: 'First' });
    await env.waitFor(() => env!.plexItem('1').scalars.title === 'First', 'scene 1 in Plex');
    const rk = env.plexItem('1').ratingKey;
    await env.waitFor(async () => ((await env!.operation({ mode: 'ui_scene', scene_id: 1 })).output as any)?.plexWebUrl !== null, 'the Plex Web link');
    const synced = (await op({ mode: 'ui_scene', scene_id: 1 })).output as Record<string, any>;
    expect(synced).toMatchObject({ sceneId: '1', state: 'synced', ratingKey: rk });
    expect(synced.plexWebUrl).toBe(`${env.plex.url}/web/index.html#!/server/${env.plex.machineIdentifier}/details?key=${encodeURIComponent(`/library/metadata/${rk}`)}`);

    const fault = env.plex.setFault({ kind: 'status', status: 400, method: 'PUT' });
    await env.edit('2', { title: 'Second' });
    await env.waitFor(() => env!.status().counts?.dlq === 1, 'the DLQ entry');
    env.plex.clearFault(fault);
    expect((await op({ mode: 'ui_scene', scene_id: '2' })).output).toMatchObject({ state: 'failed', errorClass: 'bad_request' });

    const retried = await op({ mode: 'ui_action', action: 'retry', scene_id: '2' });
    expect(retried.output).toMatchObject({ action: 'retry', requeued: 1 });
    await env.waitFor(() => env!.plexItem('2').scalars.title === 'Second', 'scene 2 in Plex after the retry');

    env.stash.updateScene('1', { title: 'Changed in Stash only' });
    expect((await op({ mode: 'ui_action', action: 'sync_scene', scene_id: '1' })).output).toMatchObject({ action: 'sync_scene', queued: 1 });
    await env.waitFor(() => env!.plexItem('1').scalars.title === 'Changed in Stash only', 'Sync now to reach Plex');
  });

  it('remove drops one failed entry without retrying it; clear_dlq drops the rest', async () => {
    env = await startEnv({ scenes: 3 });
    const fault = env.plex.setFault({ kind: 'status', status: 400, method: 'PUT' });
    for (const id of ['1', '2', '3']) await env.edit(id, { title: `T${id}` });
    await env.waitFor(() => env!.status().counts?.dlq === 3, 'three DLQ entries');
    env.plex.clearFault(fault);
    expect((await op({ mode: 'ui_action', action: 'remove', scene_id: '3' })).output).toMatchObject({ removed: 1 });
    expect((await op({ mode: 'ui_action', action: 'retry_class', class: 'bad_request' })).output).toMatchObject({ requeued: 2 });
    await env.waitFor(() => env!.plexItem('2').scalars.title === 'T2', 'the class retried');
    expect(env.plexItem('3').scalars.title).not.toBe('T3');
    expect((await op({ mode: 'ui_action', action: 'clear_dlq' })).output).toMatchObject({ removed: 0 });
  });

  it('answers bad arguments with one line naming what is expected', async () => {
    env = await startEnv({ scenes: 1 });
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ mode: 'ui_scene' }, /ui_scene needs scene_id/],
      [{ mode: 'ui_scene', scene_id: '1; rm' }, /ui_scene needs scene_id/],
      [{ mode: 'ui_action', action: 'explode' }, /action, one of: retry, remove, retry_class/],
      [{ mode: 'ui_action', action: 'retry' }, /retry needs scene_id/],
      [{ mode: 'ui_action', action: 'retry_class', class: 'nonsense' }, /class, one of: network, timeout/],
    ];
    for (const [args, re] of cases) {
      const r = await op(args);
      expect(r.error).toMatch(re);
      expect(r.error).not.toContain('\n');
    }
  });
});

describe('health', () => {
  it('names a wrong token and never answers the token', async () => {
    env = await startEnv({ scenes: 1 });
    const good = (await op({ mode: 'health' })).output as Record<string, any>;
    expect(good).toMatchObject({ ok: true, problem: null, plex: { reachable: true, tokenValid: true, libraries: ['Videos'] } });
    const wrong = 'not-the-token-123';
    const bad = await op({ mode: 'health', plex_token: wrong });
    expect(bad.output).toMatchObject({ ok: false, plex: { reachable: true, tokenValid: false } });
    expect((bad.output as any).problem).toMatch(/token/i);
    expect(bad.stdout).not.toContain(wrong);
    expect(bad.stdout).not.toContain(env.plex.token);
    const deep = (await op({ mode: 'health', deep: true })).output as Record<string, any>;
    expect(deep).toMatchObject({ ok: true, paths: { sampled: 1, found: 1, examples: [] } });
  });
});
