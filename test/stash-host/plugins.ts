import { readdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadManifest, ManifestError, type Manifest } from './manifest';

/**
 * Loads every plugin under a plugins folder the way Stash's ReloadPlugins does
 * (reference/stash-plugin-protocol.md §1.1, and "Seen in a running Stash"):
 * - walks the tree recursively in lexical order, following symlinks, and parses every file whose extension is
 *   exactly `.yml` (`.yaml`, `.YML` ignored);
 * - a manifest that does not load is logged ("Error loading plugin …") and skipped;
 * - ids are unique ignoring case: a later plugin whose id differs only in case from one already loaded is
 *   refused with one log line ("plugin ID <id> already exists"), and loading goes on. So the package
 *   manager's `community/PlexSync/` is loaded before a `plexsync/` beside it, and wins.
 */
export interface LoadedPlugins {
  plugins: Manifest[];
  /** Stash's log lines from the load, in order. */
  log: { level: 'error'; msg: string }[];
}

export function loadPlugins(pluginsPath: string): LoadedPlugins {
  const loaded: LoadedPlugins = { plugins: [], log: [] };
  const taken = new Set<string>();
  const visited = new Set<string>(); // Stash loops forever on a symlink cycle (§1.1); a test host must not
  const walk = (dir: string): void => {
    let real: string;
    try {
      real = realpathSync(dir);
    } catch {
      return;
    }
    if (visited.has(real)) return;
    visited.add(real);
    // Go's filepath.Walk / ReadDir order: names sorted bytewise.
    const names = readdirSync(dir).sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
    for (const name of names) {
      const full = path.join(dir, name);
      let st;
      try {
        st = statSync(full); // follows symlinks
      } catch {
        continue;
      }
      if (st.isDirectory()) {
        walk(full);
        continue;
      }
      if (path.extname(name) !== '.yml') continue;
      let manifest: Manifest;
      try {
        manifest = loadManifest(full);
      } catch (err) {
        if (!(err instanceof ManifestError)) throw err;
        loaded.log.push({ level: 'error', msg: err.message });
        continue;
      }
      const key = manifest.id.toLowerCase();
      if (taken.has(key)) {
        loaded.log.push({ level: 'error', msg: `Error loading plugin ${full}: plugin ID ${key} already exists` });
        continue;
      }
      taken.add(key);
      loaded.plugins.push(manifest);
    }
  };
  walk(pluginsPath);
  return loaded;
}

/** A loaded plugin as Stash's GraphQL `plugins` query lists it (types/plugin.graphql). */
export interface ListedPlugin {
  id: string;
  name: string;
  description: string | null;
  version: string | null;
  enabled: boolean;
  hooks: { name: string; description: string | null; hooks: string[] }[];
  tasks: { name: string; description: string | null }[];
}

/** What `plugins { … }` answers for these plugins; ids in `disabled` are listed as disabled (plugins.disabled). */
export function listPlugins(plugins: Manifest[], disabled: string[] = []): ListedPlugin[] {
  return plugins.map((m) => ({
    id: m.id,
    name: m.name,
    description: m.description ?? null,
    version: m.version ?? null,
    enabled: !disabled.includes(m.id),
    hooks: m.hooks.map((h) => ({ name: h.name, description: h.description ?? null, hooks: h.triggeredBy })),
    tasks: m.tasks.map((t) => ({ name: t.name, description: t.description ?? null })),
  }));
}
