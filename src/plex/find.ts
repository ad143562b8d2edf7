/**
 * Finding the Plex item(s) for a file (reference/plex-api.md §3.3): the path index first;
 * on a miss the `file=` filter, checking Part.file exactly; then a unique basename match
 * (case-insensitive) with the file size as tie-break. Several candidates is a permanent
 * error that lists them: never pick the first. One file in two sections gives both items.
 */
import type { PlexClient } from './client';
import { PlexError } from './errors';
import { listByFile, type IndexEntry, type PathIndex } from './index';
import { baseName, mapPath, normalizePath, samePath, type PathMap } from './paths';
import { sectionsForPath, type PlexSection } from './sections';
import type { PlexItemRef } from './write';

export interface FinderDeps {
  client: PlexClient;
  index: PathIndex;
  sections: readonly PlexSection[];
  pathMap: PathMap;
  /** True when the Plex server runs on Windows: paths compare case-insensitively. */
  caseInsensitive: boolean;
}

export async function findItems(deps: FinderDeps, stashPath: string, size?: number): Promise<PlexItemRef[]> {
  return findByPlexPath(deps, mapPath(stashPath, deps.pathMap), size, stashPath);
}

export async function findByPlexPath(
  deps: FinderDeps,
  plexPath: string,
  size?: number,
  stashPath?: string,
): Promise<PlexItemRef[]> {
  const { index, sections, caseInsensitive } = deps;
  const selected = new Set(sections.map((s) => s.key));
  const exact = (entries: IndexEntry[]) =>
    entries.filter((e) => selected.has(e.sectionId)).flatMap((e) => refsAt(e, plexPath, caseInsensitive));

  const hit = exact(index.lookup(plexPath));
  if (hit.length) return hit;

  // Miss: ask Plex with the file= filter, a hint that narrows; Part.file is compared exactly (§3.3 method B).
  const likely = sectionsForPath(sections, plexPath, caseInsensitive);
  const ask = likely.length ? likely : sections;
  for (const s of ask) {
    for (const e of await listByFile(deps.client, s, plexPath)) index.put(e);
  }
  const found = exact(index.lookup(plexPath));
  if (found.length) return found;

  // Basename fallback: unique, case-insensitive, size breaks ties.
  const name = baseName(plexPath);
  let candidates = index.lookupBasename(name).filter((c) => selected.has(c.entry.sectionId));
  if (!candidates.length) {
    for (const s of sections) for (const e of await listByFile(deps.client, s, name)) index.put(e);
    candidates = index.lookupBasename(name).filter((c) => selected.has(c.entry.sectionId));
  }
  const byFile = new Map<string, typeof candidates>();
  for (const c of candidates) {
    const k = normalizePath(c.file.file, caseInsensitive);
    byFile.set(k, [...(byFile.get(k) ?? []), c]);
  }
  let groups = [...byFile.values()];
  if (groups.length > 1 && size !== undefined) {
    const sized = groups.filter((g) => g.some((c) => c.file.size === size));
    if (sized.length) groups = sized;
  }
  if (groups.length === 1 && groups[0]) {
    return groups[0].map((c) => ({ ratingKey: c.entry.ratingKey, sectionId: c.entry.sectionId, type: c.entry.type, file: c.file.file }));
  }
  const what = stashPath && stashPath !== plexPath ? `${stashPath} (Plex path ${plexPath})` : plexPath;
  if (groups.length > 1) {
    const list = groups.flat().map((c) => ({ ratingKey: c.entry.ratingKey, sectionId: c.entry.sectionId, file: c.file.file }));
    const shown = list.slice(0, 10).map((c) => `${c.ratingKey} ${c.file}`).join('; ');
    throw new PlexError(
      'ambiguous',
      `${what} is not in Plex under that path and ${list.length} Plex items share its file name: ${shown}${list.length > 10 ? '; …' : ''}. Fix path_map so the full path matches`,
      { plexPath, candidates: list },
    );
  }
  throw new PlexError(
    'not_found',
    `${what} is not in Plex yet (no item has that file in the selected libraries): wait for a Plex scan, or check path_map and plex_libraries`,
    { plexPath },
  );
}

function refsAt(e: IndexEntry, plexPath: string, ci: boolean): PlexItemRef[] {
  const f = e.files.find((x) => samePath(x.file, plexPath, ci));
  return f ? [{ ratingKey: e.ratingKey, sectionId: e.sectionId, type: e.type, file: f.file }] : [];
}

/**
 * Two Stash scenes resolving to one Plex item overwrite each other on alternate syncs
 * (§3.3 "Many-to-one"). The worker keeps ratingKey → sceneId; given that map, this returns
 * the items of `refs` already claimed by another scene (empty: no conflict).
 */
export function sharedItemConflicts(
  claims: ReadonlyMap<string, string>,
  sceneId: string,
  refs: readonly PlexItemRef[],
): { ratingKey: string; otherSceneId: string; file: string }[] {
  const out: { ratingKey: string; otherSceneId: string; file: string }[] = [];
  for (const r of refs) {
    const other = claims.get(r.ratingKey);
    if (other !== undefined && other !== sceneId) out.push({ ratingKey: r.ratingKey, otherSceneId: other, file: r.file });
  }
  return out;
}
