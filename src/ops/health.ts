import { dataPaths } from '../paths';
import { PlexService } from '../plex/service';
import { clientOptionsFromConnection, StashClient } from '../stash/graphql';
import { createStashLogger } from '../stash/log';
import { loadSettings, SettingsError } from '../stash/settings';
import { plexServiceOptions } from '../worker/config';
import type { OperationHandler } from './index';
import type { UiHealth } from './ui-types';

/** Settings the panel may send to test before saving them. Only these, and only as text. */
const OVERRIDABLE = ['plex_url', 'plex_token', 'plex_libraries', 'path_map', 'plex_tls_insecure', 'plex_ca_file'] as const;

/**
 * `health`: the settings panel's Test connection and the page's Health Check. Reads the saved settings
 * from Stash, with the panel's unsaved connection fields on top, and asks Plex: reachable, token
 * accepted, libraries. With `deep: true` it also samples Stash scenes and says how many Plex has (the
 * path map check; it reads every library's paths, so it takes longer). Never answers the token.
 */
export const healthOperation: OperationHandler = async (ctx, args): Promise<UiHealth> => {
  const log = createStashLogger();
  const empty: UiHealth = { ok: false, problem: null, plex: { reachable: false, tokenValid: false, serverName: null, version: null, libraries: [] }, paths: null, warnings: [] };
  let saved: Record<string, unknown>;
  try {
    saved = await new StashClient({ ...clientOptionsFromConnection(ctx.connection), timeoutMs: 5_000 }).fetchPluginSettings();
  } catch (err) {
    return { ...empty, problem: `Stash did not give PlexCourier its settings: ${(err as Error).message}` };
  }
  const raw: Record<string, unknown> = { ...saved };
  for (const key of OVERRIDABLE) if (args[key] !== undefined && args[key] !== null) raw[key] = args[key];
  let loaded;
  try {
    loaded = loadSettings(raw);
  } catch (err) {
    if (err instanceof SettingsError) return { ...empty, problem: err.message };
    throw err;
  }
  const { settings, warnings } = loaded;
  log.addSecret(settings.plexToken);
  const plex = new PlexService(plexServiceOptions(settings, dataPaths(ctx.dataDir), { debug: () => {}, info: () => {}, warn: () => {} }));
  try {
    const h = await plex.health();
    const report: UiHealth = {
      ok: !h.problem,
      problem: h.problem ? h.problem.message : null,
      plex: { reachable: h.reachable, tokenValid: h.tokenValid, serverName: h.serverName ?? null, version: h.version ?? null, libraries: h.libraries.map((l) => l.title) },
      paths: null,
      warnings,
    };
    if (!report.ok || args.deep !== true) return report;
    await plex.refreshIndex();
    const sample = await new StashClient(clientOptionsFromConnection(ctx.connection, settings.stashApiKey)).findScenesPage({ page: 1, perPage: 200, sort: 'random', direction: 'ASC' });
    const withFiles = sample.scenes.filter((s) => s.files.length > 0);
    const missing: string[] = [];
    for (const s of withFiles) {
      let found = false;
      for (const f of s.files) if (!found) found = await plex.isIndexed(f.path);
      if (!found) missing.push(s.files[0]!.path);
    }
    report.paths = { sampled: withFiles.length, found: withFiles.length - missing.length, examples: missing.slice(0, 3) };
    if (missing.length > withFiles.length / 2) {
      report.ok = false;
      report.problem = `Plex has only ${withFiles.length - missing.length} of ${withFiles.length} sampled scene files${settings.pathMap.length === 0 ? '; if Plex sees your media under another path than Stash does (Docker), set the path map, e.g. /data=>/media' : '; check the path map'}`;
    }
    return report;
  } finally {
    await plex.close();
  }
};
