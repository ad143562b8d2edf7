/**
 * The path index: every file of every relevant section → its Plex item, so finding an item for a
 * Stash scene costs no request (reference/plex-api.md §3.3 method A). It is built and refreshed by
 * paging the sections (src/plex/walk.ts), persisted to one file (src/plex/index-file.ts), and
 * corrected lazily when an item 404s.
 */
import { readIndexFile, writeIndexFile } from './index-file';
import { baseName, normalizePath } from './paths';
import type { ItemType } from './sections';

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

  /** Loads the persisted index (src/plex/index-file.ts); a missing, corrupt or differently-cased file gives an empty one (rebuilt later). */
  static async load(file: string, caseInsensitive = false): Promise<PathIndex> {
    const index = new PathIndex(file, caseInsensitive);
    const read = await readIndexFile(file, caseInsensitive, {
      sections: (s) => (index.sections = s),
      put: (entry) => index.put(entry),
    });
    return read ? index : new PathIndex(file, caseInsensitive);
  }

  /** Writes the index whole and durably (src/plex/index-file.ts). */
  async save(): Promise<void> {
    await writeIndexFile(this.file, this.caseInsensitive, this.sections, this.entries.values());
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

