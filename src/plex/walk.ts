/**
 * Paging through Plex's libraries (reference/plex-api.md §3.2): the full build of a section's part of
 * the path index, the incremental refresh (newest first), and the `file=` filtered listing.
 */
import type { PlexClient } from './client';
import { toRec, type IndexedFile, type IndexEntry, type PathIndex, type Rec } from './path-index';
import { listResponse, type PlexListItemJson } from './schema';
import type { PlexSection } from './sections';

export interface WalkStats {
  requests: number;
  items: number;
  /** False when paging anomalies left the walk unconfirmed after every retry. */
  complete: boolean;
}

/** Page size for list requests: PMS rejects more than 1000 (§3.2). */
export const MAX_PAGE_SIZE = 1000;


export function entryFromListItem(item: PlexListItemJson, section: PlexSection): IndexEntry {
  const files: IndexedFile[] = [];
  for (const m of item.Media ?? []) {
    for (const p of m.Part ?? []) files.push(p.size === undefined ? { file: p.file } : { file: p.file, size: p.size });
  }
  return { ratingKey: item.ratingKey, sectionId: section.key, type: section.itemType, addedAt: item.addedAt ?? 0, files };
}

/** Listing hints that shrink pages; the server may ignore them (§3.3 method A). */
const SLIM: [string, string][] = [
  ['excludeElements', 'Genre,Country,Director,Writer,Role,Collection,Label,Image,UltraBlurColors,Guid'],
  // Only ratingKey, type, addedAt and Media/Part are read: drop the rest to cut transfer and parsing.
  ['excludeFields', 'summary,tagline,title,titleSort,originalTitle,guid,key,thumb,art,studio,contentRating,year,originallyAvailableAt,updatedAt,rating,audienceRating,viewCount,lastViewedAt,duration'],
];

interface PageWalk {
  requests: number;
  firstTotal: number;
  lastTotal: number;
  /** A page did not overlap the previous one: items may have been skipped. */
  gap: boolean;
}

/**
 * Pages through one section. Loops on totalSize as the server reports it on each page, advances
 * by what was actually received (pages may be short), and stops on an empty page, so a server
 * that miscounts cannot make it loop for ever (§3.2). Each page after the first re-reads the
 * last few items of the previous one: if items were deleted before the cursor, the overlap
 * absorbs the shift; if the previous last item is not in it, `gap` says the walk may have missed
 * some. `onPage` returns false to stop early.
 */
async function walkPages(
  client: PlexClient,
  section: PlexSection,
  sort: string,
  pageSize: number,
  extra: [string, string][],
  onPage: (items: PlexListItemJson[]) => boolean,
): Promise<PageWalk> {
  const size = Math.min(MAX_PAGE_SIZE, Math.max(1, pageSize));
  let start = 0;
  let total = Number.POSITIVE_INFINITY;
  let firstTotal = -1;
  let requests = 0;
  let overlap = 0;
  let lastKey: string | undefined;
  let gap = false;
  while (start < total) {
    const from = Math.max(0, start - overlap);
    const res = await client.getJson(`/library/sections/${encodeURIComponent(section.key)}/all`, listResponse, {
      what: `listing library "${section.title}"`,
      query: [
        ['type', String(section.searchType)],
        ['sort', sort],
        ...SLIM,
        ...extra,
        ['X-Plex-Container-Start', String(from)],
        ['X-Plex-Container-Size', String(size)],
      ],
      timeoutMs: client.readTimeoutMs * 4,
    });
    requests++;
    const page = res.Metadata ?? [];
    const got = page.length;
    // Without totalSize, keep going while pages come back full.
    total = res.totalSize ?? (got >= size ? from + got + 1 : from + got);
    if (firstTotal < 0) firstTotal = total;
    if (got === 0) break;
    let fresh = page;
    if (lastKey !== undefined && overlap > 0) {
      const j = page.findIndex((it) => it.ratingKey === lastKey);
      if (j >= 0) fresh = page.slice(j + 1);
      else gap = true;
    }
    start = from + got;
    lastKey = page[got - 1]?.ratingKey;
    overlap = Math.min(20, Math.floor(got / 10));
    if (fresh.length && !onPage(fresh)) break;
  }
  return { requests, firstTotal: Math.max(firstTotal, 0), lastTotal: Number.isFinite(total) ? total : 0, gap };
}

/**
 * Full build of one section. Walks oldest first (new items land at the end, so inserts during
 * the walk do not shift pages; page overlaps absorb deletions). When a page did not overlap, the
 * total changed during the walk, or fewer unique items than the total came back (the server
 * ignored the offset, say), it walks again, up to three times, and then keeps the union.
 * Items deleted during the walk may stay until they 404 (the writer then re-validates them).
 */
export async function indexSection(
  client: PlexClient,
  index: PathIndex,
  section: PlexSection,
  pageSize = 500,
): Promise<WalkStats> {
  let requests = 0;
  const union = new Map<string, Rec>();
  let chosen: Map<string, Rec> | undefined;
  for (let attempt = 0; attempt < 3 && !chosen; attempt++) {
    const seen = new Map<string, Rec>();
    const walk = await walkPages(client, section, 'addedAt', pageSize, [], (items) => {
      for (const it of items) {
        const rec = toRec(entryFromListItem(it, section));
        if (rec) seen.set(it.ratingKey, rec);
      }
      return true;
    });
    requests += walk.requests;
    if (attempt > 0 || !(walkIsClean(walk, seen.size))) for (const [k, v] of seen) union.set(k, v);
    if (walkIsClean(walk, seen.size)) chosen = seen;
  }
  const result = chosen ?? union;
  index.dropSection(section.key);
  index.sections[section.key] = { maxAddedAt: 0, builtAt: Date.now() };
  for (const r of result.values()) index.putRec(r);
  return { requests, items: result.size, complete: chosen !== undefined };
}

function walkIsClean(walk: PageWalk, unique: number): boolean {
  return !walk.gap && walk.firstTotal === walk.lastTotal && unique >= walk.lastTotal;
}

/**
 * Incremental refresh: newest first, until items are older than the newest already indexed
 * (equal addedAt is re-read: several items can share a second). Sections never indexed get a full build.
 */
export async function refreshSection(
  client: PlexClient,
  index: PathIndex,
  section: PlexSection,
  pageSize = 200,
): Promise<WalkStats> {
  const state = index.sections[section.key];
  if (!state) return indexSection(client, index, section);
  const since = state.maxAddedAt;
  let items = 0;
  const walk = await walkPages(client, section, 'addedAt:desc', pageSize, [], (page) => {
    let older = false;
    for (const it of page) {
      if ((it.addedAt ?? 0) < since) {
        older = true;
        continue;
      }
      index.put(entryFromListItem(it, section));
      items++;
    }
    return !older;
  });
  return { requests: walk.requests, items, complete: true };
}

/** Listing filtered by `file=` (§3.3 method B): a hint that narrows; the caller checks Part.file exactly. */
export async function listByFile(client: PlexClient, section: PlexSection, plexPath: string): Promise<IndexEntry[]> {
  const out: IndexEntry[] = [];
  await walkPages(client, section, 'addedAt', 200, [['file', plexPath]], (items) => {
    for (const it of items) out.push(entryFromListItem(it, section));
    return out.length < 2000;
  });
  return out;
}
