import { findOperation, OperationError } from '../ops';
import { parsePluginInput, StashInputError } from '../stash/input';
import { createStashLogger, formatResult, guardStream, redirectConsole } from '../stash/log';
import { runHookCommand } from './hook';
import { readStdin } from './stdin';

/** One line: Stash hands `error` to the GraphQL caller as is (reference/stash-plugin-protocol.md §3.1). */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim() || 'failed';
}

function hasHookContext(json: unknown): boolean {
  if (typeof json !== 'object' || json === null) return false;
  const args = (json as { args?: unknown }).args;
  return typeof args === 'object' && args !== null && (args as Record<string, unknown>).hookContext != null;
}

function answer(result: { output?: unknown; error?: string }): void {
  guardStream(process.stdout);
  // A caller's mistake is an answer, not a failure of the process: exit 0 either way (the error is parsed).
  process.exitCode = 0;
  try {
    process.stdout.write(formatResult(result));
  } catch {
    // The page dropped the request and Stash killed us (§4.5); nobody is left to answer.
  }
}

/**
 * `node plexcourier.cjs` with no command word and stdin not a terminal: what Stash runs for
 * `runPluginOperation` (no execArgs, no defaultArgs: §1.3 point 1), and for a hook entry without execArgs.
 * A hook context takes the hook path; anything else is an operation picked by `args.mode`, answered as
 * `{"output": …}` or `{"error": "<one line>"}`. A caller's mistake (no mode, an unknown mode, bad input)
 * is logged at most as a warning: it is the caller's to show, not an error of the plugin.
 */
export async function runUnnamedCommand(ctx: { dataDir: string; pluginDir: string; entryFile: string }): Promise<undefined> {
  const stdin = await readStdin();
  let json: unknown;
  try {
    json = JSON.parse(stdin.toString('utf8'));
  } catch {
    json = undefined; // parsePluginInput below says what is wrong
  }
  if (hasHookContext(json)) return runHookCommand(ctx, stdin);

  const log = createStashLogger();
  const restoreConsole = redirectConsole(log);
  try {
    let input;
    try {
      input = parsePluginInput(stdin);
    } catch (err) {
      const msg = err instanceof StashInputError ? err.message : `PlexCourier could not read its input: ${(err as Error).message}`;
      log.warn(msg);
      answer({ error: oneLine(msg) });
      return undefined;
    }
    try {
      const handler = findOperation(input.mode);
      const output = await handler({ ...ctx, connection: input.connection }, input.args);
      answer({ output: output ?? null });
    } catch (err) {
      const msg = err instanceof OperationError ? err.message : `PlexCourier operation ${input.mode} failed: ${(err as Error).message}`;
      if (!(err instanceof OperationError)) log.warn(msg);
      answer({ error: oneLine(msg) });
    }
  } finally {
    restoreConsole();
  }
  return undefined;
}
