import { describe, expect, it } from 'vitest';
import { describePlexWriters, otherPlexWriters } from '../../src/tasks/plex-writers';

const plugin = (id: string, name: string, enabled: boolean, triggers: string[] = []) => ({
  id,
  name,
  enabled,
  hooks: triggers.length ? [{ name: 'hook', hooks: triggers }] : null,
});

describe('other plugins that write to Plex', () => {
  it('names the community "Plex Sync" and Stash2Plex when enabled, whatever their hooks', () => {
    const found = otherPlexWriters([plugin('PlexSync', 'Plex Sync', true), plugin('Stash2Plex', 'Stash2Plex', true, ['Scene.Update.Post'])]);
    expect(found.map((p) => p.id)).toEqual(['PlexSync', 'Stash2Plex']);
  });

  it('names any other plugin whose name mentions Plex and whose hooks fire on Scene.Update.Post', () => {
    const found = otherPlexWriters([
      plugin('posters', 'PLEX poster pusher', true, ['Scene.Create.Post', 'Scene.Update.Post']),
      plugin('report', 'Plex Library Report', true),
      plugin('plexish', 'Plex on create', true, ['Scene.Create.Post']),
      plugin('tagger', 'Auto Tagger', true, ['Scene.Update.Post']),
    ]);
    expect(found.map((p) => p.id)).toEqual(['posters']);
  });

  it('ignores disabled plugins and PlexCourier itself', () => {
    expect(otherPlexWriters([plugin('PlexSync', 'Plex Sync', false), plugin('plexcourier', 'PlexCourier', true, ['Scene.Update.Post'])])).toEqual([]);
  });

  it('says in one line who else writes, why it matters and what to do', () => {
    const line = describePlexWriters([plugin('PlexSync', 'Plex Sync', true)]);
    expect(line).toMatch(/^Another enabled plugin also writes to Plex when a scene is saved: "Plex Sync" \(PlexSync\)\. Two writers fight over the same Plex items/);
    expect(line).toMatch(/disable it in Settings > Plugins/);
    expect(describePlexWriters([])).toBeUndefined();
  });
});
