/**
 * What a Plex item should show: the contract between the sync mapping (src/sync/map.ts),
 * which builds it from a Stash scene, and the Plex writer (src/plex/), which diffs it
 * against the item and sends only what differs. It is item-type agnostic: the writer maps
 * it onto movies or episodes (episodes have no studio, tagline or genre; genres become labels).
 */
export type ScalarField =
  | 'title'
  | 'titleSort'
  | 'summary'
  | 'originallyAvailableAt' // YYYY-MM-DD
  | 'year'
  | 'studio'
  | 'tagline'
  | 'contentRating';

export type TagField = 'actor' | 'genre' | 'label' | 'collection' | 'director';

export interface ImageSource {
  /** sha256 of `bytes`, hex; compared with the hash of the last upload. */
  sha256: string;
  bytes: Buffer;
  contentType: string;
}

export interface DesiredItem {
  /** Absent key: leave the Plex field alone. `null` or '': clear it (Stash is the source of truth). */
  scalars: Partial<Record<ScalarField, string | number | null>>;
  /** Absent key: leave the tag field alone. A list, possibly empty: make Plex show exactly that. */
  tags: Partial<Record<TagField, string[]>>;
  /** 0–10, `null` clears the rating; absent: leave it alone. */
  userRating?: number | null;
  poster?: ImageSource;
  art?: ImageSource;
}
