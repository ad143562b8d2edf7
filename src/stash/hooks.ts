import { PRIORITY, type Priority } from '../queue/types';
import type { HookEvent } from './input';

/**
 * What a hook event means for the queue. Pure: the worker calls it for every spooled event.
 *
 * Priorities (lower runs first):
 * - 0 user edits: a single `sceneUpdate` or a `scenesUpdate` element — someone is looking at Plex
 *   waiting for it. An identify run sends the same SceneUpdateInput shape (§4.2 of
 *   reference/stash-plugin-protocol.md) and cannot be told apart, so it lands here too.
 * - 1 other hook events: a created scene, a scan that touched a file.
 * - 2 bulk edits (`bulkSceneUpdate`): many scenes at once, nobody waits on one of them.
 */
export { PRIORITY, type Priority };

export interface HookRequest {
  sceneId: string;
  priority: Priority;
  /** The Stash trigger and mutation kind, e.g. `Scene.Update.Post/update`, for logs and job records. */
  trigger: string;
}

export interface HookDecision {
  requests: HookRequest[];
  /** Scenes whose queued work and Plex mapping are to be dropped. */
  removals: string[];
  /** Why nothing is to be done, for a debug log line. */
  ignored?: string;
}

export interface HookPolicy {
  /** Rating sync on (settings.fields.rating): a rating100 change then matters. */
  syncRating: boolean;
}

/**
 * Input fields that never change what Plex shows: activity counters and bookkeeping. Anything not
 * listed here counts as relevant, so a field Stash adds later is synced rather than silently missed.
 */
const IRRELEVANT_FIELDS = new Set([
  'id',
  'ids',
  'clientMutationId',
  'o_counter',
  'play_count',
  'play_duration',
  'resume_time',
  'gallery_ids',
]);

function relevantFields(fields: string[] | undefined, policy: HookPolicy): string[] | undefined {
  if (fields === undefined) return undefined;
  return fields.filter((f) => !IRRELEVANT_FIELDS.has(f) && (f !== 'rating100' || policy.syncRating));
}

/**
 * Decides which scenes a hook event queues or removes.
 *
 * Bulk events (`bulkSceneUpdate`, `scenesDestroy`) fire once per scene with the SAME input listing every
 * id, one process after another (§4.2). The event for the first listed scene (or one without a
 * hookContext.id) takes every id, once; the others take only their own. So the whole edit costs about 2N
 * queue writes rather than N², and a bulk edit whose later hooks never run (client disconnect, §4.5)
 * still reaches every scene.
 */
export function decideHook(event: HookEvent, policy: HookPolicy): HookDecision {
  const none = (ignored: string): HookDecision => ({ requests: [], removals: [], ignored });
  const tag = `${event.trigger}/${event.kind}`;
  switch (event.kind) {
    case 'other':
      return none(`${event.trigger} events do not change Plex`);
    case 'create':
      return { requests: [{ sceneId: event.sceneId, priority: PRIORITY.hookEvent, trigger: tag }], removals: [] };
    case 'scan':
      return { requests: [{ sceneId: event.sceneId, priority: PRIORITY.hookEvent, trigger: tag }], removals: [] };
    case 'update':
    case 'updateMany': {
      const relevant = relevantFields(event.fields, policy);
      if (relevant !== undefined && relevant.length === 0) {
        return none(`scene ${event.sceneId}: only ${event.fields?.join(', ') || 'no fields'} changed, which Plex does not show`);
      }
      return { requests: [{ sceneId: event.sceneId, priority: PRIORITY.userEdit, trigger: tag }], removals: [] };
    }
    case 'bulkUpdate': {
      const relevant = relevantFields(event.fields, policy);
      if (relevant !== undefined && relevant.length === 0) {
        return none(`bulk edit changed only ${event.fields?.join(', ') || 'no fields'}, which Plex does not show`);
      }
      const ids = bulkIds(event.sceneId, event.sceneIds);
      return { requests: ids.map((sceneId) => ({ sceneId, priority: PRIORITY.bulk, trigger: tag })), removals: [] };
    }
    case 'destroy':
      return { requests: [], removals: bulkIds(event.sceneId, event.sceneIds) };
  }
}

function bulkIds(own: string | undefined, listed: string[]): string[] {
  if (own === undefined || listed.length === 0) return own === undefined ? [...new Set(listed)] : [own];
  if (listed[0] === own || !listed.includes(own)) return [...new Set([own, ...listed])];
  return [own];
}
