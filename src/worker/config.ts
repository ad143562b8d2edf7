import { dataPaths, type DataPaths } from '../paths';
import type { ServerConnection } from '../stash/input';
import { loadSettings, SettingsError, type Settings } from '../stash/settings';
import { clientOptionsFromConnection, StashClient, StashError } from '../stash/graphql';
import { PlexService } from '../plex/service';
import { DEFAULT_MAP_OPTIONS, type MapOptions } from '../sync/map';
import { backoffPolicyFromSettings, type BackoffPolicy } from '../policy/backoff';
import { settingsFingerprint } from '../policy/auth-pause';
import type { EngineInit } from './messages';
import type { Logger } from './filelog';

/** Settings are read again this often, so a token fixed in Stash's UI is picked up without a restart. */
const SETTINGS_TTL_MS = 60_000;
/** When scene edits arrive, settings older than this are read again first (a setting changed just before a Save applies to it). */
const SETTINGS_TTL_ACTIVE_MS = 10_000;
/** While the queue is paused or misconfigured, the user is probably fixing a setting right now. */
const SETTINGS_TTL_URGENT_MS = 5_000;

/**
 * The worker's view of the outside: where Stash is (the freshest connection a hook or task handed
 * us, or STASH_URL for the foreground worker), the settings saved in Stash, and the Plex service
 * built from them. Secrets stay in memory only.
 */
export class Config {
  private connection: ServerConnection | undefined;
  private connectionAt = 0;
  private stashClient: StashClient | undefined;
  private apiKey: string | undefined;
  private settings: Settings | undefined;
  private settingsAt = 0;
  private plexService: PlexService | undefined;
  private plexKey = '';
  private problem: string | undefined = 'waiting for the first hook or task to tell where Stash is';
  /** Since when Stash has not answered at all (refused, timed out, 5xx), while that lasts. */
  private stashDownSince: number | undefined;
  private lastLoggedProblem: string | undefined;

  constructor(
    private readonly init: EngineInit,
    private readonly log: Logger,
  ) {
    if (init.stashUrl) this.problem = undefined;
  }

  /** A hook or task brought a connection; the newest one carries the freshest session cookie. */
  noteConnection(conn: ServerConnection, at: number): void {
    if (at < this.connectionAt) return;
    const changedEndpoint = !this.connection || this.connection.host !== conn.host || this.connection.port !== conn.port;
    this.connection = conn;
    this.connectionAt = at;
    // A fresh client carries the fresh cookie; the old one's session may have expired (§6.2).
    this.stashClient = undefined;
    if (changedEndpoint || this.problem) this.settingsAt = 0;
  }

  /** Set by the dispatcher while the queue is paused: settings are then re-read every few seconds. */
  urgent = false;

  /** `eventsArrived`: the user is saving in Stash right now, perhaps just after changing a setting: read them sooner. */
  async refresh(force = false, eventsArrived = false): Promise<void> {
    const ttl =
      this.urgent || this.problem || this.stashDownSince !== undefined
        ? SETTINGS_TTL_URGENT_MS
        : eventsArrived
          ? SETTINGS_TTL_ACTIVE_MS
          : SETTINGS_TTL_MS;
    if (!force && Date.now() - this.settingsAt < ttl) return;
    const client = this.ensureStashClient();
    if (!client) return;
    let raw: Record<string, unknown>;
    try {
      raw = { ...(await client.fetchPluginSettings()), ...(this.init.settingsOverride ?? {}) };
    } catch (err) {
      // Keep the settings we had: a Stash restart must not stop a sync that knows what to do.
      this.settingsAt = Date.now();
      if (err instanceof StashError && (err.kind === 'unreachable' || (err.status ?? 0) >= 500)) this.stashDownSince ??= Date.now();
      if (!this.settings) this.setProblem(`cannot read PlexCourier's settings from Stash: ${(err as Error).message}`);
      return;
    }
    this.settingsAt = Date.now();
    this.stashDownSince = undefined;
    try {
      const loaded = loadSettings(raw);
      const firstTime = !this.settings;
      this.settings = loaded.settings;
      this.log.configure({ debug: loaded.settings.debug, obfuscatePaths: loaded.settings.obfuscatePaths });
      if (firstTime) for (const w of loaded.warnings) this.log.warn(w);
      if (loaded.settings.stashApiKey !== this.apiKey) {
        this.apiKey = loaded.settings.stashApiKey;
        this.stashClient = undefined;
      }
      this.rebuildPlexIfNeeded(loaded.settings);
      this.setProblem(undefined);
    } catch (err) {
      if (err instanceof SettingsError) {
        this.settings = undefined;
        this.setProblem(err.message);
        return;
      }
      throw err;
    }
  }

  private ensureStashClient(): StashClient | undefined {
    if (this.stashClient) return this.stashClient;
    const apiKey = this.apiKey ?? (this.init.settingsOverride?.stash_api_key as string | undefined);
    if (this.connection) {
      this.stashClient = new StashClient(clientOptionsFromConnection(this.connection, apiKey));
    } else if (this.init.stashUrl) {
      this.stashClient = new StashClient({ url: this.init.stashUrl, ...(apiKey ? { apiKey } : {}) });
    }
    return this.stashClient;
  }

