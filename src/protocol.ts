import type { PlaysStatus } from './plays/scheduler';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { DataPaths } from './paths';
import type { ServerConnection } from './stash/input';
import { writeFileAtomicSync } from './atomic-write';
import { PrioritySchema } from './queue/types';

/*
 * What a task process and the worker say to each other, all of it here and validated at both ends:
 *
 *   task ──inbox/new/<name>.cmd (CommandFile: id, name, args, connection)──▶ worker
 *   task ◀──results/<id>.json (CommandResult)── worker
 *   task ◀──status.json (WorkerStatus, about once a second)── worker
 *
 * A task never opens the store: the worker owns it (ARCHITECTURE.md point 3).
 */

// ---------------------------------------------------------------- commands

/** One command and its arguments; `name` says which. */
export const CommandBodySchema = z.discriminatedUnion('name', [
  /** Process Queue: waiting retries run now, and an open breaker or a paused queue probes at once. */
  z.object({ name: z.literal('process_queue') }),
  z.object({
    name: z.literal('enqueue'),
    sceneIds: z.array(z.string().regex(/^\d+$/)).max(100_000),
    priority: PrioritySchema,
    trigger: z.string(),
    force: z.boolean().default(false),
  }),
  /** Process DLQ: fresh jobs for the DLQ entries selected. */
  z.object({
    name: z.literal('redrive'),
    errorClass: z.string().optional(),
    sceneIds: z.array(z.string()).optional(),
    limit: z.number().int().positive().optional(),
  }),
  /** Without `olderThanDays`: the retention of the settings (dlq_retention_days). */
  z.object({ name: z.literal('purge_dlq'), olderThanDays: z.number().positive().optional() }),
  z.object({ name: z.literal('clear_dlq') }),
  /** The PlexCourier page's "remove": DLQ entries dropped without a retry. */
  z.object({ name: z.literal('dlq_remove'), sceneIds: z.array(z.string().regex(/^\d+$/)).min(1).max(10_000) }),
  z.object({ name: z.literal('clear_queue') }),
  z.object({ name: z.literal('rebuild_index') }),
  z.object({ name: z.literal('import_plays') }),
  z.object({
    name: z.literal('reconcile'),
    scenes: z.array(z.object({ id: z.string(), updatedAt: z.string(), paths: z.array(z.string()) })).max(100_000),
  }),
]);
export type CommandBody = z.input<typeof CommandBodySchema>;
export type Command = z.output<typeof CommandBodySchema>;

/** The connection a task process parsed from its own stdin: it lets a worker started by a task reach Stash. */
export const ConnectionSchema = z
  .object({
    scheme: z.enum(['http', 'https']),
    host: z.string(),
    port: z.number().int(),
    sessionCookie: z.object({ name: z.string(), value: z.string() }).optional(),
    configDir: z.string().optional(),
    pluginDir: z.string().optional(),
  })
  .transform((c): ServerConnection => ({
    scheme: c.scheme,
    host: c.host,
    port: c.port,
    sessionCookie: c.sessionCookie,
    configDir: c.configDir,
    pluginDir: c.pluginDir,
  }));

/**
 * A command file in the inbox. The envelope is checked when the worker ingests it (a malformed one
 * goes to inbox/bad/); the body (`name` + `args`) when it runs, so an unknown command still gets an
 * answer the waiting task can show.
 */
export const CommandFileSchema = z.preprocess(
  // Files written before `cmd` was renamed `name` (a task of the previous version during an update).
  (v) => (v && typeof v === 'object' && !('name' in v) && 'cmd' in v ? { ...(v as Record<string, unknown>), name: (v as { cmd: unknown }).cmd } : v),
  z.object({
    id: z.string().regex(/^[0-9a-z-]+$/, 'a command id is lowercase letters, digits and dashes'),
    name: z.string().min(1),
    args: z.record(z.string(), z.unknown()),
    at: z.number(),
    connection: z.record(z.string(), z.unknown()).optional(),
  }),
);
export type CommandFile = z.infer<typeof CommandFileSchema>;

/** The envelope a task writes for one command. */
export function commandFile(id: string, body: CommandBody, connection: ServerConnection, at = Date.now()): CommandFile {
  const { name, ...args } = CommandBodySchema.parse(body);
  return { id, name, args, at, connection: { ...connection } };
}

