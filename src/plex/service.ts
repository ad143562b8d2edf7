/**
 * The Plex side as the worker and the tasks see it: one object bundling the client, the
 * sections, the path index, finding, writing and scanning. Everything is lazy: the first
 * call discovers the server and the sections and loads (or builds) the index.
 *
 * Worker usage:
 *   const plex = new PlexService({ url, token, clientIdFile, indexFile, libraries, pathMap });
 *   const refs = await plex.findItems(scene.files[0].path, scene.files[0].size); // PlexError not_found → plex.requestScan(path)
 *   const results = await plex.applyDesiredBatch(refs.map((ref) => ({ ref, desired, opts })));
 *   await plex.close(); // saves the index
 * Call `refreshIndex()` now and then (e.g. before a sync_all) to pick up new items in one request per section.
 */
import { PlexClient, type PlexClientOptions } from './client';
import type { DesiredItem } from './desired';
import { PlexError, isPlexError } from './errors';
import { findByPlexPath, findItems, type FinderDeps } from './find';
import { PathIndex, indexSection, refreshSection, type WalkStats } from './index';
import { baseName, dirName, mapPath, parsePathMap, type PathMap } from './paths';
import { ScanScheduler } from './scan';
import { rootResponse } from './schema';
import { fetchSections, parseLibraries, sectionsForPath, selectSections, type PlexSection } from './sections';
import { PlexWriter, type ApplyEntry, type ApplyOptions, type ApplyResult, type PlexItemRef } from './write';

export interface PlexServiceOptions extends PlexClientOptions {
  /** The persisted path index (src/paths.ts `plexIndexFile`). */
  indexFile: string;
  /** `plex_libraries`: names (or a comma list); empty = every movie and TV library. */
  libraries?: string | readonly string[];
  /** `path_map`: `STASH=>PLEX; …` or parsed rules. */
  pathMap?: string | PathMap;
  /** Debounce of partial scans per folder. Default 90 s. */
  scanDebounceMs?: number;
  /** Above this URL length the summary is sent in its own PUT. Default 7000. */
  maxUrlBytes?: number;
  /** A file Plex lacks makes the libraries be listed again, at most this often. Default 60 s. */
  sectionsRecheckMs?: number;
}

export interface PlexHealth {
  reachable: boolean;
  tokenValid: boolean;
  serverName?: string;
  version?: string;
  platform?: string;
  machineIdentifier?: string;
  /** The libraries PlexCourier will use. */
  libraries: { key: string; title: string; type: 'movie' | 'show'; locations: string[] }[];
  /** Items in the path index. */
  indexedItems?: number;
  /** The first problem found, one line, with what to do. */
  problem?: { kind: PlexError['kind']; message: string };
}

export interface IndexStats {
  sections: number;
  items: number;
  requests: number;
  complete: boolean;
}

interface Ready {
  sections: PlexSection[];
  index: PathIndex;
  caseInsensitive: boolean;
}

export class PlexService {
  readonly client: PlexClient;
  private readonly opts: PlexServiceOptions;
  private readonly pathMap: PathMap;
  private readonly libraries: string[];
  private readonly writer: PlexWriter;
  private readonly scans: ScanScheduler;
  private state: Promise<Ready> | undefined;
  private sectionsCheckedAt = 0;

  /** Throws PlexError('bad_request') at once for a malformed plex_url or path_map. */
  constructor(opts: PlexServiceOptions) {
    this.opts = opts;
    this.client = new PlexClient(opts);
    this.pathMap = typeof opts.pathMap === 'string' || opts.pathMap === undefined ? parsePathMap(opts.pathMap) : opts.pathMap;
    this.libraries = typeof opts.libraries === 'string' || opts.libraries === undefined ? parseLibraries(opts.libraries) : [...opts.libraries];
    const writerOpts: ConstructorParameters<typeof PlexWriter>[1] = { relocate: (ref) => this.relocate(ref) };
    if (opts.maxUrlBytes !== undefined) writerOpts.maxUrlBytes = opts.maxUrlBytes;
    this.writer = new PlexWriter(this.client, writerOpts);
    this.scans = new ScanScheduler(this.client, opts.scanDebounceMs === undefined ? {} : { debounceMs: opts.scanDebounceMs });
  }

