import { z } from 'zod';
import type { HookEvent } from '../stash/input';
import type { MapOptions } from '../sync/map';

/**
 * Changes to the things scenes point at — tags, performers, studios, groups — as hook events deliver
 * them. Renames, merges and deletions fire no Scene hook and leave the scenes' `updated_at` alone
 * (issue 17; reference/stash-plugin-protocol.md §4.1), so the worker fans each one out to the scenes
 * it touches (src/follow/fanout.ts).
 */
export const ENTITIES = ['tag', 'performer', 'studio', 'group'] as const;
export type Entity = (typeof ENTITIES)[number];

export const EntityChangeSchema = z.object({
  entity: z.enum(ENTITIES),
  /** update: a rename or another edit; merge: other tags were merged into this one; destroy: it is gone. */
  op: z.enum(['update', 'merge', 'destroy']),
  id: z.string().min(1),
  /** The Stash trigger, for job records and logs. */
  trigger: z.string(),
});
export type EntityChange = z.infer<typeof EntityChangeSchema>;

const TRIGGER = /^(Tag|Performer|Studio|Group|Movie)\.(Update|Merge|Destroy)\.Post$/;
const ENTITY_OF: Record<string, Entity> = { Tag: 'tag', Performer: 'performer', Studio: 'studio', Group: 'group', Movie: 'group' };

/**
 * The input fields that can change what Plex shows for a scene. Anything else (a description, an
 * image, aliases, a favourite flag) queues nothing. A bulk update's keys (`ids`, `tag_ids`...) are
 * not listed, so a bulk edit of performers' tags costs nothing either.
 */
function shownFields(entity: Entity, opts: MapOptions): string[] {
  switch (entity) {
    case 'tag':
      return opts.tags === 'off' ? [] : ['name'];
    case 'performer':
      return !opts.performers ? [] : opts.performerDisambiguation ? ['name', 'disambiguation'] : ['name'];
    case 'studio': {
      const fields: string[] = [];
      if (opts.studio !== 'off' || opts.studioCollection || opts.parentStudioCollection) fields.push('name');
      // The parent's name shows for 'parent' studios and parent collections (src/sync/map.ts).
      if (opts.studio === 'parent' || opts.parentStudioCollection) fields.push('parent_id');
      return fields;
    }
    case 'group':
      return opts.groupCollections ? ['name'] : [];
  }
}

/** Whether anything of this kind is synced at all: with tags off, deleting a tag changes nothing in Plex. */
function entityShown(entity: Entity, opts: MapOptions): boolean {
  if (entity === 'studio') return opts.studio !== 'off' || opts.studioCollection || opts.parentStudioCollection;
  return shownFields(entity, opts).length > 0;
}

function idOf(v: unknown): string | undefined {
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isInteger(v) && v > 0) return String(v);
  return undefined;
}

export type EntityDecision = { changes: EntityChange[] } | { ignored: string };

/**
 * What a tag/performer/studio/group hook asks of the worker, or undefined for any other event.
 * `opts` undefined (settings not read yet): every change counts, so none is lost.
 */
export function decideEntityHook(event: HookEvent, opts: MapOptions | undefined): EntityDecision | undefined {
  if (event.kind !== 'other') return undefined;
  const m = TRIGGER.exec(event.trigger);
  if (!m) return undefined;
  const entity = ENTITY_OF[m[1]!]!;
  const op = m[2] === 'Merge' ? 'merge' : m[2] === 'Destroy' ? 'destroy' : 'update';
  const input = event.input && typeof event.input === 'object' && !Array.isArray(event.input) ? (event.input as Record<string, unknown>) : {};
  // hookContext.id names the entity (the destination of a merge); bulk destroys without one list `ids`.
  const ids = event.id ? [event.id] : [idOf(input.id), idOf(input.destination), ...(Array.isArray(input.ids) ? input.ids.map(idOf) : Array.isArray(event.input) ? event.input.map(idOf) : [])].filter((x): x is string => !!x);
  if (ids.length === 0) return { ignored: `${event.trigger} names no ${entity}` };
  if (opts && !entityShown(entity, opts)) return { ignored: `${event.trigger}: ${entity}s are not synced to Plex` };
  if (op === 'update' && opts) {
    const shown = shownFields(entity, opts);
    // inputFields lists the keys the client sent (§4.2); without it, assume the worst.
    if (event.fields && !event.fields.some((f) => shown.includes(f))) {
      return { ignored: `${event.trigger} ${entity} ${ids.join(', ')}: only ${event.fields.filter((f) => f !== 'id').join(', ') || 'no fields'} changed, which Plex does not show` };
    }
  }
  return { changes: [...new Set(ids)].map((id) => ({ entity, op, id, trigger: event.trigger })) };
}
