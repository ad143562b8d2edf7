import { z } from 'zod';

/**
 * PlexCourier's settings as Stash returns them from `configuration { plugins(include: ["plexcourier"]) }`
 * (reference/stash-plugin-protocol.md §5): only the keys a user has saved, BOOLEAN as JSON bool,
 * NUMBER as a number, STRING as a string. The UI shows an unsaved boolean as off and an unsaved number
 * as 0, so every default here is false / 0 (= "the built-in default") / "". The keys are declared in
 * plugin.yml; keep the two in step (test/stash/settings.test.ts checks it).
 */

export const SETTINGS_LOCATION = 'Settings > Plugins > PlexCourier';

export class SettingsError extends Error {
  override name = 'SettingsError';
}

export type TagTarget = 'genre' | 'label';

export interface PathMapping {
  /** Prefix of the path as Stash sees the file. */
  stash: string;
  /** The same place as Plex sees it. */
  plex: string;
}

export interface FieldToggles {
  title: boolean;
  sortTitle: boolean;
  summary: boolean;
  date: boolean;
  studio: boolean;
  performers: boolean;
  tags: boolean;
  rating: boolean;
  poster: boolean;
  director: boolean;
  /** Off by default: Stash has no separate background image, the screenshot is reused. */
  background: boolean;
  /** Off by default: the studio also becomes a Plex collection. */
  studioCollection: boolean;
  /** Off by default: each Stash group becomes a Plex collection. */
  groupCollections: boolean;
}

export interface Settings {
  /** Normalised: scheme + host (+ port, path), no trailing slash. */
  plexUrl: string;
  plexToken: string;
  /** Section names or ids; empty = every movie and show library. */
  plexLibraries: string[];
  /** Applied longest prefix first. */
  pathMap: PathMapping[];
  /** Sent as `ApiKey` beside the session cookie when set (§6.2). */
  stashApiKey?: string;
  fields: FieldToggles;
  tagTarget: TagTarget;
  /** Write a field only while it is empty in Plex. */
  preservePlexEdits: boolean;
  /** A content rating given to every synced item (e.g. "X"); absent: Plex's is left alone. */
  contentRating?: string;
  /** When Plex does not have the file, finish the job quietly instead of retrying. */
  skipNotFound: boolean;
  /** When Plex does not have the file, ask Plex to scan the file's folder. */
  scanNotFound: boolean;
  /** Attempts before a job goes to the DLQ. */
  maxAttempts: number;
  /** How long a scene Plex does not have yet keeps being retried, in hours. */
  notFoundRetryHours: number;
  plexConnectTimeoutMs: number;
  plexRequestTimeoutMs: number;
  plexTlsInsecure: boolean;
  plexCaFile?: string;
  /** Jobs sent to Plex at the same time. */
  concurrency: number;
  dlqRetentionDays: number;
  workerIdleMinutes: number;
  debug: boolean;
  obfuscatePaths: boolean;
  /** Plays and resume points come back from Plex into Stash (off: no Plex history request is ever made). */
  syncPlaysFromPlex: boolean;
  /** Plex account names or ids whose plays count; empty = the server owner only. */
  plexAccounts: string[];
}

/** Built-in values that a NUMBER setting of 0 (or unsaved) stands for. */
export const NUMBER_DEFAULTS = {
  max_retries: 12,
  not_found_retry_hours: 24,
  plex_connect_timeout: 5,
  plex_timeout: 30,
  concurrency: 2,
  dlq_retention_days: 30,
  worker_idle_minutes: 15,
} as const;

const NUMBER_LIMITS: Record<keyof typeof NUMBER_DEFAULTS, { min: number; max: number; unit: string }> = {
  max_retries: { min: 1, max: 100, unit: 'attempts' },
  not_found_retry_hours: { min: 1, max: 24 * 30, unit: 'hours' },
  plex_connect_timeout: { min: 1, max: 300, unit: 'seconds' },
  plex_timeout: { min: 1, max: 3600, unit: 'seconds' },
  concurrency: { min: 1, max: 16, unit: 'jobs' },
  dlq_retention_days: { min: 1, max: 3650, unit: 'days' },
  worker_idle_minutes: { min: 1, max: 24 * 60, unit: 'minutes' },
};

/** Every BOOLEAN setting; all default to false. */
export const BOOLEAN_SETTINGS = [
  'skip_title',
  'skip_sort_title',
  'skip_summary',
  'skip_date',
  'skip_studio',
  'skip_performers',
  'skip_tags',
  'skip_rating',
  'skip_poster',
  'skip_director',
  'sync_background',
  'studio_as_collection',
  'groups_as_collections',
  'preserve_plex_edits',
  'skip_not_found',
  'scan_not_found',
  'plex_tls_insecure',
  'debug',
  'obfuscate_paths',
  'sync_plays_from_plex',
] as const;