  private ready(): Promise<Ready> {
    this.state ??= this.init().catch((e) => {
      this.state = undefined; // let the next call try again (Plex may be back)
      throw e;
    });
    return this.state;
  }

  private async init(): Promise<Ready> {
    const root = await this.client.getJson('/', rootResponse, { what: 'reading the Plex server identity' });
    // A Windows server compares paths case-insensitively (§3.3 "Path comparison rules").
    const caseInsensitive = /windows/i.test(root.platform ?? '');
    const sections = selectSections(await fetchSections(this.client), this.libraries);
    const index = await PathIndex.load(this.opts.indexFile, caseInsensitive);
    const ready: Ready = { sections, index, caseInsensitive };
    this.sectionsCheckedAt = Date.now();
    let built = false;
    for (const id of index.sectionIds()) {
      if (!sections.some((s) => s.key === id)) {
        index.dropSection(id);
        built = true;
      }
    }
    for (const s of sections) {
      if (!index.sections[s.key]) {
        await indexSection(this.client, index, s);
        built = true;
      }
    }
    if (built) await index.save();
    return ready;
  }

  private async deps(): Promise<FinderDeps> {
    const r = await this.ready();
    return { client: this.client, index: r.index, sections: r.sections, pathMap: this.pathMap, caseInsensitive: r.caseInsensitive };
  }

  /** The libraries in use (after `plex_libraries`). */
  async sections(): Promise<PlexSection[]> {
    return (await this.ready()).sections;
  }

  /** The Plex path a Stash path maps to. */
  plexPathFor(stashPath: string): string {
    return mapPath(stashPath, this.pathMap);
  }

  /**
   * The item(s) showing this Stash file: several when one file is in two libraries.
   * Throws PlexError not_found (not in Plex yet) or ambiguous (several files share the name).
   */
  async findItems(stashPath: string, size?: number): Promise<PlexItemRef[]> {
    try {
      return await findItems(await this.deps(), stashPath, size);
    } catch (err) {
      // The file may sit in a library created (or a folder added) since the libraries were last listed.
      if (!isPlexError(err) || err.kind !== 'not_found' || Date.now() - this.sectionsCheckedAt < (this.opts.sectionsRecheckMs ?? 60_000)) throw err;
      if ((await this.checkSections()).changed === 0) throw err;
      return findItems(await this.deps(), stashPath, size);
    }
  }

  /**
   * Lists Plex's libraries again (one small request) and indexes each that is new or whose folders changed;
   * a library that is gone is forgotten. Returns how many libraries changed and how many items were indexed.
   */
  async checkSections(): Promise<{ changed: number; items: number }> {
    const r = await this.ready();
    const now = selectSections(await fetchSections(this.client), this.libraries);
    this.sectionsCheckedAt = Date.now();
    let changed = 0;
    let items = 0;
    for (const s of now) {
      const before = r.sections.find((x) => x.key === s.key);
      if (before && r.index.sections[s.key] && before.locations.join('\0') === s.locations.join('\0')) continue;
      items += (await indexSection(this.client, r.index, s)).items;
      changed++;
    }
    for (const id of r.index.sectionIds()) {
      if (now.some((s) => s.key === id)) continue;
      r.index.dropSection(id);
      changed++;
    }
    r.sections = now;
    if (changed > 0) await r.index.save();
    return { changed, items };
  }

  /**
   * Whether the path index already knows an item for this Stash file, by its mapped path or by a
   * unique file name — without a request (Reconcile and Health call refreshIndex first).
   */
  async isIndexed(stashPath: string): Promise<boolean> {
    const r = await this.ready();
    const plexPath = this.plexPathFor(stashPath);
    if (r.index.lookup(plexPath).length > 0) return true;
    return r.index.lookupBasename(baseName(plexPath)).length === 1;
  }

  async applyDesired(ref: PlexItemRef, desired: DesiredItem, opts: ApplyOptions = {}): Promise<ApplyResult> {
    await this.ready();
    return this.writer.applyDesired(ref, desired, opts);
  }

  /** One GET for all items, each item's PUT (and uploads), one GET to verify; per-entry results. */
  async applyDesiredBatch(entries: readonly ApplyEntry[]): Promise<(ApplyResult | PlexError)[]> {
    await this.ready();
    return this.writer.applyDesiredBatch(entries);
  }

