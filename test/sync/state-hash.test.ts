import { describe, expect, it } from 'vitest';
import type { DesiredItem } from '../../src/plex/desired';
import { DEFAULT_MAP_OPTIONS, mapScene } from '../../src/sync/map';
import { canonicalJson, stateHash } from '../../src/sync/state-hash';
import { identifiedScene } from './scenes';

const image = (text: string) => ({ sha256: text.padEnd(64, '0'), bytes: Buffer.from(text), contentType: 'image/jpeg' });
const base = (): DesiredItem => ({ ...mapScene(identifiedScene(), DEFAULT_MAP_OPTIONS), poster: image('aa') });
const h = (item: DesiredItem, opts = DEFAULT_MAP_OPTIONS) => stateHash(item, opts);

describe('state hash', () => {
  it('is the same for the same scene mapped twice, whatever the key order', () => {
    const a = base();
    const b: DesiredItem = { tags: { ...a.tags }, scalars: Object.fromEntries(Object.entries(a.scalars).reverse()), poster: a.poster, userRating: a.userRating };
    expect(h(b)).toBe(h(a));
    expect(h(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('depends on the image hash, not the bytes object', () => {
    const a = base();
    expect(h({ ...a, poster: { ...image('aa'), bytes: Buffer.from('other bytes') } })).toBe(h(a));
    expect(h({ ...a, poster: image('bb') })).not.toBe(h(a));
    expect(h({ ...a, art: image('cc') })).not.toBe(h(a));
  });

  it.each<[string, (i: DesiredItem) => DesiredItem]>([
    ['a title edit', (i) => ({ ...i, scalars: { ...i.scalars, title: 'Sunset Session 2' } })],
    ['a cleared summary', (i) => ({ ...i, scalars: { ...i.scalars, summary: null } })],
    ['a field no longer managed', (i) => ({ ...i, scalars: { ...i.scalars, studio: undefined } })],
    ['a removed tag', (i) => ({ ...i, tags: { ...i.tags, genre: ['Outdoor'] } })],
    ['tags moved to labels', (i) => ({ ...i, tags: { ...i.tags, genre: undefined, label: i.tags.genre } })],
    ['an emptied performer list', (i) => ({ ...i, tags: { ...i.tags, actor: [] } })],
    ['reordered performers', (i) => ({ ...i, tags: { ...i.tags, actor: [...(i.tags.actor ?? [])].reverse() } })],
    ['a rating change', (i) => ({ ...i, userRating: 9 })],
    ['a cleared rating', (i) => ({ ...i, userRating: null })],
    ['a year as text instead of a number', (i) => ({ ...i, scalars: { ...i.scalars, year: '2023' } })],
  ])('changes with %s', (_what, change) => {
    expect(h(change(base()))).not.toBe(h(base()));
  });

  it('ignores the order of genres, labels and collections, which Plex does not keep', () => {
    const a = base();
    expect(h({ ...a, tags: { ...a.tags, genre: ['Sunset', 'Outdoor'] } })).toBe(h(a));
  });

  it('changes with the mapping options and with fill-only', () => {
    const a = base();
    expect(stateHash(a, { ...DEFAULT_MAP_OPTIONS, maxTags: 50 })).not.toBe(h(a));
    expect(stateHash(a, DEFAULT_MAP_OPTIONS, { fillOnly: true })).not.toBe(h(a));
  });

  it('gives the same hash for frozen and unfrozen options with equal values, and follows a changed unfrozen object', () => {
    const a = base();
    const loose = { ...DEFAULT_MAP_OPTIONS };
    expect(stateHash(a, loose)).toBe(h(a));
    loose.summary = false;
    expect(stateHash(a, loose)).not.toBe(h(a));
  });

  it('uses caller-given image identities when the bytes were not fetched', () => {
    const noImages: DesiredItem = { ...base(), poster: undefined };
    expect(stateHash(noImages, DEFAULT_MAP_OPTIONS, { poster: 'aa'.padEnd(64, '0') })).toBe(h(base()));
    expect(stateHash(base(), DEFAULT_MAP_OPTIONS, { poster: null })).toBe(h(noImages));
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level and leaves undefined members out', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: undefined, x: null }], c: 'x' } })).toBe('{"a":{"c":"x","d":[1,{"x":null,"z":1}]},"b":1}');
  });

  it('refuses image bytes', () => {
    expect(() => canonicalJson({ poster: Buffer.from('x') })).toThrow(/pass their sha256/);
  });
});
