import { parseInboxFileName } from '../inbox/names';
import { parsePluginInput } from '../stash/input';
import { decideHook } from '../stash/hooks';
import type { Interpretation } from '../inbox/ingest';
import { decideEntityHook } from '../follow/events';
import type { Config } from './config';

/**
 * Hook events wait this long before they run, so a scene saved several times in a row (or edited
 * field by field) syncs once, with its final state: every later event for it lands on the same job.
 */
export const HOOK_SETTLE_MS = 2_000;

/**
 * Turns one spooled hook event into queue requests. The launcher spools stdin without reading it,
 * so this is where a malformed event is caught (it goes to inbox/bad with the reason).
 */
export function interpretEvent(
  name: string,
  bytes: Buffer,
  config: Config,
): Interpretation {
  let input;
  try {
    input = parsePluginInput(bytes);
  } catch (err) {
    return { error: (err as Error).message };
  }
  const writtenAt = parseInboxFileName(name)?.ms ?? Date.now();
  config.noteConnection(input.connection, writtenAt);
  if (!input.hook) return { error: 'the file holds no hookContext: only hook events belong in the inbox' };
  // A tag, performer, studio or group change: the worker fans it out to the scenes it touches.
  const entity = decideEntityHook(input.hook, config.mapOptionsIfKnown());
  if (entity) return { requests: [], removals: [], changes: 'changes' in entity ? entity.changes : [] };
  const decision = decideHook(input.hook, { syncRating: config.syncRating() });
  const runAt = writtenAt + HOOK_SETTLE_MS;
  return {
    requests: decision.requests.map((u) => ({ sceneId: u.sceneId, priority: u.priority, trigger: u.trigger, runAt })),
    removals: decision.removals,
  };
}
