/**
 * `npm run demo`: PlexCourier end to end in under a minute, with nothing but what `npm ci` installed.
 * It builds the plugin if needed, installs dist/ into a temporary Stash plugins folder, starts the
 * fake Stash and the fake Plex of the test suite, and drives the plugin exactly the way Stash does
 * (test/stash-host): a scene edit, a bulk edit, a Plex outage and its recovery, and a Process DLQ.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import setup from '../test/global-setup';
import { startFakePlex, type FakeItem, type FakePlex } from '../test/fake-plex/server';
import { startFakeStash, type FakeSceneInput } from '../test/fake-stash/server';
import { loadManifest, runBulkHooks, runHook, runTask, type HookCall } from '../test/stash-host/host';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STASH_ROOT = '/data/videos';
const PLEX_ROOT = '/media/videos';
const started = Date.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function say(text: string): void {
  const secs = ((Date.now() - started) / 1000).toFixed(1).padStart(5);
  process.stdout.write(`[${secs}s] ${text}\n`);
}

function table(items: FakeItem[]): string {
  const rows = items.map((i) => [
    i.ratingKey,
    String(i.scalars.title ?? ''),
    String(i.scalars.studio ?? ''),
    i.tags.Role.map((t) => t.tag).join(', '),
    i.tags.Genre.map((t) => t.tag).join(', '),
    i.userRating === undefined ? '' : String(i.userRating),
    i.posters.some((p) => p.selected && p.ratingKey.startsWith('upload://')) ? 'yes' : '',
  ]);
  const head = ['item', 'title', 'studio', 'actors', 'genres', 'rating', 'poster'];
  const widths = head.map((h, c) => Math.min(34, Math.max(h.length, ...rows.map((r) => r[c]!.length))));
  const line = (cells: string[]) => cells.map((v, c) => (v.length > widths[c]! ? `${v.slice(0, widths[c]! - 1)}…` : v.padEnd(widths[c]!))).join('  ');
  return ['  ' + line(head), '  ' + widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map((r) => '  ' + line(r))].join('\n');
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`the demo timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function main(): Promise<void> {
  say('building dist/ if it is out of date');
  setup();

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'plexcourier-demo-'));
  const pluginDir = path.join(tmp, 'plugins', 'plexcourier');
  fs.cpSync(path.join(repo, 'dist'), pluginDir, { recursive: true });
  const yml = path.join(pluginDir, 'plexcourier.yml');
  const dataDir = path.join(pluginDir, 'data');
  const manifest = loadManifest(yml);
  say(`installed the plugin "${manifest.name}" into ${pluginDir}`);

  const plex: FakePlex = await startFakePlex({ sections: [{ title: 'Videos', type: 'movie', locations: [PLEX_ROOT] }] });
  const scenes: FakeSceneInput[] = [1, 2, 3, 4, 5].map((n) => ({
    id: String(n),
    title: `Scene ${n}`,
    details: `What happens in scene ${n}.`,
    date: `2024-0${n}-1${n}`,
    rating100: 60 + n * 5,
    studio: { id: '1', name: 'Demo Studio' },
    performers: [{ id: String(n), name: `Performer ${n}` }],
    tags: [{ id: '1', name: 'Demo' }],
    files: [{ path: `${STASH_ROOT}/clip-${n}.mp4`, size: 1_000_000 + n }],
  }));
  const items = plex.addItems(scenes.map((s) => ({ file: s.files![0]!.path.replace(STASH_ROOT, PLEX_ROOT), size: s.files![0]!.size, title: `clip-${s.id}` })));
  const stash = await startFakeStash({
    scenes,
    settings: { plex_url: plex.url, plex_token: plex.token, path_map: `${STASH_ROOT}=>${PLEX_ROOT}`, sync_plays_from_plex: true },
  });
  const env: NodeJS.ProcessEnv = { ...process.env, PLEXCOURIER_IDLE_MS: '60000' };
  delete env.PLEXCOURIER_DATA_DIR;
  const host = { env, cwd: tmp, killAfterMs: 60_000 };
  const taskName = (mode: string) => manifest.tasks.find((t) => t.defaultArgs?.mode === mode)!.name;
  const task = async (mode: string) => {
    const r = await runTask(yml, taskName(mode), {}, stash.connection, host);
    return r;
  };
  const hook = async (call: HookCall) => {
    const r = await runHook(yml, call, stash.connection, host);
    if (r.error) throw new Error(`hook failed: ${r.error}`);
    return r;
  };
  const item = (n: number) => plex.item(items[n - 1]!.ratingKey);
  say(`fake Stash at ${stash.url} with 5 scenes; fake Plex at ${plex.url}; path_map ${STASH_ROOT}=>${PLEX_ROOT}`);
  console.log('\nPlex before:');
  console.log(table(items.map((i) => plex.item(i.ratingKey))));
  console.log('');

  try {
    // 1. One edit in Stash.
    stash.updateScene('1', { title: 'A Better Title', tags: [{ id: '1', name: 'Demo' }, { id: '2', name: 'Edited' }] });
    const edit = await hook({ type: 'Scene.Update.Post', id: 1, input: { id: '1', title: null, tag_ids: null }, inputFields: ['id', 'title', 'tag_ids'] });
    say(`edited scene 1: the hook returned in ${Math.round(edit.wallMs)} ms (${JSON.stringify(edit.output)})`);
    await waitFor(() => item(1).scalars.title === 'A Better Title', 'scene 1 in Plex');
    say('Plex item 1 shows the new title and tags');

    // 2. A bulk edit of every scene (Stash runs one hook per scene, one after another).
    for (const s of scenes) stash.updateScene(s.id, { tags: [...(stash.getScene(s.id)!.tags ?? []), { id: '3', name: 'Bulk' }] });
    const ids = scenes.map((s) => Number(s.id));
    const bulk = await runBulkHooks(yml, { type: 'Scene.Update.Post', ids, input: { ids: ids.map(String), tag_ids: { ids: ['3'], mode: 'ADD' } }, inputFields: ['ids', 'tag_ids'] }, stash.connection, host);
    say(`bulk edit of 5 scenes: 5 hooks took ${Math.round(bulk.reduce((a, r) => a + r.wallMs, 0))} ms in all`);
    await waitFor(() => ids.every((n) => item(n).tags.Genre.some((t) => t.tag === 'Bulk')), 'the bulk tag in Plex');
    await waitFor(() => {
      const c = readStatus(dataDir).counts;
      return !!c && c.ready + c.delayed + c.active === 0;
    }, 'the bulk edit to finish');
    say('every Plex item has the "Bulk" genre');

    // 3. Plex goes down while a scene is edited; the change waits, then lands.
    await plex.down();
    stash.updateScene('2', { title: 'Edited During The Outage' });
    await hook({ type: 'Scene.Update.Post', id: 2, input: { id: '2', title: null }, inputFields: ['id', 'title'] });
    say('Plex is down; scene 2 was edited anyway (the hook does not wait for Plex)');
    await waitFor(() => readStatus(dataDir).lastErrors?.some((e: { sceneId: string }) => e.sceneId === '2') ?? false, 'the failed attempt');
    say(`the worker could not reach Plex: "${readStatus(dataDir).lastErrors[0].message}"; the job waits to retry, nothing is lost`);
    await plex.up();
    say('Plex is back; running the "Process Queue" task');
    const pq = await task('process_queue');
    await waitFor(() => item(2).scalars.title === 'Edited During The Outage', 'scene 2 after the outage');
    say(`Process Queue: ${summary(pq.output)}; Plex item 2 shows the edit made during the outage`);

    // 4. Plex refuses an edit (HTTP 400): the job goes to the DLQ; once fixed, Process DLQ brings it back.
    const fault = plex.setFault({ kind: 'status', status: 400, method: 'PUT' });
    stash.updateScene('3', { title: 'Rejected At First' });
    await hook({ type: 'Scene.Update.Post', id: 3, input: { id: '3', title: null }, inputFields: ['id', 'title'] });
    await waitFor(() => (readStatus(dataDir).counts?.dlq ?? 0) === 1, 'the DLQ entry');
    say(`Plex answered 400 to scene 3's edit: moved to the DLQ (${JSON.stringify(readStatus(dataDir).dlqByClass)})`);
    plex.clearFault(fault);
    const dlq = await task('process_dlq');
    say(`Process DLQ: ${summary(dlq.output)}`);
    await waitFor(() => item(3).scalars.title === 'Rejected At First', 'scene 3 after Process DLQ');

    // 5. Plays from Plex: watched there, counted in Stash once, with where you stopped.
    plex.addPlay(item(1).ratingKey, { viewedAt: Math.floor(Date.now() / 1000) - 86_400 });
    plex.addPlay(item(1).ratingKey, { viewedAt: Math.floor(Date.now() / 1000) - 3_600 });
    plex.addPlay(item(2).ratingKey, { viewedAt: Math.floor(Date.now() / 1000) - 7_200 });
    plex.setViewOffset(item(4).ratingKey, 125_000);
    const imported = await task('import_plays');
    say(`Import Plex Plays: ${summary(imported.output)}`);
    const again = await task('import_plays');
    say(`run again: ${summary(again.output)}`);
    say(`Stash now: scene 1 played ${stash.getScene('1')!.play_count}×, scene 2 ${stash.getScene('2')!.play_count}×, scene 4 resumes at ${stash.getScene('4')!.resume_time} s`);

    console.log('\nPlex after:');
    console.log(table(items.map((i) => plex.item(i.ratingKey))));
    const status = await task('status');
    console.log('\nQueue status (the "Status" task, as it appears in Stash\'s log):');
    for (const l of status.logs) console.log(`  ${l.level.padEnd(7)} ${l.msg}`);
    if (stash.violations.length) throw new Error(`the plugin sent a query Stash's schema rejects: ${stash.violations[0]!.errors[0]}`);
    plex.assertManners({ maxInFlight: 2 });
    say('every GraphQL query validated against Stash\'s schema; the fake Plex saw no bad manners (token never in a URL, edits locked)');
    say(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await stopWorker(dataDir);
    await stash.close();
    await plex.close();
    fs.rmSync(tmp, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}

function readStatus(dataDir: string): any {
  try {
    return JSON.parse(fs.readFileSync(path.join(dataDir, 'status.json'), 'utf8'));
  } catch {
    return {};
  }
}

function summary(output: unknown): string {
  const o = output as { summary?: string } | null;
  return o?.summary ?? JSON.stringify(output);
}

/** SIGTERM, as a service manager would: the worker finishes its round, closes the store and exits. */
async function stopWorker(dataDir: string): Promise<void> {
  let pid = 0;
  try {
    pid = Number(fs.readFileSync(path.join(dataDir, 'worker.pid'), 'utf8').split(' ')[0]);
    process.kill(pid, 'SIGTERM');
  } catch {
    return; // no worker running
  }
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(100);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`demo failed: ${(err as Error).message}`);
    process.exit(1);
  },
);
