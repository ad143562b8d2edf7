import { PLUGIN_ID, type StashPlugin } from '../stash/graphql';

/**
 * Other Stash plugins that write to Plex when a scene is saved. Two writers on the same Plex items fight: each
 * overwrites the other's title, tags and poster, and whichever runs last wins, scene by scene.
 *
 * Known ones by id or name: the community index's "Plex Sync" (id PlexSync, for the old StashPlexAgent) and
 * Stash2Plex (first called PlexSync). Any other counts when one of its hooks fires on Scene.Update.Post and
 * its name or id mentions Plex. Only enabled plugins write; ours is never listed.
 */
const KNOWN = new Set(['plexsync', 'stash2plex']);
const squash = (text: string) => text.toLowerCase().replace(/[^a-z0-9]/g, '');

export function otherPlexWriters(plugins: StashPlugin[]): StashPlugin[] {
  return plugins.filter((p) => {
    if (!p.enabled || p.id.toLowerCase() === PLUGIN_ID) return false;
    if (KNOWN.has(squash(p.id)) || KNOWN.has(squash(p.name))) return true;
    const onSceneUpdate = (p.hooks ?? []).some((h) => (h.hooks ?? []).includes('Scene.Update.Post'));
    return onSceneUpdate && (/plex/i.test(p.name) || /plex/i.test(p.id));
  });
}

/** One log line for the Health Check, or undefined when no other writer is enabled. */
export function describePlexWriters(writers: StashPlugin[]): string | undefined {
  if (writers.length === 0) return undefined;
  const names = writers.map((p) => `"${p.name}" (${p.id})`).join(', ');
  const one = writers.length === 1;
  return (
    `${one ? 'Another enabled plugin also writes' : 'Other enabled plugins also write'} to Plex when a scene is saved: ${names}. ` +
    'Two writers fight over the same Plex items (each overwrites what the other wrote, scene by scene); ' +
    `disable ${one ? 'it' : 'them'} in Settings > Plugins, or disable PlexCourier.`
  );
}
