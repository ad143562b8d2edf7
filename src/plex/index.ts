/**
 * The path index: every file of every relevant section → its Plex item, so finding an item
 * for a Stash scene costs no request (reference/plex-api.md §3.3 method A). Built by paging
 * the sections, refreshed incrementally (newest addedAt first), persisted compactly to one
 * file written atomically, and corrected lazily when an item 404s.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { PlexClient } from './client';
import { baseName, normalizePath } from './paths';
import { listResponse, type PlexListItemJson } from './schema';
import type { ItemType, PlexSection } from './sections';

export interface IndexedFile {
  file: string;
  size?: number;
}

export interface IndexEntry {
  ratingKey: string;
  sectionId: string;
  type: ItemType;
  addedAt: number;
  files: IndexedFile[];
}

export interface WalkStats {
  requests: number;
  items: number;
  /** False when paging anomalies left the walk unconfirmed after every retry. */
  complete: boolean;
}

/** Page size for list requests: PMS rejects more than 1000 (§3.2). */
export const MAX_PAGE_SIZE = 1000;
const FORMAT_VERSION = 1;

type StoredEntry = [string, string, 1 | 4, number, [string, number | null][]];
interface StoredIndex {
  v: number;
  ci: boolean;
  sections: Record<string, { maxAddedAt: number; builtAt: number }>;
  items: StoredEntry[];
}

/**
 * One item as held in memory: flat fields, no per-item arrays for the usual single file, so a
 * 100k-item library stays around 25 MB of heap (an object graph per item was twice that).
 */
export class Rec {
  constructor(
    readonly rk: string,
    readonly sid: string,
    readonly t: 1 | 4,
    readonly added: number,
    readonly file: string,
    /** -1: unknown. */
    readonly size: number,
    /** Further parts (stacked cd1/cd2, several versions), rare. */
    readonly more: IndexedFile[] | undefined,
  ) {}

  files(): IndexedFile[] {
    const first: IndexedFile = this.size < 0 ? { file: this.file } : { file: this.file, size: this.size };
    return this.more ? [first, ...this.more] : [first];
  }

  entry(): IndexEntry {
    return { ratingKey: this.rk, sectionId: this.sid, type: this.t === 4 ? 'episode' : 'movie', addedAt: this.added, files: this.files() };
  }
}

