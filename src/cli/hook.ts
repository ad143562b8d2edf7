import { runNodeHook } from '../hook/node-hook';
import { createStashLogger, writeResult } from '../stash/log';
import { ensureWorker } from '../worker/spawn';
import { readStdin } from './stdin';

/**
 * `node plexcourier.cjs hook`: the launcher hands a hook over to Node when it cannot spool by itself
 * (and Windows runs it directly). Same contract as the launcher: spool, make sure a worker runs,
 * print one JSON object, return at once. `stdin` when the caller has read it already (no mode word, src/cli/operation.ts).
 */
export async function runHookCommand(ctx: { dataDir: string; entryFile: string }, stdin?: Buffer): Promise<undefined> {
  const log = createStashLogger();
  const result = await runNodeHook(stdin ?? (await readStdin()), ctx.dataDir);
  if (result.exitCode === 0) {
    try {
      ensureWorker(ctx.dataDir, ctx.entryFile);
    } catch (err) {
      log.warn(`PlexCourier queued the event but could not start its worker: ${(err as Error).message}`);
    }
  } else if (result.json.error) {
    log.error(result.json.error);
  }
  writeResult(result.json);
  return undefined;
}
