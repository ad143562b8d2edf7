import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { DataPaths } from '../paths';
import type { QueueStore } from '../queue/store';
import type { EnqueueRequest, SceneEvent } from '../queue/types';
import type { EntityChange } from '../follow/events';
import { parseInboxFileName } from './names';

/** A command file written by a task process (the `connection` is the task's server_connection). */
export const CommandFileSchema = z.object({
  id: z.string().min(1),
  cmd: z.string().min(1),
  args: z.record(z.string(), z.unknown()),
  at: z.number(),
  connection: z.record(z.string(), z.unknown()).optional(),
});
export type CommandFile = z.infer<typeof CommandFileSchema>;

/**
 * What one event file asks for; `requests` and `removals` apply in that order. `changes`: a tag,
 * performer, studio or group change, for the worker to fan out to the scenes it touches (src/follow/).
 */
export type Interpretation = { requests: EnqueueRequest[]; removals: string[]; changes?: EntityChange[] } | { error: string };

export interface IngestHandlers {
  /** Parses an event file (Stash's stdin bytes) and decides what it asks for; an error moves the file to bad/. */
  interpret(name: string, bytes: Buffer): Interpretation;
  /** Called after the batch holding the command has been committed; the file is removed afterwards. */
  onCommand(name: string, cmd: CommandFile): Promise<void> | void;
  /** Keeps a batch's entity changes; called before the batch is committed, so a crash re-reads rather than loses them. */
  onChanges?(changes: EntityChange[]): Promise<void>;
}

export interface IngestOptions {
  /** Files per synced LevelDB batch. Defaults to 64 (0.31 ms/file measured, research §6). */
  batchSize?: number;
  /** Stop after this many files so that dispatch is not starved by a large backlog; the rest waits for the next call. Defaults to all. */
  maxFiles?: number;
  /** tmp/ files older than this are litter from killed writers. Defaults to 1 h. */
  litterAgeMs?: number;
  now?: () => number;
}

export interface IngestResult {
  ingested: number;
  bad: number;
  commands: number;
  /** One line per file moved to bad/ (also written beside it as `<name>.reason`). */
  badFiles: { name: string; reason: string }[];
  /** Litter files removed from tmp/ (and stray files from new/). */
  litter: number;
}

const HOUR = 3_600_000;

/**
 * Drains inbox/new into the store, oldest name first. Each batch of event files is committed in ONE
 * synced LevelDB batch together with their `seen` markers, and only then are the files unlinked: a
 * crash between the two re-reads files whose markers make them no-ops (research §6, "Ingest").
 * Command files are not marked: a crash after the commit but before removal runs a command again
 * (at least once), which the command results (one file per command id) tolerate.
 */
export async function ingestInbox(
  store: QueueStore,
  paths: DataPaths,
  handlers: IngestHandlers,
  opts: IngestOptions = {},
): Promise<IngestResult> {
  const batchSize = Math.max(1, opts.batchSize ?? 64);
  const now = opts.now ?? Date.now;
  const litterAge = opts.litterAgeMs ?? HOUR;
  const result: IngestResult = { ingested: 0, bad: 0, commands: 0, badFiles: [], litter: 0 };

  const entries = await readdirOrEmpty(paths.inboxNew);
  const names: string[] = [];
  for (const name of entries) {
    if (parseInboxFileName(name)) names.push(name);
    else if (await removeIfOld(path.join(paths.inboxNew, name), now() - litterAge)) result.litter++;
  }
  names.sort();
  if (opts.maxFiles !== undefined && names.length > opts.maxFiles) names.length = Math.max(0, opts.maxFiles);

  for (let i = 0; i < names.length; i += batchSize) {
    await ingestBatch(store, paths, handlers, names.slice(i, i + batchSize), result);
  }

  for (const name of await readdirOrEmpty(paths.inboxTmp)) {
    if (await removeIfOld(path.join(paths.inboxTmp, name), now() - litterAge)) result.litter++;
  }
  if (names.length > 0) await store.sweepSeen();
  return result;
}