export const STRING_SETTINGS = ['plex_url', 'plex_token', 'plex_libraries', 'path_map', 'stash_api_key', 'tag_target', 'plex_ca_file', 'content_rating', 'plex_accounts'] as const;
export const NUMBER_SETTINGS = Object.keys(NUMBER_DEFAULTS) as (keyof typeof NUMBER_DEFAULTS)[];

/** Every key plugin.yml declares, with its Stash type. */
export const SETTING_TYPES: Record<string, 'STRING' | 'NUMBER' | 'BOOLEAN'> = Object.fromEntries([
  ...STRING_SETTINGS.map((k) => [k, 'STRING'] as const),
  ...NUMBER_SETTINGS.map((k) => [k, 'NUMBER'] as const),
  ...BOOLEAN_SETTINGS.map((k) => [k, 'BOOLEAN'] as const),
]);

const DISPLAY: Record<string, string> = { plex_url: 'Plex URL', plex_token: 'Plex token' };

export interface LoadedSettings {
  settings: Settings;
  /** One line each, for the log: a bad optional setting that fell back to its default. */
  warnings: string[];
}

const rawSchema = z.record(z.string(), z.unknown());

// Booleans arrive as JSON bools from the UI; configurePlugin callers may send strings.
function readBoolean(raw: Record<string, unknown>, key: string, warnings: string[]): boolean {
  const v = raw[key];
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|1|yes|on)$/i.test(v.trim())) return true;
  if (typeof v === 'string' && /^(false|0|no|off|)$/i.test(v.trim())) return false;
  if (typeof v === 'number' && (v === 0 || v === 1)) return v === 1;
  warnings.push(`setting ${key} should be on or off but is ${JSON.stringify(v)}; using off (fix it in ${SETTINGS_LOCATION})`);
  return false;
}

function readNumber(raw: Record<string, unknown>, key: keyof typeof NUMBER_DEFAULTS, warnings: string[]): number {
  const fallback = NUMBER_DEFAULTS[key];
  const v = raw[key];
  if (v === undefined || v === null || v === '') return fallback;
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v.trim()) : Number.NaN;
  if (n === 0) return fallback; // the UI shows an unsaved number as 0
  const { min, max, unit } = NUMBER_LIMITS[key];
  if (!Number.isFinite(n) || n < min || n > max) {
    warnings.push(
      `setting ${key} is ${JSON.stringify(v)} but must be ${min}–${max} ${unit} (0 = default); using ${fallback} (fix it in ${SETTINGS_LOCATION})`,
    );
    return fallback;
  }
  return Math.round(n);
}

function readString(raw: Record<string, unknown>, key: string, warnings: string[]): string {
  const v = raw[key];
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  warnings.push(`setting ${key} should be text; ignoring it (fix it in ${SETTINGS_LOCATION})`);
  return '';
}

function required(raw: Record<string, unknown>, key: string, hint: string): string {
  const v = readString(raw, key, []);
  if (v === '') throw new SettingsError(`PlexCourier setting "${DISPLAY[key] ?? key}" (${key}) is not set: ${hint} in ${SETTINGS_LOCATION}`);
  return v;
}

/** `"/a=>/b; /c => /d"` → mappings; bad pairs are dropped with a warning. Exported for the matcher's tests. */
export function parsePathMap(text: string, warnings: string[] = []): PathMapping[] {
  const out: PathMapping[] = [];
  for (const part of text.split(';')) {
    const pair = part.trim();
    if (pair === '') continue;
    const idx = pair.indexOf('=>');
    const stash = idx < 0 ? '' : pair.slice(0, idx).trim();
    const plex = idx < 0 ? '' : pair.slice(idx + 2).trim();
    if (idx < 0 || stash === '' || plex === '' || plex.includes('=>')) {
      warnings.push(`setting path_map: "${pair}" is not STASH_PREFIX=>PLEX_PREFIX; ignoring that pair (fix it in ${SETTINGS_LOCATION})`);
      continue;
    }
    out.push({ stash, plex });
  }
  // Longest Stash prefix first, so /media/a=>… wins over /media=>….
  return out.sort((a, b) => b.stash.length - a.stash.length);
}

function normalisePlexUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SettingsError(
      `PlexCourier setting "Plex URL" (plex_url) is "${text}", which is not a URL: enter e.g. http://192.168.1.10:32400 in ${SETTINGS_LOCATION}`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SettingsError(`PlexCourier setting "Plex URL" (plex_url) must start with http:// or https://; fix it in ${SETTINGS_LOCATION}`);
  }
  if (url.search || url.hash) {
    throw new SettingsError(`PlexCourier setting "Plex URL" (plex_url) must not contain "?" or "#" (put the token in plex_token); fix it in ${SETTINGS_LOCATION}`);
  }
  return url.toString().replace(/\/+$/, '');
}

/**
 * Turns the raw settings map (`undefined` when the user never saved any) into typed settings.
 * Throws `SettingsError` (one line naming the setting and where to set it) when plex_url or
 * plex_token is missing or plex_url is not a URL; every other bad value falls back to its default
 * with a warning, so one typo never disables the plugin.
 */
export function loadSettings(raw: unknown): LoadedSettings {
  const warnings: string[] = [];
  const parsed = rawSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new SettingsError(`PlexCourier settings from Stash are not a map of values; re-save them in ${SETTINGS_LOCATION}`);
  }
  const r = parsed.data;
  const plexUrl = normalisePlexUrl(required(r, 'plex_url', 'enter your Plex server address, e.g. http://192.168.1.10:32400,'));
  const plexToken = required(r, 'plex_token', 'paste your X-Plex-Token');
  const bool = (key: (typeof BOOLEAN_SETTINGS)[number]): boolean => readBoolean(r, key, warnings);
  const num = (key: keyof typeof NUMBER_DEFAULTS): number => readNumber(r, key, warnings);

  let tagTarget: TagTarget = 'genre';
  const tagText = readString(r, 'tag_target', warnings).toLowerCase();
  if (tagText === 'labels' || tagText === 'label') tagTarget = 'label';
  else if (tagText !== '' && tagText !== 'genres' && tagText !== 'genre') {
    warnings.push(`setting tag_target is "${tagText}" but must be "genres" or "labels"; using genres (fix it in ${SETTINGS_LOCATION})`);
  }

  const libraries = readString(r, 'plex_libraries', warnings)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const apiKey = readString(r, 'stash_api_key', warnings);
  const caFile = readString(r, 'plex_ca_file', warnings);
  const contentRating = readString(r, 'content_rating', warnings);

  const settings: Settings = {
    plexUrl,
    plexToken,
    plexLibraries: [...new Set(libraries)],
    pathMap: parsePathMap(readString(r, 'path_map', warnings), warnings),
    ...(apiKey ? { stashApiKey: apiKey } : {}),
    fields: {
      title: !bool('skip_title'),
      sortTitle: !bool('skip_sort_title'),
      summary: !bool('skip_summary'),
      date: !bool('skip_date'),
      studio: !bool('skip_studio'),
      performers: !bool('skip_performers'),
      tags: !bool('skip_tags'),
      rating: !bool('skip_rating'),
      poster: !bool('skip_poster'),
      director: !bool('skip_director'),
      background: bool('sync_background'),
      studioCollection: bool('studio_as_collection'),
      groupCollections: bool('groups_as_collections'),
    },
    tagTarget,
    preservePlexEdits: bool('preserve_plex_edits'),
    ...(contentRating ? { contentRating } : {}),
    skipNotFound: bool('skip_not_found'),
    scanNotFound: bool('scan_not_found'),
    maxAttempts: num('max_retries'),
    notFoundRetryHours: num('not_found_retry_hours'),
    plexConnectTimeoutMs: num('plex_connect_timeout') * 1000,
    plexRequestTimeoutMs: num('plex_timeout') * 1000,
    plexTlsInsecure: bool('plex_tls_insecure'),
    ...(caFile ? { plexCaFile: caFile } : {}),
    concurrency: num('concurrency'),
    dlqRetentionDays: num('dlq_retention_days'),
    workerIdleMinutes: num('worker_idle_minutes'),
    debug: bool('debug'),
    obfuscatePaths: bool('obfuscate_paths'),
    syncPlaysFromPlex: bool('sync_plays_from_plex'),
    plexAccounts: [
      ...new Set(
        readString(r, 'plex_accounts', warnings)
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== ''),
      ),
    ],
  };
  if (settings.skipNotFound && settings.scanNotFound) {
    warnings.push('settings skip_not_found and scan_not_found are both on; the scan is requested once and the job is then finished quietly');
  }
  for (const key of Object.keys(r)) {
    if (!(key in SETTING_TYPES)) warnings.push(`setting ${key} is not a PlexCourier setting; ignoring it`);
  }
  return { settings, warnings };
}
