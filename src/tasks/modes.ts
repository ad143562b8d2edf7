import { clientOptionsFromConnection, StashClient } from '../stash/graphql';
import { loadSettings } from '../stash/settings';
import { dataPaths } from '../paths';
import { PlexService } from '../plex/service';
import { plexServiceOptions } from '../worker/config';
import { followQueue, progressReporter, sendCommand, SettledCounter, settledTotal, type FollowOutcome, type SettledScenes, type TaskEnv } from './link';
import { describePlexWriters, otherPlexWriters } from './plex-writers';
import { readStatusSnapshot, readWorkerStatus } from './status';
import { PRIORITY } from '../queue/types';
import { importPlaysTask, playsCounts } from '../plays/task';

/** What a task hands back: a short human summary, and the machine-readable line its log ends with. */
export interface TaskOutcome {
  summary: string;
  data: Record<string, unknown>;
  error?: string;
}

export type TaskMode = (env: TaskEnv, args: Record<string, unknown>) => Promise<TaskOutcome>;

/** Scene ids go to the worker in commands of this many. */
const ENQUEUE_CHUNK = 5_000;
const ID_PAGE = 1_000;
/** The share of a sync task's progress bar that paging Stash and queueing takes; the scenes settled fill the rest. */
const QUEUE_SHARE = 0.1;

function stashClient(env: TaskEnv, apiKey?: string): StashClient {
  return new StashClient(clientOptionsFromConnection(env.connection, apiKey));
}

async function settingsFor(env: TaskEnv) {
  return loadSettings(env.savedSettings ?? (await stashClient(env).fetchPluginSettings()));
}

function describeFollow(f: FollowOutcome): string {
  const parts = [`${f.remaining <= 0 ? 'queue drained' : `${f.remaining} still queued`}`];
  if (f.delayed > 0) parts.push(`${f.delayed} waiting to retry`);
  if (f.dlq > 0) parts.push(`${f.dlq} in the DLQ`);
  if (f.stoppedBecause) parts.push(`stopped following: ${f.stoppedBecause}`);
  return parts.join('; ');
}

const processQueue: TaskMode = async (env) => {
  await sendCommand(env, { name: 'process_queue' });
  const f = await followQueue(env);
  return { summary: describeFollow(f), data: { ...f } };
};

/** What the worker did with the scenes a task queued, in words: "211 checked: 200 unchanged since their last sync, 11 sent to Plex". */
function describeSettled(s: SettledScenes, queued: number): string {
  const checked = settledTotal(s);
  const parts = [`${s.unchanged} unchanged since their last sync`, `${s.synced} sent to Plex`];
  if (s.failed > 0) parts.push(`${s.failed} failed`);
  if (s.dropped > 0) parts.push(`${s.dropped} no longer in Stash`);
  return `${Math.min(checked, queued)}${checked < queued ? ` of ${queued}` : ''} checked: ${parts.join(', ')}`;
}

const processDlq: TaskMode = async (env, args) => {
  const raw = args.class ?? args.error_class;
  const errorClass = typeof raw === 'string' && raw ? raw : undefined;
  const before = (await readStatusSnapshot(env.dataDir)).snapshot.counts?.dlq ?? 0;
  const counter = new SettledCounter(await readWorkerStatus(env.dataDir));
  const r = await sendCommand(env, { name: 'redrive', ...(errorClass ? { errorClass } : {}) });
  const requeued = Number(r.data?.requeued ?? 0);
  env.log.info(`${r.message}${errorClass ? ` (error class ${errorClass})` : ''}`);
  const f = requeued > 0 ? await followQueue(env, { work: { jobs: requeued, counter } }) : { remaining: 0, delayed: 0, dlq: before };
  const backInDlq = Math.max(0, f.dlq - (before - requeued));
  return {
    summary: `re-queued ${requeued} dead-lettered job(s); ${requeued - backInDlq - f.remaining - f.delayed} synced, ${backInDlq} back in the DLQ; ${describeFollow(f)}`,
    data: { requeued, backInDlq, ...f },
  };
};

const status: TaskMode = async (env) => {
  const view = await readStatusSnapshot(env.dataDir);
  // The first line is the summary, which the task runner logs last.
  for (const line of view.lines.slice(1)) env.log.info(line);
  const s = view.snapshot;
  return {
    summary: view.lines[0] ?? 'no status',
    data: { counts: s.counts ?? null, dlqByClass: s.dlqByClass ?? {}, breaker: s.breaker?.state ?? null, paused: s.paused ?? null, worker: s.alive, lastPlaysImport: playsCounts(s.plays?.last) },
  };
};

