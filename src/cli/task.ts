import { parsePluginInput, StashInputError } from '../stash/input';
import { createStashLogger, redirectConsole, writeResult } from '../stash/log';
import { TASK_MODES } from '../tasks/modes';
import { readStdin } from './stdin';
import { clientOptionsFromConnection, StashClient } from '../stash/graphql';
import type { ServerConnection } from '../stash/input';

/** The settings saved in Stash, read once per task; undefined when Stash cannot answer (the task then says why). */
async function savedSettings(connection: ServerConnection): Promise<Record<string, unknown> | undefined> {
  try {
    return await new StashClient({ ...clientOptionsFromConnection(connection), timeoutMs: 5_000 }).fetchPluginSettings();
  } catch {
    return undefined;
  }
}

/**
 * `node plexcourier.cjs task`: one Stash task (Settings > Tasks). The log is short and human and ends
 * with one machine-readable JSON line; stdout carries exactly one JSON object.
 */
export async function runTaskCommand(ctx: { dataDir: string; entryFile: string }): Promise<undefined> {
  let log = createStashLogger();
  let restoreConsole = redirectConsole(log);
  try {
    let input;
    try {
      input = parsePluginInput(await readStdin());
    } catch (err) {
      const msg = err instanceof StashInputError ? err.message : `PlexCourier could not read its input: ${(err as Error).message}`;
      log.error(msg);
      writeResult({ error: msg });
      return undefined;
    }
    // The debug and obfuscate_paths settings shape this task's log; a Stash that cannot answer yet leaves the defaults.
    const saved = await savedSettings(input.connection);
    const switches = { debug: saved?.debug === true, obfuscatePaths: saved?.obfuscate_paths === true };
    if (switches.debug || switches.obfuscatePaths) {
      restoreConsole();
      log = createStashLogger(switches);
      restoreConsole = redirectConsole(log);
    }
    const mode = input.mode ?? '';
    const run = TASK_MODES[mode];
    if (!run) {
      const msg = `unknown task mode "${mode}"; known modes: ${Object.keys(TASK_MODES).join(', ')}`;
      log.error(msg);
      writeResult({ error: msg });
      return undefined;
    }
    try {
      const outcome = await run({ dataDir: ctx.dataDir, entryFile: ctx.entryFile, connection: input.connection, log, savedSettings: saved }, input.args);
      log.progress(1);
      (outcome.error ? log.error : log.info)(outcome.summary);
      log.info(JSON.stringify({ task: mode, ok: !outcome.error, ...outcome.data }));
      writeResult(outcome.error ? { error: outcome.error, output: outcome.data } : { output: { task: mode, summary: outcome.summary, ...outcome.data } });
    } catch (err) {
      const msg = `${mode} failed: ${(err as Error).message}`;
      log.error(msg);
      log.info(JSON.stringify({ task: mode, ok: false, error: (err as Error).message }));
      writeResult({ error: msg });
    }
  } finally {
    restoreConsole();
  }
  return undefined;
}
