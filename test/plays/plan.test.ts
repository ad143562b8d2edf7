import { describe, expect, it } from 'vitest';
import { resolveAccounts } from '../../src/plays/accounts';
import type { JournalEntry } from '../../src/plays/journal';
import { checkStart, decideRow, nextWatermark, pendingReachedStash } from '../../src/plays/plan';
import { epochSeconds, stashTime } from '../../src/plays/stash';
import { historyId } from '../../src/plays/plex-history';

const entry = (state: JournalEntry['state']): JournalEntry => ({ state, historyId: '7', ratingKey: '12', sceneId: '3', viewedAt: 1_700_000_000, accountId: 1, at: 0 });

describe('what a plays import does with one Plex history row', () => {
  it('applies a new row of an item that exactly one synced scene names', () => {
    expect(decideRow({ ratingKey: '12' }, undefined, ['3'], false)).toEqual({ kind: 'apply', sceneId: '3' });
  });

  it('never applies a row the journal has as applied or pending, in a check or a backfill', () => {
    for (const backfill of [false, true]) {
      expect(decideRow({ ratingKey: '12' }, entry('applied'), ['3'], backfill)).toEqual({ kind: 'already_applied' });
      expect(decideRow({ ratingKey: '12' }, entry('pending'), ['3'], backfill)).toEqual({ kind: 'already_applied' });
    }
  });

  it('counts a row as unmatched when no synced scene or several scenes name its item, or the item is gone', () => {
    expect(decideRow({ ratingKey: '12' }, undefined, undefined, false)).toMatchObject({ kind: 'unmatched', reason: 'not_synced' });
    expect(decideRow({ ratingKey: '12' }, undefined, ['3', '4'], false)).toMatchObject({ kind: 'unmatched', reason: 'several_scenes', sceneIds: ['3', '4'] });
    expect(decideRow({}, undefined, undefined, false)).toMatchObject({ kind: 'unmatched', reason: 'no_rating_key' });
  });

  it('looks at a known unmatched row again only in a backfill, where it may match a scene synced since', () => {
    expect(decideRow({ ratingKey: '12' }, entry('unmatched'), ['3'], false)).toEqual({ kind: 'known_unmatched' });
    expect(decideRow({ ratingKey: '12' }, entry('unmatched'), ['3'], true)).toEqual({ kind: 'apply', sceneId: '3' });
  });
});

describe('settling a pending journal entry', () => {
  it('counts the play as in Stash only when Stash has more plays at that second than the journal added there', () => {
    expect(pendingReachedStash(0, 0)).toBe(false);
    expect(pendingReachedStash(1, 0)).toBe(true);
    // Two Plex plays in the same second: the first is applied, the second pending and not yet sent.
    expect(pendingReachedStash(1, 1)).toBe(false);
    expect(pendingReachedStash(2, 1)).toBe(true);
  });
});

describe('watermarks', () => {
  it('a check reads from an hour before its watermark, or an hour back the first time', () => {
    expect(checkStart(10_000, 50_000, 3_600)).toBe(6_400);
    expect(checkStart(undefined, 50_000, 3_600)).toBe(46_400);
    expect(checkStart(100, 50_000, 3_600)).toBe(0);
  });

  it('never moves back, and a first check with no rows still records where it read from', () => {
    expect(nextWatermark(500, 400, 0)).toBe(500);
    expect(nextWatermark(500, 900, 0)).toBe(900);
    expect(nextWatermark(undefined, undefined, 46_400)).toBe(46_400);
    expect(nextWatermark(undefined, 50_000, 46_400)).toBe(50_000);
  });
});

describe('plex_accounts', () => {
  const accounts = [
    { id: 0, name: '' },
    { id: 1, name: 'Owner' },
    { id: 5, name: 'alice' },
  ];

  it('empty means the server owner (account 1) only', () => {
    expect(resolveAccounts([], accounts)).toEqual({ ids: [1], labels: ['Owner (1)'], problems: [] });
  });

  it('takes names case-insensitively and ids, once each, in setting order', () => {
    expect(resolveAccounts(['ALICE', '1', 'alice', '5'], accounts)).toMatchObject({ ids: [5, 1], labels: ['alice (5)', 'Owner (1)'], problems: [] });
  });

  it('reports an account the server does not have in one line naming the setting and the known accounts', () => {
    const r = resolveAccounts(['bob', '9'], accounts);
    expect(r.ids).toEqual([]);
    expect(r.problems).toEqual([
      'setting plex_accounts: Plex has no account "bob" (known: Owner (1), alice (5)); its plays are not imported',
      'setting plex_accounts: Plex has no account "9" (known: Owner (1), alice (5)); its plays are not imported',
    ]);
  });
});

describe('times and keys', () => {
  it('sends Stash whole-second RFC 3339 times and reads Stash times in any zone back as epoch seconds', () => {
    expect(stashTime(1_700_000_000)).toBe('2023-11-14T22:13:20Z');
    expect(epochSeconds('2023-11-14T23:13:20+01:00')).toBe(1_700_000_000);
    expect(epochSeconds('not a time')).toBeUndefined();
  });

  it('keys a history row by the id at the end of its historyKey', () => {
    expect(historyId('/status/sessions/history/1234')).toBe('1234');
  });
});
