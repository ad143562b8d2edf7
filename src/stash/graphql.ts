import http from 'node:http';
import https from 'node:https';
import { z } from 'zod';
import { SCENE_FIELDS, stashSceneSchema, type StashScene } from './scene';
import { stashBaseUrl, type ServerConnection } from './input';

/**
 * The plugin's GraphQL client for Stash (reference/stash-plugin-protocol.md §6). Every query is a named
 * constant in `STASH_QUERIES` so that test/stash/graphql.test.ts validates all of them against Stash's
 * real schema.
 */

export const PLUGIN_ID = 'plexcourier';

export const SETTINGS_QUERY = `query PlexCourierSettings {
  configuration { plugins(include: ["${PLUGIN_ID}"]) }
}`;

export const FIND_SCENE_QUERY = `query PlexCourierFindScene($id: ID!) {
  findScene(id: $id) { ${SCENE_FIELDS} }
}`;

// `ids` replaces the deprecated `scene_ids` (schema.graphql findScenes); per_page -1 = all of them.
export const FIND_SCENES_BY_IDS_QUERY = `query PlexCourierFindScenesByIds($ids: [ID!]) {
  findScenes(ids: $ids, filter: { per_page: -1 }) { count scenes { ${SCENE_FIELDS} } }
}`;

export const FIND_SCENES_PAGE_QUERY = `query PlexCourierFindScenesPage($filter: FindFilterType, $scene_filter: SceneFilterType) {
  findScenes(filter: $filter, scene_filter: $scene_filter) { count scenes { ${SCENE_FIELDS} } }
}`;

/** Just ids and timestamps: enough for Sync All / Sync Recent to enqueue without hydrating. */
export const SCENE_IDS_PAGE_QUERY = `query PlexCourierSceneIdsPage($filter: FindFilterType, $scene_filter: SceneFilterType) {
  findScenes(filter: $filter, scene_filter: $scene_filter) { count scenes { id updated_at } }
}`;

/** Every plugin Stash loaded, enabled or not, with its hooks: the Health Check looks for other Plex writers. */
export const PLUGINS_QUERY = `query PlexCourierPlugins {
  plugins { id name enabled hooks { name hooks } }
}`;

export const STASH_QUERIES = {
  SETTINGS_QUERY,
  FIND_SCENE_QUERY,
  FIND_SCENES_BY_IDS_QUERY,
  FIND_SCENES_PAGE_QUERY,
  SCENE_IDS_PAGE_QUERY,
  PLUGINS_QUERY,
} as const;

export type StashErrorKind = 'unreachable' | 'unauthorized' | 'graphql' | 'invalid_response';

