import type { ServerConnection } from '../stash/input';
import { statusOperation } from './status';
import { uiStatusOperation } from './ui-status';

/**
 * Operations: what a page in Stash's UI asks through `runPluginOperation(plugin_id: "plexcourier", args)`.
 * Stash starts the plugin with no mode word and `args` on stdin only (reference/stash-plugin-protocol.md
 * §1.3 point 1, §5); `args.mode` picks the handler here. A handler's answer becomes the plugin's `output`
 * (a JSON object the caller gets back); a thrown error becomes one line of `error`, which Stash turns into a
 * GraphQL error for the caller (§3.1).
 *
 * To add one: write `src/ops/<name>.ts` exporting an `OperationHandler`, and list it in OPERATIONS below.
 * The caller waits for the answer, and Stash kills the process when the page drops the request, so a
 * handler must be cheap: read status.json, ask the worker through a command file, or ask Stash. It must
 * never open the LevelDB store while a worker owns it (opening it would make this process the worker).
 */
export interface OperationContext {
  /** The data directory (status.json, inbox, store). */
  dataDir: string;
  /** The installed plugin folder (where plexcourier.yml lives). */
  pluginDir: string;
  /** The running bundle, for starting a worker from it. */
  entryFile: string;
  /** Stash's server_connection for this run (address and session cookie; never log the cookie). */
  connection: ServerConnection;
}

/** `args` are the caller's args without `mode`, as Stash passed them (any JSON values). */
export type OperationHandler = (ctx: OperationContext, args: Record<string, unknown>) => Promise<unknown>;

/** An error whose message is meant for the caller as is (a bad argument, say): one line, no stack. */
export class OperationError extends Error {
  override name = 'OperationError';
}

/** mode → handler. Keep the keys in step with ARCHITECTURE.md ("Operations"). */
export const OPERATIONS: Readonly<Record<string, OperationHandler>> = {
  status: statusOperation,
  ui_status: uiStatusOperation,
  // Loaded only when asked: each start of Node pays for every module it initialises (the worker's command
  // schemas, the Plex client), and each operation is a fresh process.
  ui_scene: async (ctx, args) => (await import('./ui-scene')).uiSceneOperation(ctx, args),
  ui_action: async (ctx, args) => (await import('./ui-action')).uiActionOperation(ctx, args),
  health: async (ctx, args) => (await import('./health')).healthOperation(ctx, args),
};

export function knownOperationModes(): string[] {
  return Object.keys(OPERATIONS);
}

/** The handler for `mode`, or an OperationError naming the known modes. */
export function findOperation(mode: string | undefined): OperationHandler {
  const known = knownOperationModes().join(', ');
  if (mode === undefined) throw new OperationError(`PlexCourier operation needs args.mode; known modes: ${known}`);
  const handler = Object.hasOwn(OPERATIONS, mode) ? OPERATIONS[mode] : undefined;
  if (!handler) throw new OperationError(`PlexCourier has no operation "${mode}"; known modes: ${known}`);
  return handler;
}