async function ingestBatch(
  store: QueueStore,
  paths: DataPaths,
  handlers: IngestHandlers,
  names: string[],
  result: IngestResult,
): Promise<void> {
  const seen = await store.seen(names);
  const events: SceneEvent[] = [];
  const ingested: string[] = [];
  const already: string[] = [];
  const commands: { name: string; cmd: CommandFile }[] = [];
  const changes: EntityChange[] = [];

  // Reads in parallel, decisions in name order.
  const contents = await Promise.all(
    names.map((name, i) => (seen[i] ? Promise.resolve(undefined) : readInboxFile(path.join(paths.inboxNew, name)))),
  );
  for (const [i, name] of names.entries()) {
    if (seen[i]) {
      already.push(name);
      continue;
    }
    const read = contents[i];
    if (read === undefined || read === 'gone') continue; // unlinked by a previous worker after its commit
    if ('error' in read) {
      await moveToBad(paths, name, `unreadable: ${read.error}`, result);
      continue;
    }
    const bytes = read.bytes;
    if (name.endsWith('.cmd')) {
      const parsed = CommandFileSchema.safeParse(safeJson(bytes));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        await moveToBad(paths, name, `not a command file: ${issue ? `${issue.path.join('.') || 'root'}: ${issue.message}` : 'invalid JSON'}`, result);
        continue;
      }
      commands.push({ name, cmd: parsed.data });
      continue;
    }
    let interpretation: Interpretation;
    try {
      interpretation = handlers.interpret(name, bytes);
    } catch (err) {
      interpretation = { error: `interpretation failed: ${(err as Error).message}` };
    }
    if ('error' in interpretation) {
      await moveToBad(paths, name, interpretation.error, result);
      continue;
    }
    for (const request of interpretation.requests) events.push({ kind: 'enqueue', request });
    for (const sceneId of interpretation.removals) events.push({ kind: 'remove', sceneId });
    if (interpretation.changes) changes.push(...interpretation.changes);
    ingested.push(name);
  }

  if (changes.length > 0 && handlers.onChanges) await handlers.onChanges(changes);
  if (ingested.length > 0) await store.applyEvents(events, ingested);
  result.ingested += ingested.length;
  await Promise.all([...ingested, ...already].map((name) => unlinkQuietly(path.join(paths.inboxNew, name))));

  for (const { name, cmd } of commands) {
    await handlers.onCommand(name, cmd);
    await unlinkQuietly(path.join(paths.inboxNew, name));
    result.commands++;
  }
}

/** Keeps an invalid file (it may carry the only copy of an event) and says why beside it. */
async function moveToBad(paths: DataPaths, name: string, reason: string, result: IngestResult): Promise<void> {
  const line = reason.replace(/\s+/g, ' ').trim();
  await fsp.mkdir(paths.inboxBad, { recursive: true, mode: 0o700 });
  await fsp.writeFile(path.join(paths.inboxBad, `${name}.reason`), `${line}\n`, { mode: 0o600 });
  try {
    await fsp.rename(path.join(paths.inboxNew, name), path.join(paths.inboxBad, name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  result.bad++;
  result.badFiles.push({ name, reason: line });
}

async function readInboxFile(file: string): Promise<{ bytes: Buffer } | { error: string } | 'gone'> {
  try {
    return { bytes: await fsp.readFile(file) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    return { error: (err as Error).message };
  }
}

async function removeIfOld(file: string, cutoff: number): Promise<boolean> {
  try {
    const st = await fsp.stat(file);
    if (!st.isFile() || st.mtimeMs >= cutoff) return false;
    await fsp.unlink(file);
    return true;
  } catch {
    return false;
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await fsp.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

async function unlinkQuietly(file: string): Promise<void> {
  try {
    await fsp.unlink(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function safeJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}
