/**
 * Library sections: which ones PlexCourier works on and what item type each holds
 * (reference/plex-api.md §2). Movie sections, including "Other Videos"/Personal Media, hold
 * items of search type 1; TV sections hold episodes, type 4. Music and photo sections are ignored.
 */
import type { PlexClient } from './client';
import { PlexError } from './errors';
import { isUnder } from './paths';
import { sectionsResponse, type PlexSectionJson } from './schema';

export type ItemType = 'movie' | 'episode';

export interface PlexSection {
  key: string;
  title: string;
  /** The section type as Plex reports it. */
  sectionType: 'movie' | 'show';
  /** The items that carry files: movies (search type 1) or episodes (search type 4). */
  itemType: ItemType;
  searchType: 1 | 4;
  locations: string[];
}

export const SEARCH_TYPE: Record<ItemType, 1 | 4> = { movie: 1, episode: 4 };

/** Parses `plex_libraries`: a comma list, empty meaning every video library. */
export function parseLibraries(s: string | undefined | null): string[] {
  if (!s) return [];
  return s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}

/**
 * Keeps the video sections, restricted to `libraries` when given (names compared
 * case-insensitively, as plexapi does). Unknown names are an error naming what exists.
 */
export function selectSections(all: readonly PlexSectionJson[], libraries: readonly string[] = []): PlexSection[] {
  const video: PlexSection[] = [];
  for (const d of all) {
    if (d.type !== 'movie' && d.type !== 'show') continue;
    const itemType: ItemType = d.type === 'movie' ? 'movie' : 'episode';
    video.push({
      key: d.key,
      title: d.title,
      sectionType: d.type,
      itemType,
      searchType: SEARCH_TYPE[itemType],
      locations: d.Location.map((l) => l.path),
    });
  }
  if (!libraries.length) return video;
  const wanted = libraries.map((l) => l.toLowerCase());
  const unknown = libraries.filter((l) => !video.some((s) => s.title.toLowerCase() === l.toLowerCase()));
  if (unknown.length) {
    const existing = video.map((s) => `"${s.title}"`).join(', ') || 'none';
    throw new PlexError(
      'bad_request',
      `plex_libraries names ${unknown.map((u) => `"${u}"`).join(', ')} but Plex has no such movie or TV library; the video libraries are: ${existing}`,
    );
  }
  return video.filter((s) => wanted.includes(s.title.toLowerCase()));
}

/** Sections whose locations contain the Plex path, longest location first (§2 "Choosing the section"). */
export function sectionsForPath(sections: readonly PlexSection[], plexPath: string, caseInsensitive: boolean): PlexSection[] {
  const scored: { s: PlexSection; len: number }[] = [];
  for (const s of sections) {
    let best = -1;
    for (const loc of s.locations) if (isUnder(plexPath, loc, caseInsensitive) && loc.length > best) best = loc.length;
    if (best >= 0) scored.push({ s, len: best });
  }
  return scored.sort((a, b) => b.len - a.len).map((x) => x.s);
}

export async function fetchSections(client: PlexClient): Promise<PlexSectionJson[]> {
  const res = await client.getJson('/library/sections', sectionsResponse, { what: 'listing the Plex libraries' });
  return res.Directory;
}
