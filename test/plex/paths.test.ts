import { describe, expect, it } from 'vitest';
import { PlexError } from '../../src/plex/errors';
import { baseName, dirName, mapPath, normalizePath, parsePathMap, samePath } from '../../src/plex/paths';
import { parseLibraries, sectionsForPath, selectSections } from '../../src/plex/sections';

describe('path_map parsing', () => {
  it('reads ;-separated STASH=>PLEX pairs, ignoring blanks and spaces', () => {
    expect(parsePathMap(' /data/stash => /media/stash ; ; D:\\Videos=>/mnt/v ')).toEqual([
      { stashPrefix: '/data/stash', plexPrefix: '/media/stash' },
      { stashPrefix: 'D:\\Videos', plexPrefix: '/mnt/v' },
    ]);
    expect(parsePathMap('')).toEqual([]);
  });

  it('names the bad pair and the expected form', () => {
    for (const bad of ['/data/stash', '/a=>', '=>/b', '/a=>/b=>/c']) {
      let err: unknown;
      try {
        parsePathMap(`/ok=>/fine; ${bad}`);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(PlexError);
      expect((err as PlexError).message).toContain(`"${bad}"`);
      expect((err as PlexError).message).toContain('STASH_PREFIX=>PLEX_PREFIX');
    }
  });
});

describe('mapping a Stash path to the Plex path', () => {
  const map = parsePathMap('/data=>/media; /data/stash=>/mnt/stash; D:\\Stash=>/srv/stash; /s2=>C:\\Media');

  it('uses the longest matching prefix on whole path components', () => {
    expect(mapPath('/data/stash/a/b.mp4', map)).toBe('/mnt/stash/a/b.mp4');
    expect(mapPath('/data/other/b.mp4', map)).toBe('/media/other/b.mp4');
    expect(mapPath('/database/b.mp4', map)).toBe('/database/b.mp4');
  });

  it('maps a Windows Stash path case-insensitively and a Windows Plex prefix with backslashes', () => {
    expect(mapPath('d:\\stash\\Sub\\x.mkv', map)).toBe('/srv/stash/Sub/x.mkv');
    expect(mapPath('/s2/dir/y.mkv', map)).toBe('C:\\Media\\dir\\y.mkv');
  });

  it('leaves an unmapped path alone apart from normalisation', () => {
    expect(mapPath('/other//x/./y.mp4'.replace('/./', '/'), map)).toBe('/other/x/y.mp4');
  });
});

describe('path normalisation', () => {
  it('strips Windows extended-length prefixes and unifies separators', () => {
    expect(normalizePath('\\\\?\\C:\\Long\\file.mp4')).toBe('C:/Long/file.mp4');
    expect(normalizePath('\\\\?\\UNC\\server\\share\\f.mp4')).toBe('//server/share/f.mp4');
    expect(normalizePath('/a/b/')).toBe('/a/b');
  });

  it('compares NFD and NFC spellings of one name as the same file', () => {
    const nfd = '/m/Cafe\u0301.mp4';
    const nfc = '/m/Caf\u00e9.mp4';
    expect(samePath(nfd, nfc, false)).toBe(true);
  });

  it('compares case-insensitively only for a Windows server', () => {
    expect(samePath('/M/A.mp4', '/m/a.mp4', true)).toBe(true);
    expect(samePath('/M/A.mp4', '/m/a.mp4', false)).toBe(false);
  });

  it('takes basenames and folders in the Plex form', () => {
    expect(baseName('C:\\x\\Y.mp4')).toBe('Y.mp4');
    expect(dirName('C:\\x\\Y.mp4')).toBe('C:\\x');
    expect(dirName('/media/a/b.mp4')).toBe('/media/a');
  });
});

describe('library selection', () => {
  const dirs = [
    { key: '1', title: 'Movies', type: 'movie', Location: [{ path: '/media/movies' }] },
    { key: '2', title: 'TV', type: 'show', Location: [{ path: '/media/tv' }] },
    { key: '3', title: 'Music', type: 'artist', Location: [{ path: '/media/music' }] },
    { key: '4', title: 'Other Videos', type: 'movie', Location: [{ path: '/media' }] },
  ];

  it('keeps every movie and TV library when none is named, with the file-bearing item type', () => {
    const s = selectSections(dirs);
    expect(s.map((x) => [x.title, x.itemType, x.searchType])).toEqual([
      ['Movies', 'movie', 1],
      ['TV', 'episode', 4],
      ['Other Videos', 'movie', 1],
    ]);
  });

  it('restricts to plex_libraries, compared case-insensitively', () => {
    expect(selectSections(dirs, parseLibraries(' tv , other videos')).map((x) => x.key)).toEqual(['2', '4']);
  });

  it('an unknown library name is an error naming the libraries that exist', () => {
    expect(() => selectSections(dirs, ['Movies', 'Films'])).toThrow(/"Films".*"Movies", "TV", "Other Videos"/);
  });

  it('orders the sections containing a path by the longest location', () => {
    const s = selectSections(dirs);
    expect(sectionsForPath(s, '/media/movies/a.mp4', false).map((x) => x.key)).toEqual(['1', '4']);
    expect(sectionsForPath(s, '/elsewhere/a.mp4', false)).toEqual([]);
  });
});
