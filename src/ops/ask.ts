import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeInboxFile } from '../inbox/write';
import { dataPaths } from '../paths';
import type { CommandBody, CommandResult } from '../worker/commands';
import { workerAlive } from '../worker/pidfile';
import { ensureWorker } from '../worker/spawn';
import type { OperationContext } from './index';

/**
 * Asks the worker one command through the inbox, as tasks do (src/tasks/link.ts), and waits for its
 * `results/<id>.json`. An operation never opens the store (the worker owns it). With `start: false`
 * (a read) nothing is sent when no worker runs: the answer is undefined and the caller says so; with
 * `start: true` (an action) a worker is started. The result file is watched, not polled every 100 ms as
 * a task does: the page waits for this answer, and each operation has about 150 ms in all.
 */
export async function askWorker(
  ctx: OperationContext,
  cmd: CommandBody,
  opts: { start: boolean; timeoutMs: number },
): Promise<CommandResult | undefined> {
  const paths = dataPaths(ctx.dataDir);
  if (!opts.start && workerAlive(paths.pidFile) === undefined) return undefined;
  const id = `${Date.now().toString(36)}-${crypto.randomBytes(6).toString('hex')}`;
  const file = path.join(paths.results, `${id}.json`);
  fs.mkdirSync(paths.results, { recursive: true, mode: 0o700 });
  const { name, ...args } = cmd;
  // The connection lets a worker started for this command reach Stash (the file is owner-only: it holds the cookie).
  await writeInboxFile(paths.inbox, 'cmd', JSON.stringify({ id, cmd: name, args, at: Date.now(), connection: ctx.connection }));
  if (opts.start) ensureWorker(ctx.dataDir, ctx.entryFile);

  return new Promise<CommandResult | undefined>((resolve) => {
    let done = false;
    let watcher: fs.FSWatcher | undefined;
    const timers: NodeJS.Timeout[] = [];
    const finish = (r: CommandResult | undefined) => {
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
    timers.push(setInterval(() => {
      look();
      // A read gives up when the worker is gone; an action restarts one (the lock keeps it to one).
      if (opts.start) ensureWorker(ctx.dataDir, ctx.entryFile);
      else if (workerAlive(paths.pidFile) === undefined) finish(undefined);
    }, 250));
    timers.push(setTimeout(() => finish(undefined), opts.timeoutMs));
    look();
  });
}

/** `scene_id` as Stash's ids are: digits, as a string or a number. */
export function sceneIdArg(args: Record<string, unknown>): string | undefined {
  const v = args.scene_id;
  const s = typeof v === 'number' && Number.isInteger(v) && v > 0 ? String(v) : typeof v === 'string' ? v.trim() : '';
  return /^\d{1,18}$/.test(s) ? s : undefined;
}
