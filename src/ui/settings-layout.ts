/**
 * The settings panel's order: what a user needs first (how to reach Plex), then what to sync, then the
 * rarer knobs, the rarest folded. Stash itself lists the keys alphabetically (stash-ui-plugins.md, "The
 * plugin's settings panel as a real Stash shows it"). Names and descriptions come from the manifest
 * (Stash passes them to the panel); a key the manifest has but this layout lacks lands in Advanced.
 */

export interface FieldLayout {
  key: string;
  /** A STRING shown masked with a reveal button. */
  secret?: boolean;
  /** A "skip_…" BOOLEAN shown the positive way round: checked = this field is synced. */
  invert?: string;
  /** A NUMBER whose 0 stands for this built-in value (src/stash/settings.ts NUMBER_DEFAULTS; a test keeps them equal). */
  number?: { fallback: number; unit: string };
}

export interface SectionLayout {
  id: string;
  title: string;
  /** Folded until opened. */
  folded?: boolean;
  intro?: string;
  fields: FieldLayout[];
}

export const SECTIONS: SectionLayout[] = [
  {
    id: 'connection',
    title: 'Connection',
    intro: 'How PlexCourier reaches your Plex server. Test connection checks these values before you rely on them.',
    fields: [{ key: 'plex_url' }, { key: 'plex_token', secret: true }, { key: 'plex_libraries' }, { key: 'path_map' }, { key: 'stash_api_key', secret: true }],
  },
  {
    id: 'fields',
    title: 'What to sync',
    intro: 'Checked fields follow Stash; unchecked ones are left as they are in Plex.',
    fields: [
      { key: 'skip_title', invert: 'Title' },
      { key: 'skip_sort_title', invert: 'Sort title' },
      { key: 'skip_summary', invert: 'Summary' },
      { key: 'skip_date', invert: 'Date' },
      { key: 'skip_studio', invert: 'Studio' },
      { key: 'skip_performers', invert: 'Performers' },
      { key: 'skip_tags', invert: 'Tags' },
      { key: 'skip_rating', invert: 'Rating' },
      { key: 'skip_poster', invert: 'Poster' },
      { key: 'skip_director', invert: 'Director' },
      { key: 'sync_background' },
      { key: 'tag_target' },
      { key: 'content_rating' },
      { key: 'studio_as_collection' },
      { key: 'groups_as_collections' },
    ],
  },
  {
    id: 'matching',
    title: 'Matching',
    fields: [{ key: 'preserve_plex_edits' }, { key: 'skip_not_found' }, { key: 'scan_not_found' }, { key: 'not_found_retry_hours', number: { fallback: 24, unit: 'hours' } }],
  },
  {
    id: 'retries',
    title: 'Retries and queue',
    fields: [
      { key: 'max_retries', number: { fallback: 12, unit: 'attempts' } },
      { key: 'concurrency', number: { fallback: 2, unit: 'scenes at a time' } },
      { key: 'dlq_retention_days', number: { fallback: 30, unit: 'days' } },
      { key: 'worker_idle_minutes', number: { fallback: 15, unit: 'minutes' } },
    ],
  },
  { id: 'plays', title: 'Plays', fields: [{ key: 'sync_plays_from_plex' }, { key: 'plex_accounts' }] },
  {
    id: 'advanced',
    title: 'Advanced',
    folded: true,
    fields: [
      { key: 'plex_connect_timeout', number: { fallback: 5, unit: 'seconds' } },
      { key: 'plex_timeout', number: { fallback: 30, unit: 'seconds' } },
      { key: 'plex_tls_insecure' },
      { key: 'plex_ca_file' },
      { key: 'debug' },
      { key: 'obfuscate_paths' },
    ],
  },
];

/** The fields a connection test sends as they are typed, saved or not (src/ops/health.ts takes only these). */
export const CONNECTION_KEYS = ['plex_url', 'plex_token', 'plex_libraries', 'path_map'] as const;
