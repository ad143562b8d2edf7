/**
 * The edit diff, pure: what must change on one Plex item to make it show the desired state,
 * and the query of the one PUT that does it (reference/plex-api.md §4).
 */
import type { DesiredItem, ScalarField, TagField } from './desired';
import { tagRemovalValue } from './query';
import type { PlexItemJson } from './schema';
import type { ItemType } from './sections';

export const SCALAR_FIELDS: readonly ScalarField[] = [
  'title',
  'titleSort',
  'summary',
  'originallyAvailableAt',
  'year',
  'studio',
  'tagline',
  'contentRating',
];
export const TAG_FIELDS: readonly TagField[] = ['actor', 'genre', 'label', 'collection', 'director'];

/** The JSON list each tag edit prefix changes (§4.3, §4.4: `actor` edits Role[]). */
export const TAG_JSON_KEY = {
  actor: 'Role',
  genre: 'Genre',
  label: 'Label',
  collection: 'Collection',
  director: 'Director',
} as const satisfies Record<TagField, keyof PlexItemJson>;

/** Fields episodes do not have: they belong to the show (§4.2 "Which item types accept which fields"). */
const EPISODE_DROPPED_SCALARS: readonly ScalarField[] = ['studio', 'tagline'];

export interface CurrentItem {
  ratingKey: string;
  type: ItemType;
  scalars: Partial<Record<ScalarField, string>>;
  tags: Record<TagField, string[]>;
  /** Locked field names (Plex lists only locked fields in Field[], §3.1). */
  locks: Set<string>;
  userRating?: number;
}

export interface TagEdit {
  field: TagField;
  /** The whole desired list, sent indexed 0..n-1: correct whether PMS adds or replaces (§4.3). */
  set: string[];
  /** Current names not desired, sent in the double-encoded removal form. */
  remove: string[];
}

export interface EditPlan {
  values: { field: ScalarField; value: string }[];
  tags: TagEdit[];
  /** Fields already right but not locked: lock them so an agent refresh cannot undo them. */
  locks: string[];
  /** undefined: leave alone; null: clear; else 0–10. */
  userRating?: number | null;
  /** Human-readable field names whose value changes, for ApplyResult.changedFields. */
  changedFields: string[];
  warnings: string[];
}

export interface PlanOptions {
  /** Only fill fields that are empty in Plex, keeping edits made there. */
  fillEmptyOnly?: boolean;
}

export function currentFromJson(item: PlexItemJson): CurrentItem {
  const scalars: Partial<Record<ScalarField, string>> = {};
  for (const f of SCALAR_FIELDS) {
    const v = item[f];
    if (v !== undefined && v !== null && String(v) !== '') scalars[f] = String(v);
  }
  const tags = {} as Record<TagField, string[]>;
  for (const f of TAG_FIELDS) tags[f] = item[TAG_JSON_KEY[f]].map((t) => t.tag);
  const cur: CurrentItem = {
    ratingKey: item.ratingKey,
    type: item.type === 'episode' ? 'episode' : 'movie',
    scalars,
    tags,
    locks: new Set(item.Field.filter((f) => f.locked !== false).map((f) => f.name)),
  };
  if (item.userRating !== undefined) cur.userRating = item.userRating;
  return cur;
}

/** Trimmed, non-empty, de-duplicated case-insensitively (first spelling wins). */
export function cleanTagList(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const n of names) {
    const t = n.normalize('NFC').trim();
    if (!t || seen.has(t.toLowerCase())) continue;
    seen.add(t.toLowerCase());
    out.push(t);
  }
  return out;
}

/** The desired state as this item type can hold it: episodes drop studio/tagline; genres become labels. */
export function desiredForType(desired: DesiredItem, type: ItemType): DesiredItem {
  if (type !== 'episode') return desired;
  const scalars = { ...desired.scalars };
  for (const f of EPISODE_DROPPED_SCALARS) delete scalars[f];
  const tags = { ...desired.tags };
  if (tags.genre !== undefined) {
    tags.label = cleanTagList([...(tags.label ?? []), ...tags.genre]);
    delete tags.genre;
  }
  return { ...desired, scalars, tags };
}