  /** A 404 on an indexed item: forget it and find the file again once (§7). */
  private async relocate(ref: PlexItemRef): Promise<PlexItemRef> {
    const d = await this.deps();
    d.index.remove(ref.ratingKey);
    const refs = await findByPlexPath(d, ref.file);
    const same = refs.filter((r) => r.sectionId === ref.sectionId);
    const pick = same.length === 1 ? same[0] : refs.length === 1 ? refs[0] : undefined;
    if (!pick) {
      throw new PlexError('ambiguous', `Plex item ${ref.ratingKey} vanished and ${refs.length} items now hold ${ref.file}`, { plexPath: ref.file });
    }
    return pick;
  }

  /**
   * Asks Plex to scan the folder of a file it does not know yet, in every library whose folders
   * contain it; debounced per folder. Returns the sections asked (empty when debounced).
   */
  async requestScan(stashPath: string): Promise<{ folder: string; sectionIds: string[] }> {
    const r = await this.ready();
    const plexPath = this.plexPathFor(stashPath);
    const folder = dirName(plexPath);
    const targets = sectionsForPath(r.sections, plexPath, r.caseInsensitive);
    if (!targets.length) {
      const locs = r.sections.flatMap((s) => s.locations).join(', ') || 'none';
      throw new PlexError(
        'bad_request',
        `${plexPath} is under none of the Plex library folders (${locs}): add the folder to a Plex library or fix path_map`,
        { plexPath },
      );
    }
    const sectionIds: string[] = [];
    for (const s of targets) if (await this.scans.scanFolder(s.key, folder)) sectionIds.push(s.key);
    return { folder, sectionIds };
  }

  /** Re-walks every section from scratch (the rebuild_index task). */
  async rebuildIndex(): Promise<IndexStats> {
    const r = await this.ready();
    return this.walkAll(r, (s) => indexSection(this.client, r.index, s));
  }

  /** Picks up items added since the last walk, newest first: about one request per section. */
  async refreshIndex(): Promise<IndexStats> {
    const r = await this.ready();
    return this.walkAll(r, (s) => refreshSection(this.client, r.index, s));
  }

  private async walkAll(r: Ready, walk: (s: PlexSection) => Promise<WalkStats>): Promise<IndexStats> {
    const stats: IndexStats = { sections: r.sections.length, items: 0, requests: 0, complete: true };
    for (const s of r.sections) {
      const w = await walk(s);
      stats.items += w.items;
      stats.requests += w.requests;
      stats.complete &&= w.complete;
    }
    await r.index.save();
    return stats;
  }

  /** Reachable, token valid, server name/version/platform, libraries found (the health task). */
  async health(): Promise<PlexHealth> {
    const h: PlexHealth = { reachable: false, tokenValid: false, libraries: [] };
    try {
      // /identity needs no token: it proves reachability only (§1).
      await this.client.request('GET', '/identity', { what: 'checking that Plex is reachable' });
      h.reachable = true;
      const root = await this.client.getJson('/', rootResponse, { what: 'reading the Plex server identity' });
      h.tokenValid = true;
      if (root.friendlyName !== undefined) h.serverName = root.friendlyName;
      if (root.version !== undefined) h.version = root.version;
      if (root.platform !== undefined) h.platform = root.platform;
      if (root.machineIdentifier !== undefined) h.machineIdentifier = root.machineIdentifier;
      const sections = selectSections(await fetchSections(this.client), this.libraries);
      h.libraries = sections.map((s) => ({ key: s.key, title: s.title, type: s.sectionType, locations: s.locations }));
      if (!sections.length) {
        h.problem = { kind: 'bad_request', message: 'Plex has no movie or TV library: create one that contains the Stash folders' };
      }
      if (this.state) h.indexedItems = (await this.state).index.size;
    } catch (e) {
      const err = isPlexError(e) ? e : new PlexError('invalid_response', String(e));
      if (err.kind === 'server' || err.kind === 'invalid_response') h.reachable = h.reachable || err.status !== undefined;
      h.problem = { kind: err.kind, message: err.message };
    }
    return h;
  }

  /** Saves the index (if loaded) and closes idle connections. */
  async close(): Promise<void> {
    if (this.state) {
      try {
        await (await this.state).index.save();
      } catch {
        // Not loaded (Plex was down): nothing to save.
      }
    }
    this.client.close();
  }
}
