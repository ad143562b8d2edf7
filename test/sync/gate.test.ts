import { describe, expect, it } from 'vitest';
import { identifyingFields, qualityGate } from '../../src/sync/gate';
import { DEFAULT_MAP_OPTIONS, mapScene, type MapOptions } from '../../src/sync/map';
import { identifiedScene, scannedScene } from './scenes';
import type { StashScene } from '../../src/stash/scene';

const options: MapOptions = { ...DEFAULT_MAP_OPTIONS, contentRating: 'X', studioCollection: true };
const gate = (scene: StashScene, preservePlexEdits = false) => qualityGate(scene, mapScene(scene, options), { preservePlexEdits });

describe('quality gate', () => {
  it('lets an identified scene through whole, clears included', () => {
    const scene = identifiedScene({ details: null, tags: [] });
    const result = gate(scene);
    expect(result.fillOnly).toBe(false);
    expect(result.item).toEqual(mapScene(scene, options));
    expect(result.item.scalars.summary).toBeNull();
    expect(result.reason).toBe('full sync: identified (title, studio, performers, date, director, code, groups, stash_ids)');
  });

  it('only fills for a scene fresh from a scan: nothing in Plex is cleared and the file-name title is not written', () => {
    const result = gate(scannedScene({ rating100: 60 }));
    expect(result.fillOnly).toBe(true);
    expect(result.item).toEqual({ scalars: { contentRating: 'X' }, tags: {}, userRating: 6 });
    expect(result.reason).toMatch(/^fill only: not identified yet/);
  });

  it.each<[string, Record<string, unknown>]>([
    ['title', { title: 'A real title' }],
    ['details', { details: 'Something happens.' }],
    ['studio', { studio: { id: '1', name: 'Studio' } }],
    ['performers', { performers: [{ id: '1', name: 'Ann' }] }],
    ['tags', { tags: [{ id: '1', name: 'Tag' }] }],
    ['date', { date: '2020-01-01' }],
    ['director', { director: 'Someone' }],
    ['code', { code: 'X-1' }],
    ['groups', { groups: [{ group: { id: '1', name: 'G' } }] }],
    ['stash_ids', { stash_ids: [{ endpoint: 'https://stashdb.org/graphql', stash_id: 'x' }] }],
  ])('counts a scene with only %s as identified', (field, over) => {
    const scene = scannedScene(over);
    expect(identifyingFields(scene)).toEqual([field]);
    expect(gate(scene).fillOnly).toBe(false);
  });

  it('syncs in full a scene the user marked organized, even with nothing else set', () => {
    const result = gate(scannedScene({ organized: true }));
    expect(result.fillOnly).toBe(false);
    expect(result.item.tags.actor).toEqual([]);
    expect(result.reason).toBe('full sync: organized in Stash');
  });

  it('does not count whitespace-only fields as identification', () => {
    expect(identifyingFields(scannedScene({ title: '  ', details: '\n', director: ' ' }))).toEqual([]);
  });

  it('turns every sync into fill only when Plex edits are preserved, keeping the real title', () => {
    const result = gate(identifiedScene({ tags: [] }), true);
    expect(result.fillOnly).toBe(true);
    expect(result.item.scalars.title).toBe('Sunset Session');
    expect('genre' in result.item.tags).toBe(false);
    expect(result.reason).toMatch(/^fill only: preserve Plex edits is on; identified/);
  });

  it('keeps the images the worker attached', () => {
    const scene = scannedScene();
    const poster = { sha256: 'ab'.repeat(32), bytes: Buffer.from('jpeg'), contentType: 'image/jpeg' };
    const result = qualityGate(scene, { ...mapScene(scene, options), poster }, { preservePlexEdits: false });
    expect(result.item.poster).toBe(poster);
  });
});