/** The command a file carries, or why it cannot be run. */
export function parseCommand(file: CommandFile): { command: Command } | { error: string } {
  const parsed = CommandBodySchema.safeParse({ ...file.args, name: file.name });
  if (parsed.success) return { command: parsed.data };
  const issue = parsed.error.issues[0];
  return { error: issue ? `${issue.path.join('.') || 'name'}: ${issue.message}` : 'invalid' };
}

export function parseConnection(raw: unknown): ServerConnection | undefined {
  const parsed = ConnectionSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}

// ---------------------------------------------------------------- results

/** What a task reads back from `results/<id>.json`. */
export const CommandResultSchema = z.object({
  id: z.string(),
  ok: z.boolean(),
  /** One line for the task's log. */
  message: z.string(),
  data: z.record(z.string(), z.unknown()).optional(),
});
export type CommandResult = z.infer<typeof CommandResultSchema>;

function resultFile(paths: DataPaths, id: string): string {
  return path.join(paths.results, `${id}.json`);
}

/** The worker's answer to one command, written atomically where the task is waiting. */
export function writeCommandResult(paths: DataPaths, result: CommandResult): void {
  fs.mkdirSync(paths.results, { recursive: true, mode: 0o700 });
  writeFileAtomicSync(resultFile(paths, result.id), JSON.stringify(CommandResultSchema.parse(result)));
}

/**
 * The answer to command `id` once it is there (and then removed), else undefined. A file that is
 * not a result is an answer too: a clear failure instead of a wait until the timeout.
 */
export function takeCommandResult(paths: DataPaths, id: string): CommandResult | undefined {
  const file = resultFile(paths, id);
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  fs.rmSync(file, { force: true });
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    json = undefined;
  }
  const parsed = CommandResultSchema.safeParse(json);
  return parsed.success ? parsed.data : { id, ok: false, message: `the worker's answer ${file} could not be read` };
}

// ---------------------------------------------------------------- status.json

const CountsSchema = z.object({ ready: z.number(), delayed: z.number(), active: z.number(), dlq: z.number(), done: z.number() });

/**
 * status.json: the queue's state and the worker's, rewritten about once a second. The queue part is
 * required (a file without it is not ours); the worker's fields are optional, and fields this version
 * does not know are kept, so a newer worker's status still reads.
 */
export const WorkerStatusSchema = z
  .object({
    counts: CountsSchema,
    dlqByClass: z.record(z.string(), z.number()),
    oldestWaiting: z
      .object({ jobId: z.string(), sceneId: z.string(), state: z.enum(['ready', 'delayed']), since: z.number() })
      .optional(),
    pid: z.number(),
    /** When the worker last wrote this snapshot (ms). */
    heartbeatAt: z.number(),
    version: z.number().optional(),
    /** The last snapshot of a worker that has closed the store. */
    exiting: z.boolean().optional(),
    dataDir: z.string().optional(),
    dlqExamples: z.array(z.object({ sceneId: z.string(), errorClass: z.string(), message: z.string() }).passthrough()).optional(),
    config: z.object({ ready: z.boolean(), problem: z.string().nullable(), plexUrl: z.string().nullable(), stash: z.string().nullable() }).optional(),
    breaker: z
      .object({
        state: z.string(),
        nextProbeAt: z.number().nullable(),
        outages: z.array(z.object({ start: z.number(), end: z.number().optional(), jobsWaiting: z.number().optional() })),
      })
      .optional(),
    paused: z.object({ reason: z.string(), since: z.number() }).nullable().optional(),
    /** Stash not answering: since when, the next probe, what it said. */
    stash: z.object({ unreachableSince: z.number(), nextProbeAt: z.number(), message: z.string() }).nullable().optional(),
    lastErrors: z.array(z.object({ sceneId: z.string(), class: z.string(), message: z.string(), at: z.number() })).optional(),
    session: z.record(z.string(), z.number()).optional(),
    /** Plays from Plex (src/plays/scheduler.ts), written by the worker that also reads them back. */
    plays: z.custom<PlaysStatus>((v) => typeof v === 'object' && v !== null).optional(),
  })
  .passthrough();
export type WorkerStatus = z.infer<typeof WorkerStatusSchema>;
