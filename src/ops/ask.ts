import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeInboxFile } from '../inbox/write';
import { dataPaths, type DataPaths } from '../paths';
import type { CommandBody, CommandResult } from '../worker/commands';
import { workerAlive } from '../worker/pidfile';
import { queryDir } from '../worker/query-dir';
import { ensureWorker } from '../worker/spawn';
import type { OperationContext } from './index';

/** Why no answer came: no worker runs (a read starts none), or it did not answer in time. */
export type NoAnswer = 'not_running' | 'no_answer';

const newId = () => `${Date.now().toString(36)}-${crypto.randomBytes(6).toString('hex')}`;

/**
 * Waits for `results/<id>.json`. The folder is watched, not polled every 100 ms as a task does: the page
 * waits for this answer, and each operation has about 150 ms in all. `keepAlive` runs every 250 ms.
 */
function waitForResult(paths: DataPaths, id: string, timeoutMs: number, keepAlive: () => NoAnswer | undefined): Promise<CommandResult | NoAnswer> {
  const file = path.join(paths.results, `${id}.json`);
  return new Promise((resolve) => {
    let done = false;
    let watcher: fs.FSWatcher | undefined;
    const timers: NodeJS.Timeout[] = [];
    const finish = (r: CommandResult | NoAnswer) => {
      if (done) return;
      done = true;
      watcher?.close();
      for (const t of timers) clearTimeout(t);
      resolve(r);
    };
    const look = () => {
      try {
        const result = JSON.parse(fs.readFileSync(file, 'utf8')) as CommandResult;
        fs.rmSync(file, { force: true });
        finish(result);
      } catch {
        // not there yet
      }
    };
    try {
      watcher = fs.watch(paths.results, () => look());
    } catch {
      // No watcher (a network mount): the interval below still finds it.
    }
    timers.push(
      setInterval(() => {
        look();
        const gone = keepAlive();
        if (gone) finish(gone);
      }, 250),
    );
    timers.push(setTimeout(() => finish('no_answer'), timeoutMs));
    look();
  });
}

/**
 * An action: one command to the worker through the inbox, as tasks send theirs (src/tasks/link.ts),
 * starting a worker when none runs. An operation never opens the store (the worker owns it).
 */
export async function askWorker(ctx: OperationContext, cmd: CommandBody, timeoutMs: number): Promise<CommandResult | NoAnswer> {
  const paths = dataPaths(ctx.dataDir);
  const id = newId();
  fs.mkdirSync(paths.results, { recursive: true, mode: 0o700 });
  const { name, ...args } = cmd;
  // The connection lets a worker started for this command reach Stash (the file is owner-only: it holds the cookie).
  await writeInboxFile(paths.inbox, 'cmd', JSON.stringify({ id, cmd: name, args, at: Date.now(), connection: ctx.connection }));
  ensureWorker(ctx.dataDir, ctx.entryFile);
  // A worker that was just leaving may have missed it: start another (the lock keeps it to one).
  return waitForResult(paths, id, timeoutMs, () => void ensureWorker(ctx.dataDir, ctx.entryFile));
}

/** What the worker's query folder answers (src/worker/queries.ts). */
export type QueryBody = { query: 'scene_state'; sceneId: string } | { query: 'plex_items'; sceneIds: string[] };

/**
 * A read, asked through the worker's query folder (src/worker/queries.ts), which it answers even in the
 * middle of a round. With no worker running nothing is asked and none is started.
 */
export async function askQuery(ctx: OperationContext, body: QueryBody, timeoutMs: number): Promise<CommandResult | NoAnswer> {
  const paths = dataPaths(ctx.dataDir);
  if (workerAlive(paths.pidFile) === undefined) return 'not_running';
  const id = newId();
  const dir = queryDir(paths);
  fs.mkdirSync(paths.results, { recursive: true, mode: 0o700 });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${id}.json`);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify({ id, ...body }), { mode: 0o600 });
  fs.renameSync(`${file}.tmp`, file);
  const answer = await waitForResult(paths, id, timeoutMs, () => (workerAlive(paths.pidFile) === undefined ? 'not_running' : undefined));
  if (typeof answer === 'string') fs.rmSync(file, { force: true });
  return answer;
}

/** `scene_id` as Stash's ids are: digits, as a string or a number. */
export function sceneIdArg(args: Record<string, unknown>): string | undefined {
  const v = args.scene_id;
  const s = typeof v === 'number' && Number.isInteger(v) && v > 0 ? String(v) : typeof v === 'string' ? v.trim() : '';
  return /^\d{1,18}$/.test(s) ? s : undefined;
}
