import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PLEX_ROOT, startEnv, type Env } from './env';

let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const T0 = 1_700_000_000;
const iso = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');
/** Every task's log ends with one machine-readable JSON line. */
const lastJson = (run: { logs: { msg: string }[] }) => JSON.parse(run.logs.at(-1)!.msg) as Record<string, unknown>;
const plexWrites = (e: Env) => e.plex.requestLog.filter((r) => r.method === 'PUT' || r.method === 'POST').length;
const historyRequests = (e: Env) => e.plex.requestLog.filter((r) => ['/status/sessions/history/all', '/accounts', '/hubs/continueWatching/items'].includes(r.path)).length;

describe('plays from Plex, end to end (the built plugin run as Stash runs it)', () => {
  it('Import Plex Plays brings each Plex play into Stash once, saves the resume point, counts the unmatched, and writes nothing to Plex', async () => {
    env = await startEnv({ scenes: 4, settings: { sync_plays_from_plex: true } });
    const e = env;
    expect(lastJson(await e.task('sync_all'))).toMatchObject({ ok: true, queued: 4, remaining: 0 });
    const stranger = e.plex.addItem({ file: `${PLEX_ROOT}/not-in-stash.mp4` });
    e.plex.addPlay(e.plexItem('1').ratingKey, { viewedAt: T0 });
    e.plex.addPlay(e.plexItem('1').ratingKey, { viewedAt: T0 + 86_400 });
    e.plex.addPlay(e.plexItem('2').ratingKey, { viewedAt: T0 + 60 });
    e.plex.addPlay(stranger.ratingKey, { viewedAt: T0 + 120 });
    e.plex.setViewOffset(e.plexItem('3').ratingKey, 754_000);
    const writesBefore = plexWrites(e);

    const first = await e.task('import_plays');
    expect(first.error).toBeNull();
    expect(lastJson(first)).toMatchObject({ task: 'import_plays', ok: true, applied: 3, alreadyApplied: 0, unmatched: 1, resumePoints: 1 });
    expect(first.progress.at(-1)).toBe(1);
    expect(first.logs.map((l) => l.msg).join('\n')).toMatch(/3 applied, 0 already applied, 1 unmatched/);
    expect(first.logs.map((l) => l.msg).join('\n')).toContain(`Plex play 4 of item ${stranger.ratingKey} "not-in-stash" is not an item PlexCourier synced; not imported`);
    expect(e.scene('1').play_history).toEqual([iso(T0), iso(T0 + 86_400)]);
    expect(e.scene('2').play_history).toEqual([iso(T0 + 60)]);
    expect(e.scene('3').resume_time).toBe(754);

    const second = await e.task('import_plays');
    expect(lastJson(second)).toMatchObject({ ok: true, applied: 0, alreadyApplied: 3, unmatched: 1, resumePoints: 0 });
    expect(e.scene('1').play_history).toHaveLength(2);
    expect(e.stash.requestLog.filter((r) => r.operationName === 'PlexCourierAddPlay')).toHaveLength(3);

    // Status, the Status task and `status --json` show the last import and its counts.
    expect(e.status().plays).toMatchObject({ enabled: true, last: { kind: 'backfill', applied: 0, alreadyApplied: 3, unmatched: 1 } });
    const status = await e.task('status');
    expect(status.logs.map((l) => l.msg).join('\n')).toMatch(/Plays from Plex: last import .*0 applied, 3 already applied, 1 unmatched/);
    expect(lastJson(status)).toMatchObject({ lastPlaysImport: { applied: 0, alreadyApplied: 3 } });
    const cli = spawnSync(process.execPath, [path.join(e.pluginDir, 'plexcourier.cjs'), 'status', '--json'], { env: { ...e.processEnv, PLEXCOURIER_DATA_DIR: e.dataDir }, encoding: 'utf8' });
    expect(JSON.parse(cli.stdout).plays.last).toMatchObject({ applied: 0, alreadyApplied: 3, unmatched: 1 });

    // No loop: plays and resume points in Stash fire no hook, and nothing was written to Plex.
    expect(plexWrites(e)).toBe(writesBefore);
    expect(e.stash.violations).toEqual([]);
    e.plex.assertManners();
  });

  it('a hook for a play-only change is ignored, and even a field-less update of a played scene writes nothing to Plex', async () => {
    env = await startEnv({ scenes: 2, settings: { sync_plays_from_plex: true } });
    const e = env;
    await e.task('sync_all');
    e.plex.addPlay(e.plexItem('1').ratingKey, { viewedAt: T0 });
    await e.task('import_plays');
    expect(e.scene('1').play_history).toHaveLength(1);
    const writes = plexWrites(e);
    const done = e.status().counts?.done ?? 0;
    // What a Stash that did fire Scene.Update.Post for activity would send: only play fields...
    await e.hook({ type: 'Scene.Update.Post', id: 1, input: { id: '1', play_count: 1, resume_time: 0 }, inputFields: ['id', 'play_count', 'resume_time'] });
    // ...or no input at all (as for a scan), which queues the scene: its sync finds nothing changed.
    await e.hook({ type: 'Scene.Update.Post', id: 1, input: null });
    await e.waitFor(() => (e.status().counts?.done ?? 0) === done + 1 && e.status().counts?.ready === 0 && e.status().counts?.active === 0, 'the one queued sync to finish');
    expect(plexWrites(e)).toBe(writes);
  });

  it('with sync_plays_from_plex off, no Plex history request is ever made and the task says how to turn it on', async () => {
    env = await startEnv({ scenes: 2 });
    const e = env;
    e.plex.addPlay(e.plexItem('1').ratingKey, { viewedAt: T0 });
    await e.task('sync_all');
    await e.edit('2', { title: 'Edited' });
    await e.waitFor(() => e.plexItem('2').scalars.title === 'Edited', 'the edit to reach Plex');
    const run = await e.task('import_plays');
    expect(run.error).toMatch(/sync_plays_from_plex\) is off: turn it on in Settings > Plugins > PlexCourier/);
    expect(historyRequests(e)).toBe(0);
    expect(e.scene('1').play_history).toEqual([]);
    expect(e.status().plays).toMatchObject({ enabled: false, last: null });
  });

  it('a starting worker picks up plays made while no worker ran, from its watermark', async () => {
    env = await startEnv({ scenes: 3, settings: { sync_plays_from_plex: true }, idleMs: 1_500 });
    const e = env;
    await e.task('sync_all');
    await e.waitFor(() => e.status().plays?.last?.kind === 'check', 'the start-up check');
    await e.waitFor(() => e.workerPid() === undefined, 'the worker to leave idle', 20_000);

    const now = Math.floor(Date.now() / 1000);
    e.plex.addPlay(e.plexItem('2').ratingKey, { viewedAt: now });
    e.plex.addPlay(e.plexItem('3').ratingKey, { viewedAt: now + 1 });
    expect(e.scene('2').play_history).toEqual([]);
    await e.edit('1', { title: 'Wakes the worker' });
    await e.waitFor(() => e.scene('2').play_history?.length === 1 && e.scene('3').play_history?.length === 1, 'the plays to reach Stash');
    await e.waitFor(() => e.status().plays?.last?.applied === 2, 'the check to report them');
    expect(e.scene('2').play_history).toEqual([iso(now)]);
  });
});
