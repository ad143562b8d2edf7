import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeScene, PLEX_ROOT, sceneFile, startEnv, type Env } from './env';

let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const plexWrites = (e: Env) => e.plex.requestLog.filter((r) => r.method === 'PUT' || r.method === 'POST');

describe('syncing scenes', () => {
  it('a bulk edit of 200 scenes reaches every Plex item', async () => {
    env = await startEnv({ scenes: 200 });
    const ids = Array.from({ length: 200 }, (_, i) => i + 1);
    for (const id of ids) env.stash.updateScene(String(id), { tags: [{ id: '9', name: 'Bulk Tag' }] });
    const results = await env.bulkHook({
      type: 'Scene.Update.Post',
      ids,
      input: { ids: ids.map(String), tag_ids: { ids: ['9'], mode: 'SET' } },
      inputFields: ['ids', 'tag_ids'],
    });
    expect(results.every((r) => r.error === null)).toBe(true);
    await env.waitFor(
      () => ids.every((id) => env!.plexItem(String(id)).tags.Genre.map((t) => t.tag).join() === 'Bulk Tag'),
      'all 200 items to show the bulk tag',
      90_000,
    );
    expect(env.stash.violations).toEqual([]);
    env.plex.assertManners({ maxInFlight: 2 });
  });

  it('50 hooks at once plus scan-style create hooks lose nothing', async () => {
    env = await startEnv({ scenes: 60 });
    const updates = Array.from({ length: 50 }, (_, i) => String(i + 1));
    for (const id of updates) env.stash.updateScene(id, { title: `Edited ${id}` });
    for (const id of ['51', '52', '53', '54', '55', '56', '57', '58', '59', '60']) env.stash.updateScene(id, { title: `Created ${id}` });
    const runs = await Promise.all([
      ...updates.map((id) => env!.hook({ type: 'Scene.Update.Post', id: Number(id), input: { id, title: null }, inputFields: ['id', 'title'] })),
      ...['51', '52', '53', '54', '55', '56', '57', '58', '59', '60'].map((id) => env!.hook({ type: 'Scene.Create.Post', id: Number(id), input: null })),
    ]);
    expect(runs.filter((r) => r.error !== null)).toEqual([]);
    await env.waitFor(
      () => updates.every((id) => env!.plexItem(id).scalars.title === `Edited ${id}`) &&
        ['51', '52', '53', '54', '55', '56', '57', '58', '59', '60'].every((id) => env!.plexItem(id).scalars.title === `Created ${id}`),
      'all 60 scenes to reach Plex',
      90_000,
    );
  });

  it('a tag and a performer removed in Stash are removed in Plex', async () => {
    env = await startEnv({
      scenes: [makeScene('1', { performers: [{ id: '1', name: 'Ann' }, { id: '2', name: 'Bea' }], tags: [{ id: '1', name: 'Keep' }, { id: '2', name: 'Drop Me' }] })],
    });
    await env.edit('1', { title: 'First' });
    await env.waitFor(() => env!.plexItem('1').tags.Genre.length === 2 && env!.plexItem('1').tags.Role.length === 2, 'both tags and performers in Plex');
    await env.edit('1', { performers: [{ id: '1', name: 'Ann' }], tags: [{ id: '1', name: 'Keep' }] });
    await env.waitFor(
      () => env!.plexItem('1').tags.Genre.map((t) => t.tag).join() === 'Keep' && env!.plexItem('1').tags.Role.map((t) => t.tag).join() === 'Ann',
      'the removed tag and performer to leave Plex',
    );
  });

  it('a second sync of an unchanged scene sends no Plex write and no upload', async () => {
    env = await startEnv({ scenes: 1 });
    await env.edit('1', { title: 'Once' });
    await env.waitFor(() => env!.plexItem('1').scalars.title === 'Once', 'the first sync');
    await env.waitFor(() => env!.status().counts?.done >= 1, 'the job to be recorded done');
    const writesBefore = plexWrites(env).length;
    const requestsBefore = env.plex.requestLog.length;
    await env.hook({ type: 'Scene.Update.Post', id: 1, input: { id: '1', title: null }, inputFields: ['id', 'title'] });
    await env.waitFor(() => env!.status().counts?.done >= 2, 'the second job to finish');
    expect(plexWrites(env).length).toBe(writesBefore);
    expect(env.plex.requestLog.length).toBe(requestsBefore);
  });

  it('a destroyed scene has its queued work dropped', async () => {
    // Plex does not know the file, so the job would wait on the not-found schedule; the destroy must remove it.
    env = await startEnv({ scenes: 1, plexItems: false });
    await env.edit('1', { title: 'Doomed' });
    await env.waitFor(() => (env!.status().counts?.delayed ?? 0) === 1, 'the scene to wait for Plex');
    env.stash.removeScene('1');
    await env.hook({ type: 'Scene.Destroy.Post', id: 1, input: { id: '1', delete_file: false, delete_generated: true, checksum: null, oshash: 'x', path: sceneFile('1') } });
    await env.waitFor(() => {
      const c = env!.status().counts;
      return c && c.delayed === 0 && c.ready === 0 && c.active === 0 && c.dlq === 0;
    }, 'the queued job to be dropped');
  });
});