/** Pages every scene id from Stash (optionally only those changed since a time) and queues them at bulk priority. */
async function queueScenes(
  env: TaskEnv,
  trigger: string,
  force: boolean,
  report: (fraction: number) => void,
  updatedSince?: Date,
): Promise<number> {
  const client = stashClient(env);
  let page = 1;
  let total = 0;
  let buffer: string[] = [];
  const flush = async () => {
    if (buffer.length === 0) return;
    await sendCommand(env, { name: 'enqueue', sceneIds: buffer, priority: PRIORITY.bulk, trigger, force }, 300_000);
    buffer = [];
  };
  for (;;) {
    const res = await client.sceneIdsPage({ page, perPage: ID_PAGE, sort: 'id', direction: 'ASC', ...(updatedSince ? { updatedSince } : {}) });
    for (const s of res.scenes) buffer.push(s.id);
    total += res.scenes.length;
    if (buffer.length >= ENQUEUE_CHUNK) await flush();
    report(res.count === 0 ? QUEUE_SHARE : (QUEUE_SHARE * total) / res.count);
    if (res.scenes.length < ID_PAGE || total >= res.count) break;
    page += 1;
  }
  await flush();
  return total;
}

function truthy(v: unknown): boolean {
  return v === true || (typeof v === 'string' && /^(true|1|yes)$/i.test(v));
}

/** Queues scenes, then follows the worker through them: progress moves as each scene is sent or found unchanged. */
async function syncScenes(env: TaskEnv, trigger: string, force: boolean, updatedSince?: Date) {
  const report = progressReporter(env.log);
  // The starting point is taken before anything is queued: the worker may settle scenes while we page Stash.
  const counter = new SettledCounter(await readWorkerStatus(env.dataDir));
  const queued = await queueScenes(env, trigger, force, report, updatedSince);
  const f = queued > 0 ? await followQueue(env, { from: QUEUE_SHARE, work: { jobs: queued, counter }, report }) : undefined;
  report(1);
  const settled = counter.settled();
  return { queued, settled, f, line: `${describeSettled(settled, queued)}${f ? `; ${describeFollow(f)}` : ''}` };
}

const syncAll: TaskMode = async (env, args) => {
  const force = truthy(args.force);
  env.log.info(force ? 'checking every scene against its Plex item, unchanged ones included' : 'checking every scene; those unchanged since their last sync are skipped');
  const r = await syncScenes(env, force ? 'sync_all (forced)' : 'sync_all', force);
  return { summary: `Sync All: ${r.line}`, data: { queued: r.queued, force, ...r.settled, ...r.f } };
};

const syncRecent: TaskMode = async (env, args) => {
  const hours = Number(args.hours ?? 24) > 0 ? Number(args.hours ?? 24) : 24;
  const since = new Date(Date.now() - hours * 3_600_000);
  const r = await syncScenes(env, `sync_recent (${hours} h)`, truthy(args.force), since);
  return { summary: `Sync Recent (scenes changed in the last ${hours} h): ${r.line}`, data: { queued: r.queued, hours, ...r.settled, ...r.f } };
};

const reconcile: TaskMode = async (env) => {
  const client = stashClient(env);
  const totals = { checked: 0, queued: 0 };
  const missing: string[] = [];
  const stale: string[] = [];
  const neverSynced: string[] = [];
  const report = progressReporter(env.log);
  const counter = new SettledCounter(await readWorkerStatus(env.dataDir));
  for (let page = 1; ; page++) {
    const res = await client.findScenesPage({ page, perPage: 500, sort: 'id', direction: 'ASC' });
    if (res.scenes.length === 0) break;
    const r = await sendCommand(env, {
      name: 'reconcile',
      scenes: res.scenes.map((s) => ({ id: s.id, updatedAt: s.updated_at, paths: s.files.map((f) => f.path) })),
    }, 600_000);
    if (!r.ok) return { summary: `Reconcile stopped: ${r.message}`, data: { ...totals }, error: r.message };
    totals.checked += Number(r.data?.checked ?? 0);
    totals.queued += Number(r.data?.queued ?? 0);
    missing.push(...((r.data?.missing as string[]) ?? []));
    stale.push(...((r.data?.stale as string[]) ?? []));
    neverSynced.push(...((r.data?.neverSynced as string[]) ?? []));
    report((0.5 * totals.checked) / Math.max(1, res.count));
    if (totals.checked >= res.count) break;
  }
  const eg = (ids: string[]) => (ids.length ? ` (e.g. scenes ${ids.slice(0, 5).join(', ')})` : '');
  env.log.info(`${missing.length} scene(s) have no Plex item${eg(missing)}`);
  env.log.info(`${stale.length} changed in Stash since their last sync${eg(stale)}`);
  env.log.info(`${neverSynced.length} never synced${eg(neverSynced)}`);
  const f = totals.queued > 0 ? await followQueue(env, { from: 0.5, work: { jobs: totals.queued, counter }, report }) : undefined;
  return {
    summary: `Reconcile checked ${totals.checked} scene(s): ${missing.length} not in Plex, ${stale.length} stale, ${neverSynced.length} never synced; queued ${totals.queued}${f ? `; ${describeFollow(f)}` : ''}`,
    data: { ...totals, missing: missing.length, stale: stale.length, neverSynced: neverSynced.length },
  };
};

