import { describe, expect, it } from 'vitest';
import { DEFAULT_MAP_OPTIONS } from '../../src/sync/map';
import { updateAffectsPlex } from '../../src/sync/relevance';

describe('updateAffectsPlex', () => {
  it.each([
    [['id', 'title'], true],
    [['id', 'tag_ids'], true],
    [['ids', 'performer_ids'], true],
    [['id', 'rating100'], true],
    [['id', 'organized'], true],
    [['id', 'cover_image'], true],
    [['id', 'resume_time', 'play_duration'], false],
    [['id', 'gallery_ids'], false],
    [['id'], false],
    [['id', 'some_future_field'], true],
    [['id', 'constructor'], true],
    [[], true],
    [undefined, true],
    [null, true],
  ])('with the default options, inputFields %j → %s', (fields, expected) => {
    expect(updateAffectsPlex(fields, DEFAULT_MAP_OPTIONS)).toBe(expected);
  });

  it('ignores fields whose mapping is switched off', () => {
    const off = { ...DEFAULT_MAP_OPTIONS, tags: 'off' as const, rating: false, groupCollections: false };
    expect(updateAffectsPlex(['id', 'tag_ids'], off)).toBe(false);
    expect(updateAffectsPlex(['id', 'rating100', 'groups'], off)).toBe(false);
    expect(updateAffectsPlex(['id', 'code'], DEFAULT_MAP_OPTIONS)).toBe(false);
    expect(updateAffectsPlex(['id', 'code'], { ...DEFAULT_MAP_OPTIONS, tagline: 'code' })).toBe(true);
  });
});
