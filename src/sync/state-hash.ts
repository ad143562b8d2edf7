import { createHash } from 'node:crypto';
import type { DesiredItem } from '../plex/desired';
import type { MapOptions } from './map';

/*
 * A digest of what a sync would make Plex show, so a scene whose digest equals the one stored
 * after its last successful write costs no Plex request (Sync All and Reconcile skip it unless
 * forced). It covers the mapped fields, the images by hash (never their bytes), the mapping
 * options (switching a field on must resync everything once) and whether the write was fill-only.
 * The format is versioned: changing what goes in changes `VERSION`, which resyncs every scene once.
 */
const VERSION = 'plexcourier-state-v1';

// Plex keeps no order for these (plex-api.md §4.3), so Stash reordering them is not a change.
// Actors keep their order: it is the billing order Plex shows.
const UNORDERED_TAGS = new Set(['genre', 'label', 'collection', 'director']);

export interface StateHashExtras {
  /** The writer only filled empty Plex fields (quality gate or preserve Plex edits). */
  fillOnly?: boolean;
  /**
   * Image identities to use instead of `item.poster.sha256` / `item.art.sha256` (`null`: no image).
   * The caller must use the same kind of identity when writing and when comparing.
   */
  poster?: string | null;
  art?: string | null;
}

export function stateHash(item: DesiredItem, options: MapOptions, extras: StateHashExtras = {}): string {
  const tags: Record<string, string[]> = {};
  for (const [field, list] of Object.entries(item.tags)) {
    if (!list) continue;
    tags[field] = UNORDERED_TAGS.has(field) ? [...list].sort() : [...list];
  }
  const doc = {
    v: VERSION,
    scalars: item.scalars,
    tags,
    userRating: item.userRating,
    poster: extras.poster !== undefined ? extras.poster : (item.poster?.sha256 ?? null),
    art: extras.art !== undefined ? extras.art : (item.art?.sha256 ?? null),
    fillOnly: extras.fillOnly ?? false,
  };
  return createHash('sha256').update(canonicalJson(doc)).update('\0').update(optionsJson(options)).digest('hex');
}

// Sync All hashes tens of thousands of scenes with one options object: encode it once.
const optionsCache = new WeakMap<MapOptions, string>();
function optionsJson(options: MapOptions): string {
  let json = optionsCache.get(options);
  if (json === undefined) {
    json = canonicalJson(options);
    // Options objects are treated as immutable; a frozen one cannot change behind the cache.
    if (Object.isFrozen(options)) optionsCache.set(options, json);
  }
  return json;
}

/** JSON with object keys sorted at every level and `undefined` members left out, so equal data gives equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) return 'null';
    return value === undefined ? 'null' : JSON.stringify(value);
  }
  if (Buffer.isBuffer(value)) throw new TypeError('canonicalJson: image bytes do not belong in the state hash; pass their sha256');
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
