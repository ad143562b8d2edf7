import { dataPaths } from '../paths';
import { writeInboxFile } from '../inbox/write';
import { parsePluginInput, StashInputError } from '../stash/input';

export interface NodeHookResult {
  /** The one object to print on stdout (reference/stash-plugin-protocol.md §3.1). */
  json: { output?: unknown; error?: string };
  exitCode: number;
}

/**
 * The Node fallback of the sh launcher's hook path: check that stdin is an event Stash really sends,
 * then spool the bytes unchanged into the inbox for the worker. Nothing else: no LevelDB, no network,
 * no relevance filtering (the worker does that), because the user's Save waits for us (§4.3).
 *
 * An invalid event is never spooled; it gets one clear error line instead. The raw bytes are spooled
 * rather than a re-serialisation so that the worker sees exactly what the launcher would have written.
 */
export async function runNodeHook(stdin: Buffer, dataDir: string): Promise<NodeHookResult> {
  let event: string;
  try {
    const input = parsePluginInput(stdin);
    if (!input.hook) {
      return {
        json: { error: 'PlexCourier hook started without args.hookContext; hooks must come from Stash (check execArgs in plexcourier.yml)' },
        exitCode: 1,
      };
    }
    event = input.hook.kind === 'other' ? input.hook.trigger : `${input.hook.trigger} scene ${'sceneId' in input.hook ? (input.hook.sceneId ?? '?') : '?'}`;
  } catch (err) {
    const msg = err instanceof StashInputError ? err.message : `PlexCourier could not read its input: ${(err as Error).message}`;
    return { json: { error: msg }, exitCode: 1 };
  }
  try {
    const name = await writeInboxFile(dataPaths(dataDir).inbox, 'event', stdin);
    return { json: { output: `queued ${event} (${name})` }, exitCode: 0 };
  } catch (err) {
    return { json: { error: `PlexCourier could not queue the hook event: ${(err as Error).message}` }, exitCode: 1 };
  }
}
