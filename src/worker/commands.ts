import type { DataPaths } from '../paths';
import { parseCommand, parseConnection, writeCommandResult, type Command, type CommandFile, type CommandResult } from '../protocol';
import type { QueueStore } from '../queue/store';
import { PRIORITY } from '../queue/types';
import type { Config } from './config';
import type { Dispatcher } from './dispatch';
import type { Logger } from './filelog';
import { applyDlqRetention } from './retention';
import type { PlaysSync } from '../plays/scheduler';

export interface CommandContext {
  store: QueueStore;
  paths: DataPaths;
  config: Config;
  dispatcher: Dispatcher;
  log: Logger;
  wake: () => void;
  plays?: PlaysSync;
}

/**
 * Runs one command file from a task process. The outcome goes to `results/<id>.json` (atomically),
 * where the task that sent it is waiting.
 */
export async function handleCommand(file: CommandFile, ctx: CommandContext): Promise<void> {
  const parsed = parseCommand(file);
  if ('error' in parsed) {
    ctx.log.warn(`ignored command ${file.name}: ${parsed.error}`);
    writeCommandResult(ctx.paths, { id: file.id, ok: false, message: `the worker could not read the ${file.name} command (${parsed.error})` });
    return;
  }
  const connection = parseConnection(file.connection);
  if (connection) ctx.config.noteConnection(connection, file.at);
  let result: Omit<CommandResult, 'id'>;
  try {
    result = await run(parsed.command, ctx);
  } catch (err) {
    result = { ok: false, message: (err as Error).message };
  }
  ctx.log.info(`task command ${file.name}: ${result.message}`);
  writeCommandResult(ctx.paths, { id: file.id, ...result });
  ctx.wake();
}

async function run(cmd: Command, ctx: CommandContext): Promise<Omit<CommandResult, 'id'>> {
  const { store } = ctx;
  switch (cmd.name) {
    case 'process_queue': {
      // Retries waiting for their time run now; an open breaker still decides whether Plex is tried.
      const promoted = await store.promoteAll();
      ctx.dispatcher.probeNow();
      return { ok: true, message: `processing the queue now${promoted ? ` (${promoted} waiting retr${promoted === 1 ? 'y' : 'ies'} brought forward)` : ''}`, data: { promoted } };
    }
    case 'enqueue': {
      const now = Date.now();
      await store.enqueue(cmd.sceneIds.map((sceneId) => ({ sceneId, priority: cmd.priority, trigger: cmd.trigger, force: cmd.force, runAt: now })));
      return { ok: true, message: `queued ${cmd.sceneIds.length} scene(s)`, data: { queued: cmd.sceneIds.length } };
    }
    case 'redrive': {
      const count = await store.redrive({ errorClass: cmd.errorClass, sceneIds: cmd.sceneIds, limit: cmd.limit, priority: PRIORITY.userEdit });
      ctx.dispatcher.probeNow();
      return { ok: true, message: `re-queued ${count} dead-lettered job(s)`, data: { requeued: count } };
    }
    case 'purge_dlq': {
      if (cmd.olderThanDays === undefined) {
        await ctx.config.refresh();
        await applyDlqRetention(store, ctx.config, ctx.log);
      }
      const olderThanMs = cmd.olderThanDays !== undefined ? cmd.olderThanDays * 86_400_000 : store.dlqRetentionMs();
      if (olderThanMs === undefined) return { ok: false, message: ctx.config.describe().problem ?? 'the settings could not be read, so the retention is unknown; nothing was purged' };
      const days = olderThanMs / 86_400_000;
      const purged = await store.purgeDlq({ olderThanMs });
      return { ok: true, message: `purged ${purged} DLQ entr${purged === 1 ? 'y' : 'ies'} older than ${days} days`, data: { purged, days } };
    }
    case 'clear_dlq': {
      const removed = await store.clearDlq();
      return { ok: true, message: `removed ${removed} DLQ entr${removed === 1 ? 'y' : 'ies'}`, data: { removed } };
    }
    case 'dlq_remove': {
      const removed = await store.removeDlq(cmd.sceneIds);
      return { ok: true, message: `removed ${removed} DLQ entr${removed === 1 ? 'y' : 'ies'} without retrying`, data: { removed } };
    }
    case 'clear_queue': {
      // The round being written finishes; the one prepared ahead goes back to the queue and is cleared with the rest.
      await ctx.dispatcher.quiesce();
      const removed = await store.clearQueue();
      return { ok: true, message: `removed ${removed} queued job(s)`, data: { removed } };
    }
    case 'rebuild_index': {
      await ctx.config.refresh(true);
      if (!ctx.config.ready()) return { ok: false, message: ctx.config.describe().problem ?? 'not configured' };
      const stats = await ctx.config.plex().rebuildIndex();
      return { ok: true, message: `rebuilt the Plex path index: ${stats.items} item(s) in ${stats.sections} librar${stats.sections === 1 ? 'y' : 'ies'}`, data: { ...stats } };
    }
    case 'import_plays': {
      // Runs beside the sync; the task follows it in status.json (`plays`).
      await ctx.config.refresh(true);
      if (!ctx.plays) return { ok: false, message: 'this worker does not import plays' };
      const r = ctx.plays.requestBackfill();
      return r.ok ? { ok: true, message: `importing Plex plays (run ${r.runId})`, data: { runId: r.runId } } : { ok: false, message: r.message };
    }
    case 'reconcile': {
      await ctx.config.refresh(true);
      if (!ctx.config.ready()) return { ok: false, message: ctx.config.describe().problem ?? 'not configured' };
      return reconcile(cmd.scenes, ctx);
    }
  }
}

