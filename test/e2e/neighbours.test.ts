import { afterEach, describe, expect, it } from 'vitest';
import { PLEX_POSTERS, PLEX_REPORT, PLEX_SYNC, STASH2PLEX, TAGGER } from '../stash-host/neighbours';
import { startEnv, type Env } from './env';

/** PlexCourier in a Stash that has other plugins installed beside it (issue: two Plex plugins in one Stash). */
let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const lastJson = (run: { logs: { msg: string }[] }) => JSON.parse(run.logs.at(-1)!.msg) as Record<string, unknown>;

describe('beside the community "Plex Sync" (id PlexSync, installed under community/PlexSync/)', () => {
  it('loads, takes its hooks and tasks, and the Health Check warns in words that two plugins write to Plex', async () => {
    env = await startEnv({ scenes: 2, neighbours: [PLEX_SYNC] });
    expect(env.plugins.log).toEqual([]);
    expect(env.plugins.plugins.map((p) => p.id)).toEqual(['PlexSync', 'plexcourier']);

    await env.edit('1', { title: 'Beside Plex Sync' });
    await env.waitFor(() => env!.plexItem('1').scalars.title === 'Beside Plex Sync', 'the edit to reach Plex');

    const run = await env.task('health');
    expect(run.error).toBeNull();
    const warnings = run.logs.filter((l) => l.level === 'warning').map((l) => l.msg);
    expect(warnings).toContainEqual(expect.stringMatching(/"Plex Sync" \(PlexSync\)\. Two writers fight over the same Plex items/));
    expect(lastJson(run)).toMatchObject({ task: 'health', ok: true, otherWriters: ['PlexSync'] });
    expect(env.stash.violations).toEqual([]);
    expect(env.stash.requestLog.some((r) => r.operationName === 'PlexCourierPlugins')).toBe(true);
  });

  it('says nothing of it once it is disabled in Settings > Plugins', async () => {
    env = await startEnv({ scenes: 1, neighbours: [PLEX_SYNC], disabledPlugins: ['PlexSync'] });
    const run = await env.task('health');
    expect(run.logs.filter((l) => l.level === 'warning')).toEqual([]);
    expect(run.logs.map((l) => l.msg)).toContain('Stash plugins: no other enabled plugin writes to Plex on scene updates');
    expect(lastJson(run)).toMatchObject({ otherWriters: [] });
  });
});

it('the Health Check names Stash2Plex and any Plex-named plugin hooked on scene updates, and no other', async () => {
  env = await startEnv({ scenes: 1, neighbours: [STASH2PLEX, PLEX_POSTERS, TAGGER, PLEX_REPORT] });
  expect(env.plugins.plugins).toHaveLength(5);
  const run = await env.task('health');
  const warning = run.logs.find((l) => l.level === 'warning' && /writes? to Plex when a scene is saved/.test(l.msg))?.msg;
  expect(warning).toMatch(/^Other enabled plugins also write to Plex when a scene is saved: "Stash2Plex" \(Stash2Plex\), "Plex Poster Pusher" \(plex-posters\)\./);
  expect(warning).not.toMatch(/Tagger|Report/);
  expect(lastJson(run)).toMatchObject({ otherWriters: ['Stash2Plex', 'plex-posters'] });
});
