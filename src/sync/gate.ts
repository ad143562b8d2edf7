import type { DesiredItem, ScalarField, TagField } from '../plex/desired';
import type { StashScene } from '../stash/scene';
import { displayTitle } from './map';

/*
 * The quality gate: a scene that is not identified yet must not wipe good Plex metadata.
 * Stash2Plex learnt this in v1.2.3, when hooks fired while stash-box identification was still
 * filling the scene and empty values cleared Plex (stash2plex-inventory.md §3.2 step 6, §6.1).
 * Stash2Plex then skipped such scenes entirely; we still fill what Plex lacks, so a freshly
 * scanned scene with a rating or a content rating gets it, and nothing is ever cleared.
 *
 * Rules, in order:
 * 1. `organized` in Stash: the user says the scene is done → full sync, clears included.
 * 2. Any identifying metadata (a real title, details, studio, performers, tags, date, director,
 *    studio code, groups or a stash-box id) → full sync.
 * 3. Otherwise (just scanned) → fill only: clearing values and the title made from the file name
 *    are dropped, and the writer only fills fields that are empty in Plex.
 * `preservePlexEdits` (the user's setting) turns any sync into fill only, rules 1–2 included.
 */

export interface GateOptions {
  /** Keep what the user edited in Plex: only fill fields that are empty there. */
  preservePlexEdits: boolean;
}

export interface GateResult {
  /** What to apply. */
  item: DesiredItem;
  /** The writer must only set fields that are empty in Plex (and never clear any). */
  fillOnly: boolean;
  /** One line for the log: which rule applied and why. */
  reason: string;
}

/** The identifying fields the scene has, in a stable order (empty: not identified yet). */
export function identifyingFields(scene: StashScene): string[] {
  const present: string[] = [];
  if (!displayTitle(scene).fromFile) present.push('title');
  if (scene.details?.trim()) present.push('details');
  if (scene.studio) present.push('studio');
  if (scene.performers.length > 0) present.push('performers');
  if (scene.tags.length > 0) present.push('tags');
  if (scene.date?.trim()) present.push('date');
  if (scene.director?.trim()) present.push('director');
  if (scene.code?.trim()) present.push('code');
  if (scene.groups.length > 0) present.push('groups');
  if (scene.stash_ids.length > 0) present.push('stash_ids');
  return present;
}

export function qualityGate(scene: StashScene, item: DesiredItem, opts: GateOptions): GateResult {
  const fields = identifyingFields(scene);
  if (scene.organized || fields.length > 0) {
    const why = scene.organized ? 'organized in Stash' : `identified (${fields.join(', ')})`;
    if (!opts.preservePlexEdits) return { item, fillOnly: false, reason: `full sync: ${why}` };
    return { item: withoutClears(item, false), fillOnly: true, reason: `fill only: preserve Plex edits is on; ${why}` };
  }
  return {
    item: withoutClears(item, true),
    fillOnly: true,
    reason: 'fill only: not identified yet (no title, details, studio, performers, tags, date or stash-box id), so nothing in Plex is cleared',
  };
}

/** A copy without the values that would clear Plex; optionally without the file-name title too. */
function withoutClears(item: DesiredItem, dropTitle: boolean): DesiredItem {
  const out: DesiredItem = { scalars: {}, tags: {} };
  for (const [key, value] of Object.entries(item.scalars) as [ScalarField, string | number | null | undefined][]) {
    if (value === null || value === undefined || value === '') continue;
    if (dropTitle && (key === 'title' || key === 'titleSort')) continue;
    out.scalars[key] = value;
  }
  for (const [key, value] of Object.entries(item.tags) as [TagField, string[] | undefined][]) {
    if (value && value.length > 0) out.tags[key] = [...value];
  }
  if (item.userRating !== null && item.userRating !== undefined) out.userRating = item.userRating;
  if (item.poster) out.poster = item.poster;
  if (item.art) out.art = item.art;
  return out;
}
