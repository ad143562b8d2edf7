/**
 * Stand-ins for plugins a user may have installed beside PlexCourier, as manifests only (their code never
 * runs here). Shapes follow reference/stash2plex-inventory.md and the community index's "Plex Sync".
 */

/** The community index's "Plex Sync" (id PlexSync, a Python helper for StashPlexAgent), where Stash's package manager puts it. */
export const PLEX_SYNC = {
  file: 'community/PlexSync/PlexSync.yml',
  yml: `name: Plex Sync
description: Stand-in for the community "Plex Sync" plugin, which refreshes the Plex item of an updated scene
version: 0.5.0
exec:
  - python
  - "{pluginDir}/PlexSync.py"
interface: raw
hooks:
  - name: Update Plex on scene update
    description: Asks Plex to refresh the scene's metadata
    triggeredBy:
      - Scene.Update.Post
    defaultArgs:
      mode: hook
`,
};

/** Stash2Plex, another plugin that writes to Plex on scene updates. */
export const STASH2PLEX = {
  file: 'community/Stash2Plex/Stash2Plex.yml',
  yml: `name: Stash2Plex
description: Stand-in for Stash2Plex
version: 1.6.14
exec:
  - python
  - "{pluginDir}/Stash2Plex.py"
interface: raw
hooks:
  - name: Sync scene to Plex
    triggeredBy:
      - Scene.Update.Post
tasks:
  - name: Sync All
    defaultArgs:
      mode: all
`,
};

/** A plugin of another name that writes to Plex on scene updates. */
export const PLEX_POSTERS = {
  file: 'plex-posters/plex-posters.yml',
  yml: `name: Plex Poster Pusher
exec:
  - python
  - "{pluginDir}/push.py"
interface: raw
hooks:
  - name: Push poster
    triggeredBy:
      - Scene.Update.Post
      - Scene.Create.Post
`,
};

/** Hooks on scene updates, but nothing to do with Plex. */
export const TAGGER = {
  file: 'community/AutoTagger/AutoTagger.yml',
  yml: `name: Auto Tagger
exec:
  - python
  - "{pluginDir}/tag.py"
interface: raw
hooks:
  - name: Tag
    triggeredBy:
      - Scene.Update.Post
`,
};

/** Mentions Plex, but only has a task: it writes nothing when a scene is saved. */
export const PLEX_REPORT = {
  file: 'plex-report/plex-report.yml',
  yml: `name: Plex Library Report
exec:
  - python
  - "{pluginDir}/report.py"
interface: raw
tasks:
  - name: Report
    defaultArgs:
      mode: report
`,
};
