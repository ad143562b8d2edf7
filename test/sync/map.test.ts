import { describe, expect, it } from 'vitest';
import { DEFAULT_MAP_OPTIONS, displayTitle, mapScene, parseStashDate, type MapOptions } from '../../src/sync/map';
import { identifiedScene, scannedScene } from './scenes';

const opts = (over: Partial<MapOptions> = {}): MapOptions => ({ ...DEFAULT_MAP_OPTIONS, ...over });
const everything = opts({
  sortTitle: 'title',
  tagline: 'code',
  contentRating: 'X',
  studioCollection: true,
  parentStudioCollection: true,
  groupCollections: true,
});

describe('mapScene', () => {
  it('maps every field of an identified scene', () => {
    expect(mapScene(identifiedScene(), everything)).toEqual({
      scalars: {
        title: 'Sunset Session',
        titleSort: 'Sunset Session',
        summary: 'Two friends\nwatch the sun go down.',
        originallyAvailableAt: '2023-06-15',
        year: 2023,
        studio: 'Beach Films',
        tagline: 'ABC-123',
        contentRating: 'X',
      },
      tags: {
        actor: ['Ann Example', 'Bo Sample'],
        genre: ['Outdoor', 'Sunset'],
        director: ['Jane Doe'],
        collection: ['Beach Films', 'Coast Network', 'Summer Series'],
      },
      userRating: 8.5,
    });
  });

  it('leaves the poster and background to the worker', () => {
    const item = mapScene(identifiedScene(), everything);
    expect(item.poster).toBeUndefined();
    expect(item.art).toBeUndefined();
  });

  it('turns every empty Stash field into a removal in Plex, never "leave alone"', () => {
    const emptied = identifiedScene({
      code: '',
      details: '   ',
      director: null,
      date: null,
      rating100: null,
      studio: null,
      performers: [],
      tags: [],
      groups: [],
    });
    expect(mapScene(emptied, everything)).toEqual({
      scalars: {
        title: 'Sunset Session',
        titleSort: 'Sunset Session',
        summary: null,
        originallyAvailableAt: null,
        year: null,
        studio: null,
        tagline: null,
        contentRating: 'X',
      },
      tags: { actor: [], genre: [], director: [], collection: [] },
      userRating: null,
    });
  });

  it('removes exactly the tag and performer removed in Stash', () => {
    const before = mapScene(identifiedScene(), DEFAULT_MAP_OPTIONS);
    const after = mapScene(
      identifiedScene({ tags: [{ id: '11', name: 'Sunset' }], performers: [{ id: '2', name: 'Bo Sample' }] }),
      DEFAULT_MAP_OPTIONS,
    );
    expect(before.tags.genre).toEqual(['Outdoor', 'Sunset']);
    expect(after.tags.genre).toEqual(['Sunset']);
    expect(after.tags.actor).toEqual(['Bo Sample']);
  });

  it.each<[string, Partial<MapOptions>, (item: ReturnType<typeof mapScene>) => unknown]>([
    ['title', { title: false }, (i) => 'title' in i.scalars],
    ['sortTitle', { sortTitle: 'off' }, (i) => 'titleSort' in i.scalars],
    ['summary', { summary: false }, (i) => 'summary' in i.scalars],
    ['date', { date: false }, (i) => 'originallyAvailableAt' in i.scalars || 'year' in i.scalars],
    ['studio', { studio: 'off' }, (i) => 'studio' in i.scalars],
    ['tagline', { tagline: 'off' }, (i) => 'tagline' in i.scalars],
    ['contentRating', { contentRating: '' }, (i) => 'contentRating' in i.scalars],
    ['performers', { performers: false }, (i) => 'actor' in i.tags],
    ['tags', { tags: 'off' }, (i) => 'genre' in i.tags || 'label' in i.tags],
    ['director', { director: false }, (i) => 'director' in i.tags],
    ['collections', { studioCollection: false, parentStudioCollection: false, groupCollections: false }, (i) => 'collection' in i.tags],
    ['rating', { rating: false }, (i) => 'userRating' in i],
  ])('leaves %s alone in Plex when its toggle is off', (_field, off, present) => {
    expect(present(mapScene(identifiedScene(), { ...everything, ...off }))).toBe(false);
    expect(present(mapScene(identifiedScene(), everything))).toBe(true);
  });

  it('sends tags to labels when asked (episodes have no genres) and leaves genres alone', () => {
    const item = mapScene(identifiedScene(), opts({ tags: 'label' }));
    expect(item.tags.label).toEqual(['Outdoor', 'Sunset']);
    expect('genre' in item.tags).toBe(false);
  });

  it('builds collections from only the enabled sources', () => {
    expect(mapScene(identifiedScene(), opts({ studioCollection: true })).tags.collection).toEqual(['Beach Films']);
    expect(mapScene(identifiedScene(), opts({ groupCollections: true })).tags.collection).toEqual(['Summer Series']);
    expect(mapScene(identifiedScene({ studio: { id: '7', name: 'Solo' } }), opts({ parentStudioCollection: true })).tags.collection).toEqual([]);
  });

  it('can use the parent studio as the Plex studio, falling back to the studio', () => {
    expect(mapScene(identifiedScene(), opts({ studio: 'parent' })).scalars.studio).toBe('Coast Network');
    expect(mapScene(identifiedScene({ studio: { id: '7', name: 'Solo' } }), opts({ studio: 'parent' })).scalars.studio).toBe('Solo');
  });

  it('adds the disambiguation to performer names when asked', () => {
    expect(mapScene(identifiedScene(), opts({ performerDisambiguation: true })).tags.actor).toEqual(['Ann Example (US)', 'Bo Sample']);
  });

  it('sorts by release date with the date_title sort title', () => {
    expect(mapScene(identifiedScene(), opts({ sortTitle: 'date_title' })).scalars.titleSort).toBe('2023-06-15 Sunset Session');
    expect(mapScene(identifiedScene({ date: null }), opts({ sortTitle: 'date_title' })).scalars.titleSort).toBe('Sunset Session');
  });

  it('caps tags, performers and collections', () => {
    const tags = Array.from({ length: 150 }, (_, i) => ({ id: String(i), name: `Tag ${i}` }));
    const groups = Array.from({ length: 30 }, (_, i) => ({ group: { id: String(i), name: `Group ${i}` } }));
    const performers = Array.from({ length: 60 }, (_, i) => ({ id: String(i), name: `Person ${i}` }));
    const item = mapScene(identifiedScene({ tags, groups, performers }), opts({ groupCollections: true, maxTags: 100 }));
    expect(item.tags.genre).toHaveLength(100);
    expect(item.tags.actor).toHaveLength(50);
    expect(item.tags.collection).toHaveLength(20);
  });

  it.each([
    [100, 10],
    [85, 8.5],
    [1, 0.1],
    [33, 3.3],
    [null, null],
  ])('maps rating100 %s to a user rating of %s', (rating100, userRating) => {
    expect(mapScene(identifiedScene({ rating100 }), DEFAULT_MAP_OPTIONS).userRating).toBe(userRating);
  });

  it('falls back to the file name without its extension when the title is empty, as Stash shows it', () => {
    const item = mapScene(scannedScene(), DEFAULT_MAP_OPTIONS);
    expect(item.scalars.title).toBe('clip_0007');
  });

  it('never clears the title, even with no title and no file', () => {
    expect('title' in mapScene(scannedScene({ files: [] }), DEFAULT_MAP_OPTIONS).scalars).toBe(false);
  });

  it('leaves the date alone when Stash sends one that is not a calendar day, rather than wiping Plex', () => {
    const item = mapScene(identifiedScene({ date: '2023-02-30' }), DEFAULT_MAP_OPTIONS);
    expect('originallyAvailableAt' in item.scalars).toBe(false);
    expect('year' in item.scalars).toBe(false);
  });

  it('sanitises what it maps', () => {
    const item = mapScene(
      identifiedScene({ title: ' Sunset\u200B Session\u0000 ', tags: [{ id: '1', name: 'Outdoor' }, { id: '2', name: ' outdoor ' }] }),
      DEFAULT_MAP_OPTIONS,
    );
    expect(item.scalars.title).toBe('Sunset Session');
    expect(item.tags.genre).toEqual(['Outdoor']);
  });
});

describe('helpers', () => {
  it.each([
    ['2023-06-15', { date: '2023-06-15', year: 2023 }],
    ['2024-02-29', { date: '2024-02-29', year: 2024 }],
    ['2023-02-29', null],
    ['2023-06', null],
    ['15/06/2023', null],
    ['', null],
  ])('parses the Stash date %j', (input, expected) => {
    expect(parseStashDate(input)).toEqual(expected);
  });

  it('derives a display title from a Windows path when the basename is missing', () => {
    expect(displayTitle(scannedScene({ files: [{ id: '1', path: 'C:\\media\\My Clip.mp4', basename: '', size: 1 }] }))).toEqual({
      title: 'My Clip',
      fromFile: true,
    });
  });
});
