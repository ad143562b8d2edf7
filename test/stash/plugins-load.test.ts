import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listPlugins, loadPlugins } from '../stash-host/host';
import { PLEX_SYNC } from '../stash-host/neighbours';

const manifestSource = path.resolve(__dirname, '../../plugin.yml');

describe('loading a plugins folder as Stash does', () => {
  let plugins: string;
  beforeEach(() => {
    plugins = path.join(mkdtempSync(path.join(os.tmpdir(), 'plexcourier-plugins-')), 'plugins');
  });
  afterEach(() => rmSync(path.dirname(plugins), { recursive: true, force: true }));

  const install = (file: string, text: string) => {
    const full = path.join(plugins, file);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, text);
  };
  const installOurs = (dir = 'plexcourier') => {
    mkdirSync(path.join(plugins, dir), { recursive: true });
    copyFileSync(manifestSource, path.join(plugins, dir, 'plexcourier.yml'));
  };

  it('loads PlexCourier beside the community "Plex Sync" (id PlexSync), and lists both', () => {
    install(PLEX_SYNC.file, PLEX_SYNC.yml);
    installOurs();
    const loaded = loadPlugins(plugins);
    expect(loaded.log).toEqual([]);
    expect(loaded.plugins.map((p) => p.id)).toEqual(['PlexSync', 'plexcourier']);
    expect(listPlugins(loaded.plugins, ['PlexSync']).map((p) => [p.name, p.enabled])).toEqual([
      ['Plex Sync', false],
      ['PlexCourier', true],
    ]);
  });

  it('refuses a second plugin whose id differs only in case, logs it, and goes on loading (community/ comes first)', () => {
    install(PLEX_SYNC.file, PLEX_SYNC.yml);
    install('plexsync/plexsync.yml', PLEX_SYNC.yml.replace('Plex Sync', 'Our old name'));
    installOurs();
    const loaded = loadPlugins(plugins);
    expect(loaded.plugins.map((p) => p.id)).toEqual(['PlexSync', 'plexcourier']);
    expect(loaded.log).toEqual([
      { level: 'error', msg: `Error loading plugin ${path.join(plugins, 'plexsync', 'plexsync.yml')}: plugin ID plexsync already exists` },
    ]);
  });

  it('would refuse PlexCourier itself behind a plugin with the same id in another case', () => {
    install('community/PlexCourier/PlexCourier.yml', PLEX_SYNC.yml);
    installOurs();
    const loaded = loadPlugins(plugins);
    expect(loaded.plugins.map((p) => p.id)).toEqual(['PlexCourier']);
    expect(loaded.log[0]?.msg).toMatch(/plugin ID plexcourier already exists$/);
  });

  it('logs a manifest that does not load and loads the rest; only exact .yml files count', () => {
    install('broken/broken.yml', 'name: Broken\nunknown_key: 1\n');
    install('other/other.yaml', 'name: [not parsed at all\n');
    installOurs();
    const loaded = loadPlugins(plugins);
    expect(loaded.plugins.map((p) => p.id)).toEqual(['plexcourier']);
    expect(loaded.log).toHaveLength(1);
    expect(loaded.log[0]?.msg).toMatch(/^Error loading plugin .*broken\.yml: .*unknown_key/);
  });
});