describe('matching files to Plex items', () => {
  it('matches through path_map, by a unique basename without it, and dead-letters a file with two candidates naming both', async () => {
    env = await startEnv({
      scenes: [
        makeScene('1'),
        makeScene('2', { files: [{ path: '/elsewhere/unique-name.mp4', size: 42 }] }),
        makeScene('3', { files: [{ path: '/elsewhere/twice.mp4', size: 7 }] }),
      ],
      plexItems: false,
    });
    const viaMap = env.plex.addItem({ file: `${PLEX_ROOT}/scene-1.mp4`, size: 1001 });
    const viaName = env.plex.addItem({ file: `${PLEX_ROOT}/sub/unique-name.mp4`, size: 42 });
    env.plex.addItem({ file: `${PLEX_ROOT}/a/twice.mp4`, size: 7 });
    env.plex.addItem({ file: `${PLEX_ROOT}/b/twice.mp4`, size: 7 });
    for (const id of ['1', '2', '3']) await env.edit(id, { title: `Matched ${id}` });
    await env.waitFor(() => env!.plex.item(viaMap.ratingKey).scalars.title === 'Matched 1', 'the path_map match');
    await env.waitFor(() => env!.plex.item(viaName.ratingKey).scalars.title === 'Matched 2', 'the basename match');
    await env.waitFor(() => (env!.status().counts?.dlq ?? 0) === 1, 'the ambiguous scene in the DLQ');
    const entry = env.status().dlqExamples[0];
    expect(entry.sceneId).toBe('3');
    expect(JSON.stringify(entry)).toContain(`${PLEX_ROOT}/a/twice.mp4`);
    expect(JSON.stringify(entry)).toContain(`${PLEX_ROOT}/b/twice.mp4`);
  });
});

describe('two scenes on one Plex item', () => {
  it('is reported in the log and in status, naming both scenes', async () => {
    env = await startEnv({
      scenes: [makeScene('1', { files: [{ path: '/data/videos/a/dup.mp4', size: 5 }] }), makeScene('2', { files: [{ path: '/other/dup.mp4', size: 5 }] })],
      plexItems: false,
    });
    env.plex.addItem({ file: `${PLEX_ROOT}/a/dup.mp4`, size: 5 });
    await env.edit('1', { title: 'One' });
    await env.waitFor(() => (env!.status().counts?.done ?? 0) === 1, 'scene 1 synced');
    await env.edit('2', { title: 'Two' });
    await env.waitFor(() => (env!.status().lastErrors ?? []).some((e: { class: string }) => e.class === 'shared_item'), 'the conflict in status');
    const e = env.status().lastErrors.find((x: { class: string }) => x.class === 'shared_item');
    expect(e.message).toMatch(/scenes 1 and 2 both match Plex item/);
  });
});

describe('hook input the worker cannot use', () => {
  it('an invalid event spooled by the sh launcher ends in inbox/bad with a reason and never reaches the queue', async () => {
    env = await startEnv({ scenes: 1 });
    const { spawnSync } = await import('node:child_process');
    const run = spawnSync('sh', [path.join(env.pluginDir, 'plexcourier.sh'), 'hook'], { input: '{"server_connection": nope', env: env.processEnv, encoding: 'utf8' });
    expect(JSON.parse(run.stdout)).toHaveProperty('output');
    // Not a whole JSON object: to the worker it looks like a file still being written, so it waits out the
    // grace time (60 s after the last write) before moving it; age the file instead of waiting.
    const newDir = path.join(env.dataDir, 'inbox', 'new');
    await env.waitFor(() => !!env!.status().counts, 'the worker to have looked at the inbox');
    const [name] = fs.readdirSync(newDir);
    const old = (Date.now() - 61_000) / 1000;
    fs.utimesSync(path.join(newDir, name!), old, old);
    const bad = path.join(env.dataDir, 'inbox', 'bad');
    await env.waitFor(() => fs.existsSync(bad) && fs.readdirSync(bad).some((n) => n.endsWith('.reason')), 'the event to be moved to bad/');
    const reason = fs.readFileSync(path.join(bad, fs.readdirSync(bad).find((n) => n.endsWith('.reason'))!), 'utf8');
    expect(reason).toMatch(/not a whole JSON object/);
    await env.waitFor(() => !!env!.status().counts, 'the status file');
    const c = env.status().counts;
    expect(c.ready + c.delayed + c.active + c.done + c.dlq).toBe(0);
  });
});
