import { describe, expect, it } from 'vitest';
import type { UiScene } from '../../src/ops/ui-types';
import { badgeWords, breakerWords, effectiveNumber, errorClassWords } from '../../src/ui/format';
import { SECTIONS } from '../../src/ui/settings-layout';
import { NUMBER_DEFAULTS, SETTING_TYPES } from '../../src/stash/settings';
import { SYNC_ERROR_CLASSES } from '../../src/sync/errors';

const now = new Date(2026, 11, 4, 14, 0, 0).getTime();
const scene = (over: Partial<UiScene>): UiScene => ({
  sceneId: '1', worker: 'running', state: 'never', syncedAt: null, nextRunAt: null, attempts: null, message: null, errorClass: null, ratingKey: null, plexWebUrl: null, ...over,
});

describe('the badge in words', () => {
  it('says synced how long ago, queued, waiting to retry with the cause and the next try, failed with the error, not in Plex', () => {
    expect(badgeWords(scene({ state: 'synced', syncedAt: now - 3 * 60_000 }), now)).toBe('Plex: synced 3 min ago');
    expect(badgeWords(scene({ state: 'queued' }), now)).toBe('Plex: queued');
    expect(badgeWords(scene({ state: 'retrying', errorClass: 'network', nextRunAt: now + 5 * 60_000 }), now)).toBe('Plex: waiting to retry (Plex unreachable), next try 14:05');
    expect(badgeWords(scene({ state: 'failed', message: 'two Plex items share this file name' }), now)).toBe('Plex: failed: two Plex items share this file name');
    expect(badgeWords(scene({ state: 'not_in_plex' }), now)).toBe('Plex: not in Plex');
    expect(badgeWords(scene({ state: 'unknown', worker: 'not_running' }), now)).toMatch(/not running/);
  });

  it('has words for every error class the worker can record', () => {
    for (const cls of SYNC_ERROR_CLASSES) expect(errorClassWords(cls)).not.toBe(cls.replace(/_/g, ' '));
  });

  it('describes the breaker: healthy, open until a time, probing', () => {
    expect(breakerWords({ state: 'closed', nextProbeAt: null, outages: [] }, now)).toMatchObject({ tone: 'success' });
    expect(breakerWords({ state: 'open', nextProbeAt: now + 90_000, outages: [] }, now).text).toMatch(/paused until 14:01/);
    expect(breakerWords({ state: 'half_open', nextProbeAt: null, outages: [] }, now).text).toMatch(/probing/);
  });
});

describe('the settings panel layout', () => {
  it('gives each number its effective value', () => {
    expect(effectiveNumber(undefined, 30, 'days')).toBe('30 days — default');
    expect(effectiveNumber(0, 30, 'days')).toBe('30 days — default');
    expect(effectiveNumber(1, 30, 'days')).toBe('1 day');
    expect(effectiveNumber('7', 30, 'days')).toBe('7 days');
  });

  it('places every declared setting once, connection first, with the worker\'s own number defaults', () => {
    const keys = SECTIONS.flatMap((s) => s.fields.map((f) => f.key));
    expect(new Set(keys).size).toBe(keys.length);
    for (const key of Object.keys(SETTING_TYPES)) expect(keys, key).toContain(key);
    expect(SECTIONS[0]!.fields.map((f) => f.key)).toEqual(['plex_url', 'plex_token', 'plex_libraries', 'path_map', 'stash_api_key']);
    for (const s of SECTIONS) for (const f of s.fields) if (f.number) expect(f.number.fallback, f.key).toBe(NUMBER_DEFAULTS[f.key as keyof typeof NUMBER_DEFAULTS]);
    expect(Object.keys(NUMBER_DEFAULTS).every((k) => SECTIONS.some((s) => s.fields.some((f) => f.key === k && f.number)))).toBe(true);
  });
});