  private rebuildPlexIfNeeded(s: Settings): void {
    const key = JSON.stringify([s.plexUrl, s.plexToken, s.plexLibraries, s.pathMap, s.plexTlsInsecure, s.plexCaFile, s.concurrency, s.plexConnectTimeoutMs, s.plexRequestTimeoutMs]);
    if (this.plexService && key === this.plexKey) return;
    this.plexKey = key;
    const paths = dataPaths(this.init.dataDir);
    void this.plexService?.close();
    this.plexService = new PlexService(plexServiceOptions(s, paths, this.log));
  }

  private setProblem(problem: string | undefined): void {
    this.problem = problem;
    if (problem && problem !== this.lastLoggedProblem) this.log.error(`${problem} (queued work waits; nothing is lost)`);
    this.lastLoggedProblem = problem;
  }

  ready(): boolean {
    return !this.problem && !!this.settings && !!this.ensureStashClient() && !!this.plexService;
  }

  stash(): StashClient {
    const c = this.ensureStashClient();
    if (!c) throw new Error('no Stash connection yet');
    return c;
  }

  plex(): PlexService {
    if (!this.plexService) throw new Error('Plex is not configured yet');
    return this.plexService;
  }

  private s(): Settings {
    if (!this.settings) throw new Error('settings not loaded yet');
    return this.settings;
  }

  mapOptions(): MapOptions {
    return mapOptionsFromSettings(this.s());
  }

  /** The mapping options, or undefined before the settings were first read. */
  mapOptionsIfKnown(): MapOptions | undefined {
    return this.settings ? mapOptionsFromSettings(this.settings) : undefined;
  }

  retryPolicy(): BackoffPolicy {
    const s = this.s();
    return backoffPolicyFromSettings({
      maxAttempts: s.maxAttempts,
      notFoundHours: s.notFoundRetryHours,
      skipNotFound: s.skipNotFound,
      scanOnNotFound: s.scanNotFound,
    });
  }

  preservePlexEdits(): boolean {
    return this.s().preservePlexEdits;
  }

  posterEnabled(): boolean {
    return this.s().fields.poster;
  }

  backgroundEnabled(): boolean {
    return this.s().fields.background;
  }

  scanNotFound(): boolean {
    return this.s().scanNotFound;
  }

  syncRating(): boolean {
    return this.settings?.fields.rating ?? true;
  }

  /** Plays from Plex (src/plays/): off until settings are loaded and the user turned it on. */
  playsSettings(): { enabled: boolean; accounts: string[] } {
    return { enabled: this.settings?.syncPlaysFromPlex ?? false, accounts: this.settings?.plexAccounts ?? [] };
  }

  /** `dlq_retention_days`, once the settings are known (the store trims nothing by age before). */
  dlqRetentionMs(): number | undefined {
    return this.settings && this.settings.dlqRetentionDays * 86_400_000;
  }

  /** A job found Stash not answering: from now on the settings read tells when it is back. */
  noteStashUnreachable(at = Date.now()): void {
    this.stashDownSince ??= at;
  }

  /** When Stash stopped answering, if it has not answered since (the settings are read from it now and then). */
  stashUnreachableSince(): number | undefined {
    return this.stashDownSince;
  }

  /** How long an idle background worker stays: the setting, unless the environment fixed it. */
  idleMs(): number {
    if (this.init.idleMs > 0) return this.init.idleMs;
    return (this.settings?.workerIdleMinutes ?? 15) * 60_000;
  }

  /** Changes whenever a setting that could cure a paused queue changes (token, URL, TLS). */
  fingerprint(): string {
    const s = this.settings;
    if (!s) return '';
    return settingsFingerprint([s.plexUrl, s.plexToken, String(s.plexTlsInsecure), s.plexCaFile ?? '']);
  }

  describe() {
    return {
      ready: this.ready(),
      problem: this.problem ?? null,
      plexUrl: this.settings?.plexUrl ?? null,
      stash: this.connection ? `${this.connection.scheme}://${this.connection.host}:${this.connection.port}` : (this.init.stashUrl ?? null),
    };
  }
}

/** The Plex service a set of settings describes (the worker's, and the Health task's). */
export function plexServiceOptions(
  s: Settings,
  paths: DataPaths,
  log: Pick<Logger, 'debug' | 'info' | 'warn'>,
): ConstructorParameters<typeof PlexService>[0] {
  return {
    url: s.plexUrl,
    token: s.plexToken,
    clientIdFile: paths.clientIdFile,
    indexFile: paths.plexIndexFile,
    libraries: s.plexLibraries,
    pathMap: s.pathMap.map((m) => ({ stashPrefix: m.stash, plexPrefix: m.plex })),
    maxInFlight: s.concurrency,
    connectTimeoutMs: s.plexConnectTimeoutMs,
    readTimeoutMs: s.plexRequestTimeoutMs,
    tlsInsecure: s.plexTlsInsecure,
    ...(s.plexCaFile ? { caFile: s.plexCaFile } : {}),
    log: (level, msg) => log[level](msg),
  };
}

/** The settings' field switches, as the mapping reads them. */
export function mapOptionsFromSettings(s: Settings): MapOptions {
  const f = s.fields;
  return {
    ...DEFAULT_MAP_OPTIONS,
    title: f.title,
    sortTitle: f.sortTitle ? 'title' : 'off',
    summary: f.summary,
    date: f.date,
    studio: f.studio ? 'studio' : 'off',
    performers: f.performers,
    tags: f.tags ? s.tagTarget : 'off',
    director: f.director,
    rating: f.rating,
    studioCollection: f.studioCollection,
    groupCollections: f.groupCollections,
    contentRating: s.contentRating ?? '',
  };
}
