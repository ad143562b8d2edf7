import { afterEach, describe, expect, it } from 'vitest';
import { readLog, startEnv, type Env } from './env';

let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const titles = (e: Env, ids: string[]) => ids.every((id) => e.plexItem(id).scalars.title === `Title ${id}`);

describe('when Plex is down', () => {
  it('opens the breaker within its threshold, then probes at most once per window, dead-letters nothing and syncs everything after', async () => {
    env = await startEnv({ scenes: 30 });
    const ids = Array.from({ length: 30 }, (_, i) => String(i + 1));
    // A first scene syncs while Plex is up.
    await env.edit('1', { title: 'Title 1' });
    await env.waitFor(() => titles(env!, ['1']), 'the first scene');

    // Down for a minute: 30 s refusing connections, then 30 s answering 503 (a PMS migrating its database).
    await env.plex.down();
    for (const id of ids.slice(1)) await env.edit(id, { title: `Title ${id}` });
    await env.waitFor(() => env!.status().breaker?.state === 'open', 'the breaker to open', 20_000);
    await sleep(30_000);
    env.plex.clearLog();
    await env.plex.up();
    const fault = env.plex.setFault({ kind: 'status', status: 503 });
    await sleep(30_000);
    const during = [...env.plex.requestLog];
    env.plex.clearFault(fault);

    await env.waitFor(() => titles(env!, ids), 'every scene to reach Plex after the outage', 150_000);
    // Thirty seconds of 503s with the breaker open: at most one probe job (a probe is at most 3 requests) per half-open window.
    expect(during.length).toBeLessThanOrEqual(6);
    // status.json is rewritten at most once a second.
    await env.waitFor(() => env!.status().breaker?.state === 'closed', 'the breaker to close in status', 5_000);
    const s = env.status();
    expect(s.counts.dlq).toBe(0);
    expect(s.breaker.outages.length).toBeGreaterThanOrEqual(1);
  }, 300_000);
});

describe('when Plex rejects the token', () => {
  it('pauses the queue with the reason in status, grows no DLQ, and resumes once the token is fixed', async () => {
    env = await startEnv({ scenes: 5, settings: { plex_token: 'revoked-token' } });
    const ids = ['1', '2', '3', '4', '5'];
    for (const id of ids) await env.edit(id, { title: `Title ${id}` });
    await env.waitFor(() => !!env!.status().paused, 'the queue to pause');
    expect(env.status().paused.reason).toMatch(/token/i);
    await sleep(3_000);
    expect(env.status().counts.dlq).toBe(0);
    const before = env.plex.requestLog.length;
    await sleep(3_000);
    expect(env.plex.requestLog.length).toBe(before);

    env.stash.setSettings({ plex_url: env.plex.url, plex_token: env.plex.token, path_map: '/data/videos=>/media/videos' });
    await env.waitFor(() => titles(env!, ids), 'the paused scenes to sync once the token works', 60_000);
    await env.waitFor(() => env!.status().paused === null, 'the pause to be lifted in status');
    expect(env.status().counts.dlq).toBe(0);
    expect(JSON.stringify(env.status())).not.toContain(env.plex.token);
  }, 120_000);
});

describe('when Stash is gone', () => {
  it('a worker with queued work exits once Stash has not answered for the idle time, keeping the work, and the next task finishes it', async () => {
    env = await startEnv({ scenes: 3, idleMs: 3_000 });
    await env.edit('1', { title: 'Title 1' });
    await env.waitFor(() => titles(env!, ['1']), 'the first scene');

    // Stash stops answering (a proxy in front of it says 502); the emulator still runs the hooks.
    env.stash.failWith(502);
    await env.edit('2', { title: 'Title 2' });
    await env.edit('3', { title: 'Title 3' });
    await env.waitFor(() => env!.workerPid() === undefined, 'the worker to exit', 60_000);
    expect(readLog(env.dataDir)).toMatch(/Stash has not answered since \S+; the worker exits and the queued work waits/);
    const s = env.status();
    expect(s.counts.ready + s.counts.delayed).toBe(2);
    expect(s.counts.dlq).toBe(0);

    env.stash.failWith(undefined);
    await env.task('process_queue');
    await env.waitFor(() => titles(env!, ['2', '3']), 'the queued scenes once Stash is back');
  }, 120_000);
});

describe('when Stash stops answering', () => {
  it('the queue waits with no attempt spent, one probe at a time, the status says since when, and Process Queue resumes it at once', async () => {
    env = await startEnv({ scenes: 30, idleMs: 120_000 });
    await env.edit('1', { title: 'Title 1' });
    await env.waitFor(() => titles(env!, ['1']), 'the first scene');

    env.stash.failWith(502);
    const ids = Array.from({ length: 29 }, (_, i) => String(i + 2));
    for (const id of ids) await env.edit(id, { title: `Title ${id}` });
    await env.waitFor(() => !!env!.status().stash, 'the status to show Stash unreachable');
    const outage = env.status().stash;
    expect(outage.message).toMatch(/502/);
    // The hooks keep coming and Stash keeps failing: reads of scenes stay one probe at a time, not one per job.
    const reads = () => env!.stash.requestLog.filter((r) => r.operationName === 'PlexCourierFindScenesByIds').length;
    const before = reads();
    await sleep(8_000);
    expect(reads() - before).toBeLessThanOrEqual(2);
    const s = env.status();
    expect(s.counts.dlq).toBe(0);
    // Hook events wait out their 2 s settle time in the delayed index; none were taken and failed.
    expect(s.counts.ready + s.counts.delayed + s.counts.active).toBe(29);

    env.stash.failWith(undefined);
    await env.task('process_queue');
    await env.waitFor(() => titles(env!, ids), 'every scene once Stash answers');
    await env.waitFor(() => env!.status().stash === null, 'the status to clear');
  }, 120_000);
});

describe('Process DLQ', () => {
  it('re-queues dead-lettered scenes and syncs them once Plex is fixed', async () => {
    env = await startEnv({ scenes: 3 });
    const bad = env.plexItem('2').ratingKey;
    const fault = env.plex.setFault({ kind: 'status', status: 400, method: 'PUT' });
    for (const id of ['1', '2', '3']) await env.edit(id, { title: `Title ${id}` });
    await env.waitFor(() => env!.status().counts?.dlq === 3, 'the scenes to be dead-lettered');
    env.plex.clearFault(fault);
    expect(bad).toBeTruthy();

    const run = await env.task('process_dlq');
    expect(run.error).toBeNull();
    expect(run.output).toMatchObject({ requeued: 3 });
    expect(titles(env, ['1', '2', '3'])).toBe(true);
    expect(env.status().counts.dlq).toBe(0);
    const last = run.logs.at(-1)!;
    expect(JSON.parse(last.msg)).toMatchObject({ task: 'process_dlq', ok: true, requeued: 3 });
  }, 120_000);
});
