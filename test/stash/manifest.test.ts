import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SETTING_TYPES } from '../../src/stash/settings';
import { loadManifest, ManifestError, parseManifest } from '../stash-host/manifest';
import { parseStrictYaml, YamlError } from '../stash-host/yaml';
import { PLUGIN_YML } from './fixtures';

const REQUIRED_MODES = ['process_queue', 'process_dlq', 'status', 'sync_all', 'sync_recent', 'reconcile', 'health', 'purge_dlq', 'clear_dlq', 'clear_queue', 'rebuild_index'];

describe('plugin.yml', () => {
  const m = loadManifest(PLUGIN_YML);

  it('loads under Stash strict rules as the raw plugin plexcourier once copied to plexcourier.yml', () => {
    const asBuilt = parseManifest(readFileSync(PLUGIN_YML, 'utf8'), '/plugins/community/plexcourier/plexcourier.yml');
    expect(asBuilt.id).toBe('plexcourier');
    expect(asBuilt.pluginDir).toBe('/plugins/community/plexcourier');
    expect(m.interface).toBe('raw');
    expect(m.exec).toEqual(['sh', '{pluginDir}/plexcourier.sh']);
    expect(m.name).toBe('PlexCourier');
  });

  it('hooks the three Scene triggers, and the renames, merges and deletions of what scenes point at, each with execArgs [hook]', () => {
    expect(m.hooks).toHaveLength(2);
    expect([...m.hooks[0]!.triggeredBy].sort()).toEqual(['Scene.Create.Post', 'Scene.Destroy.Post', 'Scene.Update.Post']);
    expect([...m.hooks[1]!.triggeredBy].sort()).toEqual([
      'Group.Destroy.Post',
      'Group.Update.Post',
      'Performer.Destroy.Post',
      'Performer.Update.Post',
      'Studio.Destroy.Post',
      'Studio.Update.Post',
      'Tag.Destroy.Post',
      'Tag.Merge.Post',
      'Tag.Update.Post',
    ]);
    // Stash fires Movie.* beside Group.*: subscribing to both would cost two hooks per Save.
    expect(m.hooks.flatMap((h) => h.triggeredBy)).not.toContain('Movie.Update.Post');
    for (const h of m.hooks) expect(h.execArgs).toEqual(['hook']);
  });

  it('has a task for every fixed mode, each with execArgs [task] and a description', () => {
    const modes = new Set(m.tasks.map((t) => t.defaultArgs.mode));
    for (const mode of REQUIRED_MODES) expect(modes, mode).toContain(mode);
    for (const t of m.tasks) {
      expect(t.execArgs, t.name).toEqual(['task']);
      expect(t.defaultArgs.mode, t.name).toMatch(/^[a-z_]+$/);
      expect(t.description?.length ?? 0, t.name).toBeGreaterThan(20);
    }
    expect(new Set(m.tasks.map((t) => t.name)).size).toBe(m.tasks.length);
  });

  it('declares exactly the settings src/stash/settings.ts reads, with the same types', () => {
    const declared = Object.fromEntries(Object.entries(m.settings).map(([k, s]) => [k, s.type]));
    expect(declared).toEqual(SETTING_TYPES);
    for (const key of ['plex_url', 'plex_token', 'plex_libraries', 'path_map']) expect(declared[key]).toBe('STRING');
  });

  it('gives every setting a display name and a description that states its default', () => {
    for (const [key, s] of Object.entries(m.settings)) {
      expect(s.displayName, key).toBeTruthy();
      expect(s.description, key).toMatch(/default|Required/);
    }
  });
});

describe('strict manifest loading', () => {
  const good = 'name: X\nexec: [node, "{pluginDir}/a.js"]\ninterface: raw\n';
  const reject = (text: string, message: RegExp) => expect(() => parseManifest(text, '/p/x.yml')).toThrow(message);

  it('accepts a minimal manifest and defaults interface to raw and errLog to error', () => {
    const m = parseManifest('exec: [node]\n', '/p/x.y.yml');
    expect(m).toMatchObject({ id: 'x.y', interface: 'raw', errLog: 'error', name: 'x.y' });
    expect(parseManifest(good, '/p/x.yml').exec).toEqual(['node', '{pluginDir}/a.js']);
  });

  it('rejects an unknown top-level key', () => reject(good + 'requires: [a]\n', /unknown key\(s\) requires/));
  it('rejects a default on a setting', () => reject(good + 'settings:\n  a:\n    type: BOOLEAN\n    default: true\n', /settings\.a: unknown key\(s\) default/));
  it('rejects an unknown setting type', () => reject(good + 'settings:\n  a:\n    type: INT\n', /settings\.a\.type/));
  it('rejects an unknown interface', () => reject('interface: python\n', /interface/));
  it('rejects an unknown key in a task', () => reject(good + 'tasks:\n  - name: T\n    mode: x\n', /tasks\.0: unknown key\(s\) mode/));
  it('rejects a duplicate key', () => reject(good + 'name: Y\n', /duplicate key "name"/));
  it('rejects a CSP directive Stash does not know', () => reject(good + 'ui:\n  csp:\n    img-src: [x]\n', /img-src/));
  it('rejects a hook without triggeredBy', () => reject(good + 'hooks:\n  - name: H\n', /hooks\.0\.triggeredBy/));
});

describe('strict YAML subset', () => {
  it('reads maps, lists, quoted scalars, flow collections and comments', () => {
    const doc = parseStrictYaml(
      [
        '# comment',
        'a: plain text # trailing comment',
        'b: "quoted: with # hash"',
        "c: 'it''s'",
        'd:',
        '  - x',
        '  - k: v',
        '    k2: [p, "q r"]',
        'e:',
        '- same-indent item',
        'f: {m: n, o: "p"}',
        'g:',
      ].join('\n'),
    );
    expect(doc).toEqual({
      a: 'plain text',
      b: 'quoted: with # hash',
      c: "it's",
      d: ['x', { k: 'v', k2: ['p', 'q r'] }],
      e: ['same-indent item'],
      f: { m: 'n', o: 'p' },
      g: null,
    });
  });

  const bad: [string, string, RegExp][] = [
    ['an anchor', 'a: &x 1\n', /not supported/],
    ['an alias', 'a: *x\n', /not supported/],
    ['a block scalar', 'a: |\n  text\n', /not supported/],
    ['a tag', 'a: !!str 1\n', /not supported/],
    ['a tab in indentation', 'a:\n\t- x\n', /tab/],
    ['a second document', 'a: 1\n---\nb: 2\n', /documents/],
    ['bad indentation', 'a: 1\n   b: 2\n', /indentation/],
    ['an unterminated quote', 'a: "open\n', /unterminated/],
    ['a plain scalar with ": "', 'a: b: c\n', /quote it/],
    ['a duplicate key in a list item', 'a:\n  - k: 1\n    k: 2\n', /duplicate key "k"/],
  ];
  for (const [name, text, message] of bad) {
    it(`rejects ${name} with the line number`, () => {
      let caught: unknown;
      try {
        parseStrictYaml(text);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(YamlError);
      expect((caught as Error).message).toMatch(/^line \d+: /);
      expect((caught as Error).message).toMatch(message);
    });
  }

  it('a broken manifest is reported as a load error', () => {
    expect(() => parseManifest('name: [unclosed\n', '/p/x.yml')).toThrow(ManifestError);
  });
});