/** 32-bit FNV-1a: basenames are keyed by hash (no second string per item); hits are checked exactly. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class PathIndex {
  private readonly entries = new Map<string, Rec>();
  // One ratingKey per key is the rule; an array only when a file is in several items.
  private readonly byPath = new Map<string, Keys>();
  private readonly byBase = new Map<number, Keys>();
  /** Per section: the newest addedAt seen (the incremental refresh stops below it) and when it was built. */
  sections: Record<string, { maxAddedAt: number; builtAt: number }> = {};

  constructor(
    readonly file: string,
    readonly caseInsensitive = false,
  ) {}

  /** Loads the persisted index; a missing, corrupt or differently-cased file gives an empty one (rebuilt later). */
  static async load(file: string, caseInsensitive = false): Promise<PathIndex> {
    const index = new PathIndex(file, caseInsensitive);
    let raw: string;
    try {
      raw = await fs.readFile(file, 'utf8');
    } catch {
      return index;
    }
    try {
      const stored = JSON.parse(raw) as StoredIndex;
      if (stored.v !== FORMAT_VERSION || stored.ci !== caseInsensitive || !Array.isArray(stored.items)) return index;
      index.sections = stored.sections ?? {};
      for (const [ratingKey, sectionId, t, addedAt, files] of stored.items) {
        index.put({
          ratingKey,
          sectionId,
          type: t === 4 ? 'episode' : 'movie',
          addedAt,
          files: files.map(([file, size]) => (size === null ? { file } : { file, size })),
        });
      }
    } catch {
      return new PathIndex(file, caseInsensitive);
    }
    return index;
  }

  /**
   * Writes the index atomically (tmp + fsync + rename), so a crash never leaves half a file.
   * Streams it in chunks: one JSON.stringify of 100k items would briefly cost tens of MB.
   */
  async save(): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    const fh = await fs.open(tmp, 'w', 0o600);
    try {
      const head = JSON.stringify({ v: FORMAT_VERSION, ci: this.caseInsensitive, sections: this.sections });
      await fh.write(`${head.slice(0, -1)},"items":[`);
      let chunk: StoredEntry[] = [];
      let first = true;
      const flush = async () => {
        if (!chunk.length) return;
        const text = JSON.stringify(chunk).slice(1, -1);
        await fh.write(first ? text : `,${text}`);
        first = false;
        chunk = [];
      };
      for (const r of this.entries.values()) {
        chunk.push([r.rk, r.sid, r.t, r.added, r.files().map((f) => [f.file, f.size ?? null])]);
        if (chunk.length >= 2000) await flush();
      }
      await flush();
      await fh.write(']}');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, this.file);
  }

  get size(): number {
    return this.entries.size;
  }

  get(ratingKey: string): IndexEntry | undefined {
    return this.entries.get(ratingKey)?.entry();
  }

  /** Items with a Part at exactly this Plex path (normalised; case-insensitive on a Windows server). */
  lookup(plexPath: string): IndexEntry[] {
    return this.resolve(this.byPath.get(normalizePath(plexPath, this.caseInsensitive)));
  }

  /** Items with a Part of this basename, compared case-insensitively (§3.3 fallback). */
  lookupBasename(name: string): { entry: IndexEntry; file: IndexedFile }[] {
    const want = name.normalize('NFC').toLowerCase();
    const out: { entry: IndexEntry; file: IndexedFile }[] = [];
    for (const e of this.resolve(this.byBase.get(hash(want)))) {
      for (const f of e.files) if (baseName(f.file).toLowerCase() === want) out.push({ entry: e, file: f });
    }
    return out;
  }

  put(entry: IndexEntry): void {
    const rec = toRec(entry);
    if (rec) this.putRec(rec);
  }

  /** Adds a compact record (see toRec): the walk keeps records, not entries, to halve its peak memory. */
  putRec(rec: Rec): void {
    this.remove(rec.rk);
    this.entries.set(rec.rk, rec);
    addTo(this.byPath, normalizePath(rec.file, this.caseInsensitive), rec.rk);
    addTo(this.byBase, hash(baseName(rec.file).toLowerCase()), rec.rk);
    for (const f of rec.more ?? []) {
      addTo(this.byPath, normalizePath(f.file, this.caseInsensitive), rec.rk);
      addTo(this.byBase, hash(baseName(f.file).toLowerCase()), rec.rk);
    }
    const s = this.sections[rec.sid];
    if (s && rec.added > s.maxAddedAt) s.maxAddedAt = rec.added;
  }

  remove(ratingKey: string): void {
    const old = this.entries.get(ratingKey);
    if (!old) return;
    this.entries.delete(ratingKey);
    for (const f of old.files()) {
      removeFrom(this.byPath, normalizePath(f.file, this.caseInsensitive), ratingKey);
      removeFrom(this.byBase, hash(baseName(f.file).toLowerCase()), ratingKey);
    }
  }

  /** Drops every entry of the section (before a rebuild, or when it is no longer selected). */
  dropSection(sectionId: string): void {
    for (const r of [...this.entries.values()]) if (r.sid === sectionId) this.remove(r.rk);
    delete this.sections[sectionId];
  }

  sectionIds(): string[] {
    return Object.keys(this.sections);
  }

  private resolve(keys: Keys | undefined): IndexEntry[] {
    if (keys === undefined) return [];
    const out: IndexEntry[] = [];
    for (const k of typeof keys === 'string' ? [keys] : keys) {
      const r = this.entries.get(k);
      if (r) out.push(r.entry());
    }
    return out;
  }
}

type Keys = string | string[];

/** The compact form of an entry; undefined for an item without a file (it cannot be found by path). */
export function toRec(entry: IndexEntry): Rec | undefined {
  const [first, ...more] = entry.files;
  if (!first) return undefined;
  return new Rec(
    entry.ratingKey,
    entry.sectionId,
    entry.type === 'episode' ? 4 : 1,
    entry.addedAt,
    first.file,
    first.size ?? -1,
    more.length ? more : undefined,
  );
}

function addTo<K>(map: Map<K, Keys>, key: K, rk: string): void {
  const have = map.get(key);
  if (have === undefined) map.set(key, rk);
  else if (typeof have === 'string') {
    if (have !== rk) map.set(key, [have, rk]);
  } else if (!have.includes(rk)) have.push(rk);
}

function removeFrom<K>(map: Map<K, Keys>, key: K, rk: string): void {
  const have = map.get(key);
  if (have === undefined) return;
  if (typeof have === 'string') {
    if (have === rk) map.delete(key);
    return;
  }
  const rest = have.filter((k) => k !== rk);
  if (!rest.length) map.delete(key);
  else map.set(key, rest.length === 1 ? rest[0]! : rest);
}

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