export class StashError extends Error {
  override name = 'StashError';
  constructor(
    readonly kind: StashErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface StashClientOptions {
  /** Base URL, e.g. `http://127.0.0.1:9999` (no `/graphql`). */
  url: string;
  /** Value of Stash's `session` cookie; refreshed from every Set-Cookie. */
  sessionCookie?: string;
  /** Sent as the `ApiKey` header, never in a URL. */
  apiKey?: string;
  /** Per request. Default 30 s. */
  timeoutMs?: number;
  /** Accept any certificate. Default: only for loopback hosts, where Stash's cert is usually self-signed (§6.1). */
  insecureTls?: boolean;
}

/** Client options for the Stash that started this process. */
export function clientOptionsFromConnection(conn: ServerConnection, apiKey?: string): StashClientOptions {
  return {
    url: stashBaseUrl(conn),
    ...(conn.sessionCookie ? { sessionCookie: conn.sessionCookie.value } : {}),
    ...(apiKey ? { apiKey } : {}),
  };
}

export interface ScenePageQuery {
  /** 1-based. */
  page: number;
  /** At least 500 is sensible for full scans; Stash caps nothing. */
  perPage: number;
  /** A Stash sort key; default `id` (stable while scenes are added). */
  sort?: string;
  direction?: 'ASC' | 'DESC';
  updatedSince?: Date;
  createdSince?: Date;
}

function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\./.test(h);
}

const graphqlEnvelope = z.object({
  data: z.unknown().optional(),
  errors: z.array(z.object({ message: z.string() }).passthrough()).nullish(),
});

const sceneListSchema = z.object({ findScenes: z.object({ count: z.number().int(), scenes: z.array(stashSceneSchema) }) });
const stashPluginSchema = z.object({
  id: z.string(),
  name: z.string(),
  enabled: z.boolean(),
  hooks: z.array(z.object({ name: z.string(), hooks: z.array(z.string()).nullish() })).nullish(),
});
export type StashPlugin = z.output<typeof stashPluginSchema>;
const pluginListSchema = z.object({ plugins: z.array(stashPluginSchema).nullish() });

const idListSchema = z.object({
  findScenes: z.object({ count: z.number().int(), scenes: z.array(z.object({ id: z.string(), updated_at: z.string() })) }),
});

// Stash accepts RFC 3339 for timestamp criteria.
function timestamp(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function pageVariables(q: ScenePageQuery): Record<string, unknown> {
  const sceneFilter: Record<string, unknown> = {};
  if (q.updatedSince) sceneFilter.updated_at = { value: timestamp(q.updatedSince), modifier: 'GREATER_THAN' };
  if (q.createdSince) sceneFilter.created_at = { value: timestamp(q.createdSince), modifier: 'GREATER_THAN' };
  return {
    filter: { page: q.page, per_page: q.perPage, sort: q.sort ?? 'id', direction: q.direction ?? 'ASC' },
    ...(Object.keys(sceneFilter).length ? { scene_filter: sceneFilter } : {}),
  };
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export class StashClient {
  private readonly base: URL;
  private cookie: string | undefined;
  private readonly apiKey: string | undefined;
  private readonly timeoutMs: number;
  private readonly agent: http.Agent;

  constructor(opts: StashClientOptions) {
    try {
      this.base = new URL(opts.url);
    } catch {
      throw new StashError('unreachable', `Stash URL "${opts.url}" is not a URL`);
    }
    this.cookie = opts.sessionCookie || undefined;
    this.apiKey = opts.apiKey || undefined;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.agent =
      this.base.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, rejectUnauthorized: !(opts.insecureTls ?? isLoopback(this.base.hostname)) })
        : new http.Agent({ keepAlive: true });
  }

  /** The current session cookie value (after any refresh), for handing to a child process. */
  get sessionCookie(): string | undefined {
    return this.cookie;
  }

  get baseUrl(): string {
    return this.base.origin;
  }

  /** Releases keep-alive sockets so a short-lived process can exit promptly. */
  close(): void {
    this.agent.destroy();
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const h: Record<string, string> = { ...extra };
    // Send the cookie even alongside the API key: Stash's hook recursion guard reads it (§4.6, §6.2).
    if (this.cookie) h.Cookie = `session=${this.cookie}`;
    if (this.apiKey) h.ApiKey = this.apiKey;
    return h;
  }

  private send(method: 'GET' | 'POST', target: URL, body?: Buffer, extraHeaders: Record<string, string> = {}): Promise<RawResponse> {
    const mod = target.protocol === 'https:' ? https : http;
    const headers = this.headers(extraHeaders);
    if (body) headers['Content-Length'] = String(body.length);
    return new Promise<RawResponse>((resolve, reject) => {
      const req = mod.request(target, { method, headers, agent: this.agent, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(new StashError('unreachable', `connection to Stash at ${this.base.origin} broke: ${err.message}`)));
        res.on('end', () => {
          this.absorbSetCookie(res.headers['set-cookie']);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', (err) =>
        reject(new StashError('unreachable', `cannot reach Stash at ${this.base.origin} (${err.message}); is Stash running?`)),
      );
      req.end(body);
    });
  }

  // Stash refreshes the session on every authenticated request (§6.2): keep the newest so a long task
  // outlives the one-hour session age.
  private absorbSetCookie(header: string[] | undefined): void {
    for (const line of header ?? []) {
      const m = /^\s*session=([^;]*)/.exec(line);
      if (m && m[1]) this.cookie = m[1];
    }
  }

  private unauthorized(): StashError {
    return new StashError(
      'unauthorized',
      this.apiKey
        ? 'Stash rejected the plugin\'s API key (HTTP 401); check stash_api_key in Settings > Plugins > PlexCourier'
        : 'Stash rejected the plugin\'s session (HTTP 401); set stash_api_key in Settings > Plugins > PlexCourier',
      401,
    );
  }

  /** Runs one GraphQL operation and returns its `data`. */
  async request<T = unknown>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const body = Buffer.from(JSON.stringify({ query, variables }));
    const res = await this.send('POST', new URL('/graphql', this.base), body, { 'Content-Type': 'application/json', Accept: 'application/json' });
    if (res.status === 401 || res.status === 403) throw this.unauthorized();
    let json: unknown;
    try {
      json = JSON.parse(res.body.toString('utf8'));
    } catch {
      throw new StashError('invalid_response', `Stash answered HTTP ${res.status} with something that is not JSON`, res.status);
    }
    const env = graphqlEnvelope.safeParse(json);
    if (!env.success) throw new StashError('invalid_response', `Stash answered HTTP ${res.status} without a GraphQL result`, res.status);
    if (env.data.errors && env.data.errors.length > 0) {
      throw new StashError('graphql', `Stash GraphQL error: ${env.data.errors.map((e) => e.message).join('; ')}`, res.status);
    }
    if (res.status >= 400) throw new StashError('invalid_response', `Stash answered HTTP ${res.status}`, res.status);
    if (env.data.data === undefined || env.data.data === null) throw new StashError('invalid_response', 'Stash returned no data');
    return env.data.data as T;
  }

  private parse<S extends z.ZodType>(schema: S, data: unknown, what: string): z.output<S> {
    const r = schema.safeParse(data);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new StashError('invalid_response', `Stash returned ${what} in an unexpected shape (${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'})`);
    }
    return r.data;
  }

  /** PlexCourier's saved settings: `{}` when the user never saved any (§5). */
  async fetchPluginSettings(): Promise<Record<string, unknown>> {
    const data = await this.request(SETTINGS_QUERY);
    const parsed = this.parse(z.object({ configuration: z.object({ plugins: z.record(z.string(), z.unknown()).nullish() }) }), data, 'the plugin settings');
    const mine = parsed.configuration.plugins?.[PLUGIN_ID];
    return mine && typeof mine === 'object' && !Array.isArray(mine) ? (mine as Record<string, unknown>) : {};
  }

  /** The plugins Stash loaded (`plugins` is null in a Stash that lists none). */
  async fetchPlugins(): Promise<StashPlugin[]> {
    const data = await this.request(PLUGINS_QUERY);
    return this.parse(pluginListSchema, data, 'the plugin list').plugins ?? [];
  }

  /** One scene, or null when Stash has no scene with that id (deleted since the event). */
  async findScene(id: string): Promise<StashScene | null> {
    const data = await this.request(FIND_SCENE_QUERY, { id });
    return this.parse(z.object({ findScene: stashSceneSchema.nullable() }), data, `scene ${id}`).findScene;
  }

  /** Many scenes in one request; ids Stash does not know are missing from the result. */
  async findScenesByIds(ids: string[]): Promise<StashScene[]> {
    return this.requestKnownScenes(ids, async (known) => this.parse(sceneListSchema, await this.request(FIND_SCENES_BY_IDS_QUERY, { ids: known }), 'scenes').findScenes.scenes, []);
  }

  /**
   * Runs a query over scene ids, leaving out those Stash does not know. A real Stash (v0.30.1, seen by
   * hand) fails a whole `findScenes(ids:)` with "scene with id N not found" when one id is unknown (a
   * scene deleted or merged away): the ids it names are dropped and the query asked again.
   */
  async requestKnownScenes<T>(ids: readonly string[], run: (known: string[]) => Promise<T>, none: T): Promise<T> {
    let left = [...new Set(ids)];
    while (left.length > 0) {
      try {
        return await run(left);
      } catch (err) {
        const missing = err instanceof StashError && err.kind === 'graphql' ? [...err.message.matchAll(/scene with id (\d+) not found/g)].map((m) => m[1]) : [];
        const next = left.filter((id) => !missing.includes(id));
        if (next.length === left.length) throw err;
        left = next;
      }
    }
    return none;
  }

  /** One page of fully hydrated scenes. */
  async findScenesPage(q: ScenePageQuery): Promise<{ count: number; scenes: StashScene[] }> {
    const data = await this.request(FIND_SCENES_PAGE_QUERY, pageVariables(q));
    return this.parse(sceneListSchema, data, 'a page of scenes').findScenes;
  }

  /** One page of scene ids with their updated_at. */
  async sceneIdsPage(q: ScenePageQuery): Promise<{ count: number; scenes: { id: string; updated_at: string }[] }> {
    const data = await this.request(SCENE_IDS_PAGE_QUERY, pageVariables(q));
    return this.parse(idListSchema, data, 'a page of scene ids').findScenes;
  }

  /**
   * Fetches an image Stash serves (a scene's `paths.screenshot`) with the same credentials. The URL's
   * origin is replaced by ours: Stash builds it from the request's Host or `external_host` (§6.3),
   * which the plugin may not be able to reach.
   */
  async fetchImage(url: string): Promise<{ bytes: Buffer; contentType: string }> {
    let target: URL;
    try {
      const given = new URL(url, this.base);
      target = new URL(given.pathname + given.search, this.base);
    } catch {
      throw new StashError('invalid_response', `Stash image URL "${url}" is not a URL`);
    }
    const res = await this.send('GET', target);
    if (res.status === 401 || res.status === 403) throw this.unauthorized();
    if (res.status !== 200) throw new StashError('invalid_response', `Stash answered HTTP ${res.status} for image ${target.pathname}`, res.status);
    const contentType = String(res.headers['content-type'] ?? 'application/octet-stream').split(';')[0]!.trim();
    return { bytes: res.body, contentType };
  }

  /**
   * A scene's cover, or null when Stash has none. Stash never answers 404 for a scene without a cover: it
   * serves its default image instead, an SVG icon (`static.DefaultSceneImage`, sent as `image/svg+xml`), and
   * that icon must never replace the poster Plex made itself. Real covers are raster images (JPEG, PNG, WebP).
   */
  async fetchCover(url: string): Promise<{ bytes: Buffer; contentType: string } | null> {
    const image = await this.fetchImage(url);
    return isRasterImage(image) ? image : null;
  }
}

/** JPEG, PNG, WebP or GIF, by content type, or by signature when Stash sent a generic type. */
export function isRasterImage(image: { bytes: Buffer; contentType: string }): boolean {
  if (/^image\/(jpeg|jpg|png|webp|gif)$/i.test(image.contentType)) return true;
  if (image.contentType !== 'application/octet-stream') return false;
  const b = image.bytes;
  return (
    (b[0] === 0xff && b[1] === 0xd8) ||
    b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) ||
    (b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP') ||
    b.subarray(0, 4).toString('latin1') === 'GIF8'
  );
}
