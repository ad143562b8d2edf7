import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { DataPaths } from '../paths';
import { CommandFileSchema, type CommandFile } from '../protocol';
import type { QueueStore } from '../queue/store';
import type { EnqueueRequest, SceneEvent } from '../queue/types';
import { newestEventAt } from './boot';
import type { EntityChange } from '../follow/events';
import { parseInboxFileName } from './names';

export type { CommandFile };

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
  /**
   * An event file in new/ that does not yet parse as a whole JSON object is still being written (the sh
   * launcher writes straight into new/); it is left alone this long after its last change, then moved to
   * bad/. Defaults to 60 s: a hook writes its few KB in milliseconds.
   */
  incompleteGraceMs?: number;
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
  /** Event files left in new/ because they do not parse yet (being written); see `incompleteGraceMs`. */
  incomplete: number;
  /** True when one of those changed in the last 2 s: its writer is likely finishing, so look again soon. */
  incompleteRecent: boolean;
  /** Epoch ms of the newest event file taken in (from its name); undefined when none was. */
  newestEventAt?: number;
}

const HOUR = 3_600_000;
const INCOMPLETE_GRACE_MS = 60_000;
const RECENT_MS = 2_000;

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
  const result: IngestResult = { ingested: 0, bad: 0, commands: 0, badFiles: [], litter: 0, incomplete: 0, incompleteRecent: false };
  const grace = { ms: opts.incompleteGraceMs ?? INCOMPLETE_GRACE_MS, now };

  const entries = await readdirOrEmpty(paths.inboxNew);
  const names: string[] = [];
  for (const name of entries) {
    if (parseInboxFileName(name)) names.push(name);
    else if (await removeIfOld(path.join(paths.inboxNew, name), now() - litterAge)) result.litter++;
  }
  names.sort();
  if (opts.maxFiles !== undefined && names.length > opts.maxFiles) names.length = Math.max(0, opts.maxFiles);

  for (let i = 0; i < names.length; i += batchSize) {
    await ingestBatch(store, paths, handlers, names.slice(i, i + batchSize), result, grace);
  }

  for (const name of await readdirOrEmpty(paths.inboxTmp)) {
    if (await removeIfOld(path.join(paths.inboxTmp, name), now() - litterAge)) result.litter++;
  }
  if (names.length > 0) await store.seen.sweep();
  return result;
}

async function ingestBatch(
  store: QueueStore,
  paths: DataPaths,
  handlers: IngestHandlers,
  names: string[],
  result: IngestResult,
  grace: { ms: number; now: () => number },
): Promise<void> {
  const seen = await store.seen.has(names);
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
    // The sh launcher writes straight into new/ (no rename): a file that is not yet a whole JSON object is
    // still being written, or was cut short (a hook killed mid-write, a crash before the data reached the
    // disk). A truncated JSON object never parses, so nothing half-written is ever taken in as valid.
    if (!isWholeJsonObject(bytes)) {
      const age = await ageMs(path.join(paths.inboxNew, name), grace.now());
      if (age === undefined) continue; // gone meanwhile
      // Math.abs: a file stamped in the future (the clock was set back) must not stay "young" for ever.
      if (Math.abs(age) < grace.ms) {
        result.incomplete++;
        if (Math.abs(age) < RECENT_MS) result.incompleteRecent = true;
        continue;
      }
      await moveToBad(
        paths,
        name,
        `incomplete: ${bytes.length} byte(s) that are not a whole JSON object ${Math.round(age / 1000)} s after the last write (a hook killed while writing, or the machine stopped before the file reached the disk)`,
        result,
      );
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
  const newest = newestEventAt(ingested);
  if (newest !== undefined && (result.newestEventAt === undefined || newest > result.newestEventAt)) result.newestEventAt = newest;
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

function isWholeJsonObject(bytes: Buffer): boolean {
  const value = safeJson(bytes);
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Time since the file last changed; undefined when it is gone. */
async function ageMs(file: string, now: number): Promise<number | undefined> {
  try {
    return now - (await fsp.stat(file)).mtimeMs;
  } catch {
    return undefined;
  }
}

function safeJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}
