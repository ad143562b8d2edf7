import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { DataPaths } from '../paths';
import type { CommandFile } from '../inbox/ingest';
import type { ServerConnection } from '../stash/input';
import type { QueueStore } from '../queue/store';
import type { Config } from './config';
import type { Dispatcher } from './dispatch';
import type { Logger } from './filelog';
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

const priority = z.union([z.literal(0), z.literal(1), z.literal(2)]);

/** The connection a task process parsed from its own stdin: it lets a worker started by a task reach Stash. */
const connectionSchema = z.object({
  scheme: z.enum(['http', 'https']),
  host: z.string(),
  port: z.number().int(),
  sessionCookie: z.object({ name: z.string(), value: z.string() }).optional(),
  configDir: z.string().optional(),
  pluginDir: z.string().optional(),
}).transform((c): ServerConnection => ({
  scheme: c.scheme,
  host: c.host,
  port: c.port,
  sessionCookie: c.sessionCookie,
  configDir: c.configDir,
  pluginDir: c.pluginDir,
}));

const commandBodySchema = z.discriminatedUnion('name', [
  z.object({ name: z.literal('drain') }),
  z.object({
    name: z.literal('enqueue'),
    sceneIds: z.array(z.string().regex(/^\d+$/)).max(100_000),
    priority,
    trigger: z.string(),
    force: z.boolean().default(false),
  }),
  z.object({
    name: z.literal('redrive'),
    errorClass: z.string().optional(),
    sceneIds: z.array(z.string()).optional(),
    limit: z.number().int().positive().optional(),
  }),
  z.object({ name: z.literal('purge_dlq'), olderThanDays: z.number().positive() }),
  z.object({ name: z.literal('clear_dlq') }),
  z.object({ name: z.literal('clear_queue') }),
  z.object({ name: z.literal('rebuild_index') }),
  z.object({ name: z.literal('import_plays') }),
  z.object({
    name: z.literal('reconcile'),
    scenes: z.array(z.object({ id: z.string(), updatedAt: z.string(), paths: z.array(z.string()) })).max(100_000),
  }),
]);

export type CommandBody = z.infer<typeof commandBodySchema>;

/** What a task reads back from `results/<id>.json`. */
export interface CommandResult {
  id: string;
  ok: boolean;
  /** One line for the task's log. */
  message: string;
  data?: Record<string, unknown>;
}

/**
 * Runs one command file from a task process. The outcome goes to `results/<id>.json` (atomically),
 * where the task that sent it is waiting.
 */
export async function handleCommand(file: CommandFile, ctx: CommandContext): Promise<void> {
  const parsed = commandBodySchema.safeParse({ ...file.args, name: file.cmd });
  const id = /^[0-9a-z-]+$/.test(file.id) ? file.id : undefined;
  if (!parsed.success) {
    ctx.log.warn(`ignored command ${file.cmd}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    if (id) writeResult(ctx.paths, { id, ok: false, message: `the worker could not read the ${file.cmd} command` });
    return;
  }
  const connection = connectionSchema.safeParse(file.connection);
  if (connection.success) ctx.config.noteConnection(connection.data, file.at);
  let result: Omit<CommandResult, 'id'>;
  try {
    result = await run(parsed.data, ctx);
  } catch (err) {
    result = { ok: false, message: (err as Error).message };
  }
  ctx.log.info(`task command ${file.cmd}: ${result.message}`);
  if (id) writeResult(ctx.paths, { id, ...result });
  ctx.wake();
}

async function run(cmd: CommandBody, ctx: CommandContext): Promise<Omit<CommandResult, 'id'>> {
  const { store } = ctx;
  switch (cmd.name) {
    case 'drain': {
      // Retries waiting for their time run now; an open breaker still decides whether Plex is tried.
      const promoted = await store.promoteAll();
      ctx.dispatcher.nudge();
      return { ok: true, message: `draining the queue now${promoted ? ` (${promoted} waiting retr${promoted === 1 ? 'y' : 'ies'} brought forward)` : ''}`, data: { promoted } };
    }
    case 'enqueue': {
      const now = Date.now();
      await store.enqueue(cmd.sceneIds.map((sceneId) => ({ sceneId, priority: cmd.priority, trigger: cmd.trigger, force: cmd.force, runAt: now })));
      return { ok: true, message: `queued ${cmd.sceneIds.length} scene(s)`, data: { queued: cmd.sceneIds.length } };
    }
    case 'redrive': {
      const count = await store.redrive({ errorClass: cmd.errorClass, sceneIds: cmd.sceneIds, limit: cmd.limit, priority: 0 });
      ctx.dispatcher.nudge();
      return { ok: true, message: `re-queued ${count} dead-lettered job(s)`, data: { requeued: count } };
    }
    case 'purge_dlq': {
      const purged = await store.purgeDlq({ olderThanMs: cmd.olderThanDays * 86_400_000, maxEntries: ctx.config.dlqCap() });
      return { ok: true, message: `purged ${purged} DLQ entr${purged === 1 ? 'y' : 'ies'} older than ${cmd.olderThanDays} days`, data: { purged } };
    }
    case 'clear_dlq': {
      const removed = await store.clearDlq();
      return { ok: true, message: `removed ${removed} DLQ entr${removed === 1 ? 'y' : 'ies'}`, data: { removed } };
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
    const record = await ctx.store.getSyncRecord(scene.id);
    if (!inPlex) missing.push(scene.id);
    else if (!record) neverSynced.push(scene.id);
    else if (Date.parse(scene.updatedAt) > record.syncedAt) stale.push(scene.id);
  }
  // Missing ones are queued too: they retry on the not-found schedule (and ask Plex to scan when scan_not_found is on).
  const toQueue = [...missing, ...stale, ...neverSynced];
  const now = Date.now();
  if (toQueue.length) await ctx.store.enqueue(toQueue.map((sceneId) => ({ sceneId, priority: 2 as const, trigger: 'reconcile', force: true, runAt: now })));
  return {
    ok: true,
    message: `checked ${scenes.length}: ${missing.length} not in Plex, ${stale.length} stale, ${neverSynced.length} never synced; queued ${toQueue.length}`,
    data: { checked: scenes.length, missing, stale, neverSynced, queued: toQueue.length },
  };
}

export function writeResult(paths: DataPaths, result: CommandResult): void {
  fs.mkdirSync(paths.results, { recursive: true, mode: 0o700 });
  const file = path.join(paths.results, `${result.id}.json`);
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(result), { mode: 0o600 });
  fs.renameSync(tmp, file);
}