/**
 * The Plex server's machine identifier (it names the server in Plex Web links), asked once per Plex service.
 * Never awaited by a command: during an outage the question could take the connect timeout, and commands
 * run in the engine's loop. The first badge asks; a later one gets the answer.
 */
const machineIds = new WeakMap<object, { value?: string; asking: boolean }>();

function machineIdentifier(ctx: CommandContext): string | undefined {
  if (!ctx.config.ready()) return undefined;
  const plex = ctx.config.plex();
  let entry = machineIds.get(plex);
  if (!entry) machineIds.set(plex, (entry = { asking: false }));
  if (entry.value === undefined && !entry.asking) {
    const e = entry;
    e.asking = true;
    void plex.health().then(
      (h) => {
        e.value = h.machineIdentifier;
        e.asking = false;
      },
      () => {
        e.asking = false;
      },
    );
  }
  return entry.value;
}

/** What the scene badge shows: the scene's job, failed entry, last completed run and sync record. Read-only (src/worker/queries.ts). */
export async function sceneState(sceneId: string, ctx: CommandContext): Promise<Record<string, unknown>> {
  const job = ctx.store.jobForScene(sceneId);
  const dlq = ctx.store.dlqList({ sceneIds: [sceneId], limit: 1 })[0];
  const record = await ctx.store.getSyncRecord(sceneId);
  const ratingKey = record?.ratingKeys[0];
  return {
    job: job
      ? { state: job.state, nextRunAt: job.nextRunAt, attempts: job.attempts, priority: job.priority, lastError: job.lastError ?? null, deferredReason: job.deferredReason ?? null }
      : null,
    dlq: dlq ? { errorClass: dlq.errorClass, message: dlq.message, attempts: dlq.attempts, failedAt: dlq.failedAt } : null,
    lastDone: ctx.store.lastDone(sceneId) ?? null,
    record: record ? { syncedAt: record.syncedAt, ratingKeys: record.ratingKeys } : null,
    plexUrl: ctx.config.describe().plexUrl,
    machineIdentifier: ratingKey ? (machineIdentifier(ctx) ?? null) : null,
  };
}

/** The Plex items of these scenes where a sync record knows them (the failed list's Plex column). Read-only. */
export async function plexItems(sceneIds: readonly string[], ctx: CommandContext): Promise<Record<string, unknown>> {
  const records = await ctx.store.getSyncRecords(sceneIds);
  const items: Record<string, string> = {};
  sceneIds.forEach((id, i) => {
    const rk = records[i]?.ratingKeys[0];
    if (rk) items[id] = rk;
  });
  return { items, plexUrl: ctx.config.describe().plexUrl, machineIdentifier: Object.keys(items).length ? (machineIdentifier(ctx) ?? null) : null };
}

/**
 * Reconcile: of the scenes the task listed, which are missing from Plex (no item has their file),
 * stale (changed in Stash after the last sync) or never synced — and queue those.
 */
async function reconcile(
  scenes: { id: string; updatedAt: string; paths: string[] }[],
  ctx: CommandContext,
): Promise<Omit<CommandResult, 'id'>> {
  const plex = ctx.config.plex();
  await plex.refreshIndex();
  const missing: string[] = [];
  const stale: string[] = [];
  const neverSynced: string[] = [];
  for (const scene of scenes) {
    let inPlex = false;
    for (const p of scene.paths) if (!inPlex) inPlex = await plex.isIndexed(p);
    const record = await ctx.store.records.getOne(scene.id);
    if (!inPlex) missing.push(scene.id);
    else if (!record) neverSynced.push(scene.id);
    else if (Date.parse(scene.updatedAt) > record.syncedAt) stale.push(scene.id);
  }
  // Missing ones are queued too: they retry on the not-found schedule (and ask Plex to scan when scan_not_found is on).
  const toQueue = [...missing, ...stale, ...neverSynced];
  const now = Date.now();
  if (toQueue.length) await ctx.store.enqueue(toQueue.map((sceneId) => ({ sceneId, priority: PRIORITY.bulk, trigger: 'reconcile', force: true, runAt: now })));
  return {
    ok: true,
    message: `checked ${scenes.length}: ${missing.length} not in Plex, ${stale.length} stale, ${neverSynced.length} never synced; queued ${toQueue.length}`,
    data: { checked: scenes.length, missing, stale, neverSynced, queued: toQueue.length },
  };
}

// The protocol's names, for callers that import them from here.
export type { CommandBody, CommandResult } from '../protocol';
/** @deprecated the name Stash's plugin output also uses (src/stash/log.ts); use writeCommandResult from src/protocol.ts. */
export { writeCommandResult as writeResult } from '../protocol';