function desiredScalar(v: string | number | null | undefined): string {
  return v === null || v === undefined ? '' : String(v).normalize('NFC');
}

export function planEdit(current: CurrentItem, desiredIn: DesiredItem, opts: PlanOptions = {}): EditPlan {
  const desired = desiredForType(desiredIn, current.type);
  const plan: EditPlan = { values: [], tags: [], locks: [], changedFields: [], warnings: [] };
  for (const f of SCALAR_FIELDS) {
    if (!(f in desired.scalars)) continue;
    const want = desiredScalar(desired.scalars[f]);
    const have = current.scalars[f] ?? '';
    if (f === 'originallyAvailableAt' && want && !/^\d{4}-\d{2}-\d{2}$/.test(want)) {
      plan.warnings.push(`date "${want}" is not YYYY-MM-DD; the Plex date was left alone`);
      continue;
    }
    if (f === 'year' && want && !/^\d{4}$/.test(want)) {
      plan.warnings.push(`year "${want}" is not a 4-digit year; the Plex year was left alone`);
      continue;
    }
    if (opts.fillEmptyOnly && have !== '') continue;
    if (want !== have) {
      plan.values.push({ field: f, value: want });
      plan.changedFields.push(f);
    } else if (!opts.fillEmptyOnly && !current.locks.has(f)) {
      plan.locks.push(f);
    }
  }
  for (const f of TAG_FIELDS) {
    const list = desired.tags[f];
    if (list === undefined) continue;
    const want = cleanTagList(list);
    const have = current.tags[f];
    if (opts.fillEmptyOnly && have.length) continue;
    // Compared case-insensitively: PMS keeps one tag per name regardless of case.
    const wantLower = new Set(want.map((n) => n.toLowerCase()));
    const haveLower = new Set(have.map((n) => n.toLowerCase()));
    const missing = want.some((n) => !haveLower.has(n.toLowerCase()));
    const remove = have.filter((n) => !wantLower.has(n.toLowerCase()));
    if (missing || remove.length) {
      plan.tags.push({ field: f, set: want, remove });
      plan.changedFields.push(f);
    } else if (!opts.fillEmptyOnly && !current.locks.has(f)) {
      plan.locks.push(f);
    }
  }
  if (desired.userRating !== undefined) {
    const want = desired.userRating;
    const have = current.userRating;
    const differs = want === null ? have !== undefined && have >= 0 : have === undefined || Math.abs(have - want) > 0.01;
    if (differs && !(opts.fillEmptyOnly && have !== undefined)) {
      plan.userRating = want;
      plan.changedFields.push('userRating');
    }
  }
  return plan;
}

/** True when the plan needs the edit PUT (a rating alone goes through /:/rate). */
export function needsEdit(plan: EditPlan): boolean {
  return plan.values.length > 0 || plan.tags.length > 0 || plan.locks.length > 0;
}

/**
 * The query of the edit PUT on /library/sections/{sid}/all: `type` and `id` first, then every
 * changed scalar as `.value` with `.locked=1` (PMS does not reliably auto-lock, §4.2), every
 * changed tag list in full plus removals, the field locked (§4.3).
 */
export function editQuery(
  plan: Pick<EditPlan, 'values' | 'tags' | 'locks'>,
  ratingKey: string,
  searchType: 1 | 4,
): [string, string][] {
  const q: [string, string][] = [
    ['type', String(searchType)],
    ['id', ratingKey],
  ];
  for (const v of plan.values) q.push([`${v.field}.value`, v.value], [`${v.field}.locked`, '1']);
  for (const t of plan.tags) {
    t.set.forEach((name, i) => q.push([`${t.field}[${i}].tag.tag`, name]));
    if (t.remove.length) q.push([`${t.field}[].tag.tag-`, tagRemovalValue(t.remove)]);
    q.push([`${t.field}.locked`, '1']);
  }
  for (const f of plan.locks) q.push([`${f}.locked`, '1']);
  return q;
}
