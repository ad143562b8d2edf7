import { describe, expect, it } from 'vitest';
import type { DesiredItem } from '../../src/plex/desired';
import { editQuery, planEdit, type CurrentItem } from '../../src/plex/diff';
import { buildQuery, encodeValue, tagRemovalValue } from '../../src/plex/query';

const PLEXAPI_TAG = `Test Tag !@#$%^&*()-_=+[];:'"/?,.`;

function current(over: Partial<CurrentItem> = {}): CurrentItem {
  return {
    ratingKey: '7',
    type: 'movie',
    scalars: { title: 'Old' },
    tags: { actor: [], genre: [], label: [], collection: [], director: [] },
    locks: new Set(),
    ...over,
  };
}

describe('the edit plan', () => {
  it('is empty when Plex already shows the desired state, locks included', () => {
    const plan = planEdit(current({ locks: new Set(['title', 'genre']), tags: { actor: [], genre: ['A'], label: [], collection: [], director: [] } }), {
      scalars: { title: 'Old' },
      tags: { genre: ['a'] },
    });
    expect(plan).toMatchObject({ values: [], tags: [], locks: [], changedFields: [] });
  });

  it('locks a field that is already right but unlocked, without rewriting it', () => {
    const plan = planEdit(current(), { scalars: { title: 'Old' }, tags: {} });
    expect(plan.values).toEqual([]);
    expect(plan.locks).toEqual(['title']);
  });

  it('sets the full desired tag list and removes only the extras', () => {
    const plan = planEdit(current({ tags: { actor: ['Ann', 'Bob'], genre: [], label: [], collection: [], director: [] } }), {
      scalars: {},
      tags: { actor: ['Bob', 'Cy', ' cy '] },
    });
    expect(plan.tags).toEqual([{ field: 'actor', set: ['Bob', 'Cy'], remove: ['Ann'] }]);
  });

  it('an empty desired list clears the field', () => {
    const plan = planEdit(current({ tags: { actor: [], genre: ['x', 'y'], label: [], collection: [], director: [] } }), { scalars: {}, tags: { genre: [] } });
    expect(plan.tags).toEqual([{ field: 'genre', set: [], remove: ['x', 'y'] }]);
  });

  it('null and empty string clear a scalar; absent keys are left alone', () => {
    const plan = planEdit(current({ scalars: { title: 'T', summary: 'S', studio: 'St' } }), { scalars: { summary: null, studio: '' }, tags: {} });
    expect(plan.values).toEqual([
      { field: 'summary', value: '' },
      { field: 'studio', value: '' },
    ]);
  });

  it('maps episodes: no studio or tagline, genres become labels', () => {
    const plan = planEdit(current({ type: 'episode' }), { scalars: { studio: 'S', tagline: 'T', title: 'Old' }, tags: { genre: ['g1'], label: ['l1'] } });
    expect(plan.values).toEqual([]);
    expect(plan.tags).toEqual([{ field: 'label', set: ['l1', 'g1'], remove: [] }]);
  });

  it('fillEmptyOnly keeps values edited in Plex and fills the empty ones', () => {
    const plan = planEdit(current({ scalars: { title: 'Mine' }, tags: { actor: ['X'], genre: [], label: [], collection: [], director: [] } }), {
      scalars: { title: 'Stash', summary: 'Sum' },
      tags: { actor: ['Y'], genre: ['G'] },
    }, { fillEmptyOnly: true });
    expect(plan.values).toEqual([{ field: 'summary', value: 'Sum' }]);
    expect(plan.tags.map((t) => t.field)).toEqual(['genre']);
  });

  it('a malformed date is a warning, not an edit', () => {
    const plan = planEdit(current(), { scalars: { originallyAvailableAt: '2024/01/02' }, tags: {} });
    expect(plan.values).toEqual([]);
    expect(plan.warnings[0]).toMatch(/YYYY-MM-DD/);
  });

  it('the rating changes only when it differs; null clears it', () => {
    expect(planEdit(current({ userRating: 8 }), { scalars: {}, tags: {}, userRating: 8 }).userRating).toBeUndefined();
    expect(planEdit(current({ userRating: 8 }), { scalars: {}, tags: {}, userRating: 6 }).userRating).toBe(6);
    expect(planEdit(current({ userRating: 8 }), { scalars: {}, tags: {}, userRating: null }).userRating).toBeNull();
  });
});

describe('the edit query', () => {
  const desired: DesiredItem = { scalars: { title: 'A + B & C' }, tags: { genre: ['x,y', '100%'] } };

  it('starts with type and id and locks every value it sets', () => {
    const plan = planEdit(current({ tags: { actor: [], genre: ['old'], label: [], collection: [], director: [] } }), desired);
    const q = editQuery(plan, '7', 1);
    expect(q.slice(0, 2)).toEqual([
      ['type', '1'],
      ['id', '7'],
    ]);
    expect(q).toContainEqual(['title.value', 'A + B & C']);
    expect(q).toContainEqual(['title.locked', '1']);
    expect(q).toContainEqual(['genre[0].tag.tag', 'x,y']);
    expect(q).toContainEqual(['genre.locked', '1']);
    const qs = buildQuery(q);
    expect(qs).toContain('title.value=A%20%2B%20B%20%26%20C');
    expect(qs).toContain('genre[1].tag.tag=100%25');
  });

  it('double-encodes removals so commas inside names survive (plexapi form)', () => {
    expect(tagRemovalValue(['a,b c', 'd'])).toBe('a%2Cb%20c,d');
    expect(buildQuery([['genre[].tag.tag-', tagRemovalValue(['a,b c', 'd'])]])).toBe('genre[].tag.tag-=a%252Cb%2520c%2Cd');
  });

  it('encodes every reserved character of the plexapi test tag', () => {
    expect(encodeValue(PLEXAPI_TAG)).toMatch(/^[A-Za-z0-9%._~-]*$/);
    expect(decodeURIComponent(encodeValue(PLEXAPI_TAG))).toBe(PLEXAPI_TAG);
  });
});
