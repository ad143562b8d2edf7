import type { MapOptions } from './map';

/*
 * Which Scene.Update.Post events can change Plex, from the hook's `inputFields` (the keys the
 * client actually sent: reference/stash-plugin-protocol.md §4.2). The worker drops the rest, so
 * a play-count or resume-time update (Stash fires Update for those from some clients) costs no
 * Stash query and no Plex request. Unknown keys count as relevant: a new Stash field must not be
 * silently ignored.
 */

type Rule = boolean | ((o: MapOptions) => boolean);

const FIELD_RULES: Readonly<Record<string, Rule>> = {
  id: false,
  ids: false,
  clientMutationId: false,
  resume_time: false,
  play_duration: false,
  play_count: false,
  o_counter: false,
  gallery_ids: false,
  urls: false,
  url: false,
  title: (o) => o.title || o.sortTitle !== 'off',
  code: (o) => o.tagline === 'code',
  details: (o) => o.summary,
  director: (o) => o.director,
  date: (o) => o.date || o.sortTitle === 'date_title',
  rating100: (o) => o.rating,
  rating: (o) => o.rating,
  studio_id: (o) => o.studio !== 'off' || o.studioCollection || o.parentStudioCollection,
  performer_ids: (o) => o.performers,
  tag_ids: (o) => o.tags !== 'off',
  groups: (o) => o.groupCollections,
  movies: (o) => o.groupCollections,
  group_ids: (o) => o.groupCollections,
  // These change what the quality gate lets through, the poster, or which Plex item matches.
  organized: true,
  stash_ids: true,
  cover_image: true,
  primary_file_id: true,
};

/**
 * True when an update with these `inputFields` may change the Plex item. No fields at all
 * (a create, a scan, a null input) means "cannot tell": relevant.
 */
export function updateAffectsPlex(inputFields: readonly string[] | null | undefined, opts: MapOptions): boolean {
  if (!inputFields || inputFields.length === 0) return true;
  return inputFields.some((field) => {
    if (!Object.prototype.hasOwnProperty.call(FIELD_RULES, field)) return true;
    const rule = FIELD_RULES[field];
    return typeof rule === 'function' ? rule(opts) : rule === true;
  });
}
