import type { DesiredItem } from '../plex/desired';
import type { StashScene } from '../stash/scene';
import { cleanLine, cleanNames, cleanText, LIMITS } from './sanitize';

/**
 * Which Stash fields reach Plex, and how. A field switched off is absent from the desired item
 * (Plex keeps whatever it has); a field switched on is Stash's value, and an empty Stash value
 * clears Plex (`null` or `[]`): Stash is the source of truth, so a tag removed in Stash is removed
 * in Plex (Stash2Plex never removed anything, stash2plex-inventory.md §6.2.4).
 */
export interface MapOptions {
  /** Title, falling back to the file name as Stash shows it. Never cleared. */
  title: boolean;
  /**
   * Plex sort title. 'off': leave it to Plex (which ignores leading articles); 'title': the title;
   * 'date_title': "YYYY-MM-DD title", so alphabetical order is release order. Stash scenes have no
   * sort title of their own.
   */
  sortTitle: 'off' | 'title' | 'date_title';
  /** Details → summary. */
  summary: boolean;
  /** Date → originally available at, and its year. */
  date: boolean;
  /** Studio → Plex studio ('studio'), or the parent studio when there is one ('parent', a "network"). */
  studio: 'off' | 'studio' | 'parent';
  /** Performers → actors. */
  performers: boolean;
  /** Append " (disambiguation)" so two performers sharing a name stay two actors. */
  performerDisambiguation: boolean;
  /** Tags → genres or labels (episodes have no genres: plex-api.md §4.2), or not at all. */
  tags: 'off' | 'genre' | 'label';
  /** Director → the director tag. */
  director: boolean;
  /** rating100 → the user rating, 0–10. */
  rating: boolean;
  /** Tagline source: 'code' puts the studio code there (Stash2Plex's tagline had no source, §6.2.2). */
  tagline: 'off' | 'code';
  /** A fixed content rating for every item (e.g. "X"), since Stash has none; '' leaves Plex's alone. */
  contentRating: string;
  /** The studio as a collection. */
  studioCollection: boolean;
  /** The parent studio as a collection too. */
  parentStudioCollection: boolean;
  /** Each group (Stash's former "movies") as a collection. */
  groupCollections: boolean;
  /** Caps (Stash2Plex's `max_tags` and §3.5 limits). */
  maxTags: number;
  maxPerformers: number;
  maxCollections: number;
}

export const DEFAULT_MAP_OPTIONS: Readonly<MapOptions> = Object.freeze({
  title: true,
  sortTitle: 'off',
  summary: true,
  date: true,
  studio: 'studio',
  performers: true,
  performerDisambiguation: false,
  tags: 'genre',
  director: true,
  rating: true,
  tagline: 'off',
  contentRating: '',
  studioCollection: false,
  parentStudioCollection: false,
  groupCollections: false,
  maxTags: LIMITS.tags,
  maxPerformers: LIMITS.performers,
  maxCollections: LIMITS.collections,
});

/** The title Stash shows for a scene: its title, else its first file's name without the extension. */
export function displayTitle(scene: Pick<StashScene, 'title' | 'files'>): { title: string; fromFile: boolean } {
  const title = cleanLine(scene.title, LIMITS.title);
  if (title) return { title, fromFile: false };
  const file = scene.files[0];
  if (!file) return { title: '', fromFile: true };
  const name = file.basename || file.path.split(/[\\/]/).pop() || '';
  const dot = name.lastIndexOf('.');
  return { title: cleanLine(dot > 0 ? name.slice(0, dot) : name, LIMITS.title), fromFile: true };
}

/** `YYYY-MM-DD` that is a real calendar day, else null. */
export function parseStashDate(value: string | null | undefined): { date: string; year: number } | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value?.trim() ?? '');
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d) return null;
  return { date: `${m[1]}-${m[2]}-${m[3]}`, year: y };
}

/** The desired Plex state of a scene. Images are the worker's (it fetches the screenshot bytes). */
export function mapScene(scene: StashScene, opts: MapOptions): DesiredItem {
  const item: DesiredItem = { scalars: {}, tags: {} };
  const { scalars, tags } = item;
  const shown = displayTitle(scene);
  const date = parseStashDate(scene.date);

  // An empty title is never written: Plex would show a blank row (Stash2Plex never clears it either, §3.4).
  if (opts.title && shown.title) scalars.title = shown.title;

  if (opts.sortTitle !== 'off' && shown.title) {
    const sort = opts.sortTitle === 'date_title' && date ? `${date.date} ${shown.title}` : shown.title;
    scalars.titleSort = cleanLine(sort, LIMITS.title);
  }

  if (opts.summary) scalars.summary = cleanText(scene.details, LIMITS.summary) || null;

  if (opts.date) {
    if (date) {
      scalars.originallyAvailableAt = date.date;
      scalars.year = date.year;
    } else if (!scene.date?.trim()) {
      scalars.originallyAvailableAt = null;
      scalars.year = null;
    }
    // A date Stash sent but we cannot read is left alone rather than wiping Plex's.
  }

  if (opts.studio !== 'off') {
    const studio = opts.studio === 'parent' ? (scene.studio?.parent_studio ?? scene.studio) : scene.studio;
    scalars.studio = cleanLine(studio?.name, LIMITS.studio) || null;
  }

  if (opts.tagline === 'code') scalars.tagline = cleanLine(scene.code, LIMITS.tagline) || null;

  const contentRating = cleanLine(opts.contentRating, LIMITS.contentRating);
  if (contentRating) scalars.contentRating = contentRating;

  if (opts.performers) {
    const names = scene.performers.map((p) => {
      const d = opts.performerDisambiguation ? cleanLine(p.disambiguation, LIMITS.tagName) : '';
      return d ? `${p.name} (${d})` : p.name;
    });
    tags.actor = cleanNames(names, opts.maxPerformers);
  }

  if (opts.tags !== 'off') {
    tags[opts.tags] = cleanNames(
      scene.tags.map((t) => t.name),
      opts.maxTags,
    );
  }

  if (opts.director) tags.director = cleanNames([scene.director], 1);

  if (opts.studioCollection || opts.parentStudioCollection || opts.groupCollections) {
    const names: (string | undefined)[] = [];
    if (opts.studioCollection) names.push(scene.studio?.name);
    if (opts.parentStudioCollection) names.push(scene.studio?.parent_studio?.name);
    if (opts.groupCollections) names.push(...scene.groups.map((g) => g.group.name));
    tags.collection = cleanNames(names, opts.maxCollections);
  }

  if (opts.rating) {
    const r = scene.rating100;
    // Stash rates 1–100, Plex 0–10 with halves shown as stars; keep one decimal.
    item.userRating = r === null || r === undefined ? null : Math.round(Math.min(Math.max(r, 0), 100)) / 10;
  }

  return item;
}