/** Other enabled plugins that write to Plex on scene saves, said in words; Stash's answer is not required. */
async function checkPlexWriters(env: TaskEnv): Promise<string[]> {
  let plugins;
  try {
    plugins = await stashClient(env).fetchPlugins();
  } catch (err) {
    env.log.info(`Stash plugins: could not list them (${(err as Error).message})`);
    return [];
  }
  const writers = otherPlexWriters(plugins);
  const line = describePlexWriters(writers);
  if (line) env.log.warn(line);
  else env.log.info('Stash plugins: no other enabled plugin writes to Plex on scene updates');
  return writers.map((p) => p.id);
}

const health: TaskMode = async (env) => {
  const otherWriters = await checkPlexWriters(env);
  const { settings, warnings } = await settingsFor(env);
  for (const w of warnings) env.log.warn(w);
  const paths = dataPaths(env.dataDir);
  const plex = new PlexService(plexServiceOptions(settings, paths, env.log));
  env.log.addSecret(settings.plexToken);
  const h = await plex.health();
  if (h.problem) {
    env.log.error(`Plex: ${h.problem.message}`);
    return { summary: `Health: ${h.problem.message}`, data: { plex: false, reachable: h.reachable, tokenValid: h.tokenValid, otherWriters }, error: h.problem.message };
  }
  const plexLine = `${h.serverName ?? 'Plex'} ${h.version ?? ''} (${h.platform ?? 'unknown platform'}) reachable, token valid; libraries: ${h.libraries.map((l) => `${l.title} (${l.type})`).join(', ') || 'none'}`;
  env.log.info(`Plex: ${plexLine}`);
  await plex.refreshIndex();
  const sample = await stashClient(env, settings.stashApiKey).findScenesPage({ page: 1, perPage: 420, sort: 'random', direction: 'ASC' });
  const withFiles = sample.scenes.filter((s) => s.files.length > 0);
  const notFound: typeof withFiles = [];
  for (const s of withFiles) {
    let found = false;
    for (const f of s.files) if (!found) found = await plex.isIndexed(f.path);
    if (!found) notFound.push(s);
  }
  const found = withFiles.length - notFound.length;
  const examples = notFound.slice(0, 3).map((s) => s.files[0]!.path);
  const line =
    withFiles.length === 0
      ? 'path_map: no scenes with files to check yet'
      : `path_map: ${found} of ${withFiles.length} sampled scenes found in Plex${notFound.length ? `; ${notFound.length} not in any library, e.g. ${examples.join(', ')}` : ''}`;
  env.log.info(line);
  if (notFound.length > withFiles.length / 2 && settings.pathMap.length === 0) {
    env.log.warn('most files were not found: if Plex sees your media under another path than Stash does (Docker), set path_map, e.g. /data=>/media');
  }
  for (const l of (await readStatusSnapshot(env.dataDir)).lines) env.log.info(l);
  return {
    summary: `Health: Plex OK; ${line}${otherWriters.length ? `; another plugin also writes to Plex: ${otherWriters.join(', ')}` : ''}`,
    data: { plex: true, sampled: withFiles.length, found, notFound: notFound.length, examples, otherWriters },
  };
};

const purgeDlq: TaskMode = async (env, args) => {
  // Without a `days` argument the worker purges at dlq_retention_days: the store owns the retention.
  const days = Number(args.days ?? 0);
  const r = await sendCommand(env, days > 0 ? { name: 'purge_dlq', olderThanDays: days } : { name: 'purge_dlq' });
  return { summary: r.message, data: r.data ?? {}, ...(r.ok ? {} : { error: r.message }) };
};

const simple = (name: 'clear_dlq' | 'clear_queue' | 'rebuild_index'): TaskMode => async (env) => {
  const r = await sendCommand(env, { name }, name === 'rebuild_index' ? 1_800_000 : 120_000);
  return { summary: r.message, data: r.data ?? {}, ...(r.ok ? {} : { error: r.message }) };
};

export const TASK_MODES: Record<string, TaskMode> = {
  process_queue: processQueue,
  process_dlq: processDlq,
  status,
  sync_all: syncAll,
  sync_recent: syncRecent,
  reconcile,
  health,
  purge_dlq: purgeDlq,
  clear_dlq: simple('clear_dlq'),
  clear_queue: simple('clear_queue'),
  rebuild_index: simple('rebuild_index'),
  import_plays: (env) => importPlaysTask(env),
};
