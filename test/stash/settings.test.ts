import { describe, expect, it } from 'vitest';
import { loadSettings, NUMBER_DEFAULTS, parsePathMap, SettingsError } from '../../src/stash/settings';

const required = { plex_url: 'http://192.168.1.10:32400/', plex_token: 'abcdefghij' };

function errorOf(raw: unknown): Error {
  try {
    loadSettings(raw);
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected loadSettings to throw');
}

describe('settings defaults', () => {
  it('with only the required keys saved, every field syncs and every number takes its built-in default', () => {
    const { settings, warnings } = loadSettings(required);
    expect(warnings).toEqual([]);
    expect(settings.plexUrl).toBe('http://192.168.1.10:32400');
    expect(settings.plexLibraries).toEqual([]);
    expect(settings.pathMap).toEqual([]);
    expect(settings.stashApiKey).toBeUndefined();
    expect(Object.entries(settings.fields).filter(([, on]) => on).map(([k]) => k).sort()).toEqual(
      ['date', 'director', 'performers', 'poster', 'rating', 'sortTitle', 'studio', 'summary', 'tags', 'title'].sort(),
    );
    expect(settings).toMatchObject({
      tagTarget: 'genre',
      preservePlexEdits: false,
      skipNotFound: false,
      scanNotFound: false,
      maxAttempts: NUMBER_DEFAULTS.max_retries,
      notFoundRetryHours: 24,
      plexConnectTimeoutMs: 5000,
      plexRequestTimeoutMs: 30000,
      plexTlsInsecure: false,
      concurrency: 2,
      dlqRetentionDays: 30,
      workerIdleMinutes: 15,
      debug: false,
      obfuscatePaths: false,
    });
  });

  it('what the UI shows for unsaved values (false, 0, "") means the same as not saved', () => {
    const shown = { ...required, skip_title: false, max_retries: 0, concurrency: 0, plex_libraries: '', path_map: '', tag_target: '' };
    expect(loadSettings(shown)).toEqual(loadSettings(required));
  });

  it('reads saved values: opt-outs, opt-ins, lists, path map, numbers', () => {
    const { settings, warnings } = loadSettings({
      ...required,
      plex_libraries: 'Movies, Clips,,Movies',
      path_map: '/data=>/media; /data/special => /mnt/special',
      stash_api_key: 'key-1',
      skip_poster: true,
      sync_background: true,
      tag_target: 'Labels',
      max_retries: 8,
      plex_timeout: '12',
      content_rating: 'X',
    });
    expect(warnings).toEqual([]);
    expect(settings.plexLibraries).toEqual(['Movies', 'Clips']);
    expect(settings.pathMap).toEqual([
      { stash: '/data/special', plex: '/mnt/special' },
      { stash: '/data', plex: '/media' },
    ]);
    expect(settings.stashApiKey).toBe('key-1');
    expect(settings.fields.poster).toBe(false);
    expect(settings.fields.background).toBe(true);
    expect(settings.tagTarget).toBe('label');
    expect(settings.maxAttempts).toBe(8);
    expect(settings.plexRequestTimeoutMs).toBe(12000);
    expect(settings.contentRating).toBe('X');
  });
});

describe('required settings', () => {
  it('no saved settings at all: one line naming plex_url and where to set it', () => {
    const err = errorOf(undefined);
    expect(err).toBeInstanceOf(SettingsError);
    expect(err.message).toMatch(/plex_url.*Settings > Plugins > PlexCourier/);
    expect(err.message).not.toContain('\n');
  });

  it('a missing token names plex_token', () => {
    expect(errorOf({ plex_url: 'http://plex:32400' }).message).toMatch(/"Plex token" \(plex_token\) is not set/);
  });

  it('a blank token counts as missing', () => {
    expect(errorOf({ ...required, plex_token: '   ' }).message).toMatch(/plex_token/);
  });

  it('a plex_url that is not an http(s) URL is refused with what to enter', () => {
    expect(errorOf({ ...required, plex_url: 'plex.lan:32400' }).message).toMatch(/plex_url.*(http|URL)/);
    expect(errorOf({ ...required, plex_url: 'ftp://plex.lan' }).message).toMatch(/http:\/\/ or https:\/\//);
  });

  it('the error never contains the token', () => {
    expect(errorOf({ plex_url: 'nonsense', plex_token: 'SECRET-123456' }).message).not.toContain('SECRET-123456');
  });
});

describe('bad optional settings fall back with a warning', () => {
  it('out-of-range and non-numeric numbers', () => {
    const { settings, warnings } = loadSettings({ ...required, concurrency: 500, max_retries: 'many', dlq_retention_days: -3 });
    expect(settings.concurrency).toBe(2);
    expect(settings.maxAttempts).toBe(NUMBER_DEFAULTS.max_retries);
    expect(settings.dlqRetentionDays).toBe(30);
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(/max_retries|concurrency|dlq_retention_days/);
    for (const w of warnings) expect(w).toMatch(/using \d+/);
  });

  it('an unknown tag target, a non-boolean toggle and a bad path map pair', () => {
    const { settings, warnings } = loadSettings({ ...required, tag_target: 'collections', skip_title: 'maybe', path_map: '/a=>/b;broken;=>/c' });
    expect(settings.tagTarget).toBe('genre');
    expect(settings.fields.title).toBe(true);
    expect(settings.pathMap).toEqual([{ stash: '/a', plex: '/b' }]);
    expect(warnings.join('\n')).toMatch(/tag_target/);
    expect(warnings.join('\n')).toMatch(/skip_title/);
    expect(warnings.filter((w) => w.includes('path_map'))).toHaveLength(2);
  });

  it('an undeclared key is reported and ignored', () => {
    expect(loadSettings({ ...required, sync_master: true }).warnings).toEqual(['setting sync_master is not a PlexCourier setting; ignoring it']);
  });

  it('parsePathMap keeps Windows prefixes intact', () => {
    expect(parsePathMap('C:\\Videos=>/media/videos')).toEqual([{ stash: 'C:\\Videos', plex: '/media/videos' }]);
  });
});
