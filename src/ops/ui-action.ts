import { SYNC_ERROR_CLASSES } from '../sync/errors';
import type { CommandBody } from '../worker/commands';
import { askWorker, sceneIdArg } from './ask';
import { OperationError, type OperationHandler } from './index';
import type { UiActionResult } from './ui-types';

const ACTIONS = ['retry', 'remove', 'retry_class', 'retry_all', 'sync_scene', 'process_queue', 'clear_dlq'] as const;
type Action = (typeof ACTIONS)[number];

function needScene(action: Action, args: Record<string, unknown>): string {
  const id = sceneIdArg(args);
  if (!id) throw new OperationError(`ui_action ${action} needs scene_id, a Stash scene id such as "42"; got ${JSON.stringify(args.scene_id ?? null)}`);
  return id;
}

/** The worker command an action sends; bad arguments are an OperationError of one line. */
export function commandFor(action: Action, args: Record<string, unknown>): CommandBody {
  switch (action) {
    case 'retry':
      return { name: 'redrive', sceneIds: [needScene(action, args)] };
    case 'remove':
      return { name: 'dlq_remove', sceneIds: [needScene(action, args)] };
    case 'retry_class': {
      const cls = typeof args.class === 'string' ? args.class : '';
      if (!(SYNC_ERROR_CLASSES as readonly string[]).includes(cls)) {
        throw new OperationError(`ui_action retry_class needs class, one of: ${SYNC_ERROR_CLASSES.join(', ')}; got ${JSON.stringify(args.class ?? null)}`);
      }
      return { name: 'redrive', errorClass: cls };
    }
    case 'retry_all':
      return { name: 'redrive' };
    case 'sync_scene':
      // The user asked for it: first in line, and written even if nothing changed since the last sync.
      return { name: 'enqueue', sceneIds: [needScene(action, args)], priority: 0, trigger: 'Sync to Plex now (Stash page)', force: true };
    case 'process_queue':
      return { name: 'process_queue' };
    case 'clear_dlq':
      return { name: 'clear_dlq' };
  }
}

/**
 * `ui_action`: the page's buttons. Each goes through the worker's command path, as the tasks do, and
 * starts a worker when none runs; the answer is the worker's one-line message and its figures.
 */
export const uiActionOperation: OperationHandler = async (ctx, args): Promise<UiActionResult> => {
  const action = args.action;
  if (typeof action !== 'string' || !(ACTIONS as readonly string[]).includes(action)) {
    throw new OperationError(`ui_action needs action, one of: ${ACTIONS.join(', ')}; got ${JSON.stringify(action ?? null)}`);
  }
  const cmd = commandFor(action as Action, args);
  const r = await askWorker(ctx, cmd, 60_000);
  if (typeof r === 'string') throw new OperationError(`the PlexCourier worker did not answer within a minute; see plexcourier.log in ${ctx.dataDir}`);
  if (!r.ok) throw new OperationError(r.message);
  return { action, message: r.message, ...(r.data ?? {}) };
};
