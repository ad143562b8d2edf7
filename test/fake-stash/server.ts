/**
 * A fake Stash for tests and benchmarks: a real HTTP server on 127.0.0.1 speaking Stash's GraphQL
 * against Stash's REAL schema (reference/stash-graphql-schema/, built with the `graphql` package).
 *
 *   const stash = await startFakeStash({ apiKey: 'k-123' });
 *   stash.addScene({ id: '45', title: 'A', files: [{ path: '/media/a.mp4' }] });
 *   stash.setSettings({ plex_url: 'http://127.0.0.1:32400', plex_token: 'tok' });
 *   await runHook(yml, { type: 'Scene.Update.Post', id: 45, ... }, stash.connection);
 *   expect(stash.violations).toEqual([]);
 *   await stash.close();
 *
 * - Every query is parsed and validated against the schema. One that does not validate gets a GraphQL
 *   error (as Stash would) AND is recorded in `violations`, which a test asserts is empty.
 * - Valid queries are executed by graphql-js over the in-memory state: `configuration { plugins }`,
 *   `findScene`, `findScenes` (ids, scene_ids — one unknown id fails the query, as in a real Stash —,
 *   filter page/per_page/sort/direction, scene_filter updated_at/created_at/id/tags/performers/studios/groups), `jobQueue`,
 *   `plugins` (what the test installed), and the play mutations `sceneAddPlay` (NOT idempotent: every
 *   call appends its times, or now, to the scene's play_history, as Stash does) and `sceneSaveActivity`
 *   (sets resume_time when given, adds playDuration). Like Stash, neither fires a hook. Anything else
 *   resolves to null (and errors where non-null).
 * - `GET /scene/<id>/screenshot` serves the scene's image (a small PNG unique per scene by default).
 * - Auth (on unless `auth: false`): `Cookie: session=<v>` or `ApiKey: <key>` header; otherwise 401 with
 *   `WWW-Authenticate: FormBased`. Sessions expire after `sessionMaxAgeMs` (default 1 h) or on
 *   `expireSessions()`. Each cookie-authenticated request gets a refreshed `Set-Cookie: session=…`
 *   with a NEW value, as Stash re-encodes the cookie with a new timestamp (§6.2).
 * - `connection` is the `server_connection` Stash would send (Host "0.0.0.0" as in a default config,
 *   a valid session cookie); pass it to the host in test/stash-host/host.ts.
 * - `requestLog` lists every request (method, path, the full URL, operation name, which credential).
 * - Tags, performers, studios and groups live inside the scenes that use them. `updateEntity`,
 *   `destroyEntity`, `mergeTags` change them as Stash's mutations do and return the hooks Stash fires
 *   (reference/stash-plugin-protocol.md §4.1, and as a real Stash v0.30.1 was seen to): the update input
 *   (every key, absent ones null, for performers and studios; the sent keys for tags and groups) plus
 *   `inputFields`; Destroy with `{id}` only, after the joins are gone; Group.* and Movie.* both; no
 *   scene's updated_at changes. `mergeScenes` moves the sources' files to the destination, deletes the
 *   sources and bumps the destination's updated_at, and returns NO hook (sceneMerge fires none).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema, execute, GraphQLError, GraphQLInputObjectType, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { HookCall } from '../stash-host/host';

// A copy of reference/stash-graphql-schema (stashapp/stash at cf3489e), kept in the repo so CI has it.
export const SCHEMA_DIR = fileURLToPath(new URL('./schema', import.meta.url));

let cachedSchema: GraphQLSchema | undefined;

/** Stash's schema: schema.graphql plus every types/*.graphql, built once per process. */
export function stashSchema(): GraphQLSchema {
  if (!cachedSchema) {
    const typeDir = path.join(SCHEMA_DIR, 'types');
    const parts = [readFileSync(path.join(SCHEMA_DIR, 'schema.graphql'), 'utf8')];
    for (const f of readdirSync(typeDir).sort()) if (f.endsWith('.graphql')) parts.push(readFileSync(path.join(typeDir, f), 'utf8'));
    cachedSchema = buildSchema(parts.join('\n'));
  }
  return cachedSchema;
}

/** Validation errors of a query against Stash's schema; empty when it validates. */
export function validateAgainstStash(query: string): string[] {
  try {
    return validate(stashSchema(), parse(query)).map((e) => e.message);
  } catch (err) {
    return [(err as Error).message];
  }
}

export interface FakeFile {
  id?: string;
  path: string;
  basename?: string;
  size?: number;
  duration?: number;
}

/** A scene as a test writes it; omitted fields get Stash's empty values. */
export interface FakeSceneInput {
  id: string;
  title?: string | null;
  code?: string | null;
  details?: string | null;
  director?: string | null;
  urls?: string[];
  date?: string | null;
  rating100?: number | null;
  organized?: boolean;
  created_at?: string;
  updated_at?: string;
  studio?: { id: string; name: string; parent_studio?: { id: string; name: string } | null } | null;
  performers?: { id: string; name: string; disambiguation?: string | null }[];
  tags?: { id: string; name: string }[];
  groups?: { group: { id: string; name: string }; scene_index?: number | null }[];
  files?: FakeFile[];
  stash_ids?: { endpoint: string; stash_id: string }[];
  o_counter?: number;
  play_count?: number;
  /** Play times (RFC 3339), oldest first; play_count follows it once a play is added. */
  play_history?: string[];
  resume_time?: number | null;
  play_duration?: number | null;
  /**
   * Screenshot bytes; default a small PNG unique to the scene id. `null`: the scene has no cover, and like
   * a real Stash the server answers 200 with its default image, an SVG icon, never 404.
   */
  screenshot?: { bytes: Buffer; contentType: string } | null;
}

/** Stash's stand-in for a missing cover is an SVG (`static.DefaultSceneImage`); ours is a plain one of our own. */
export const DEFAULT_COVER_SVG = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1280 720"><rect width="1280" height="720" fill="#394b59"/>' +
    '<path d="M560 260v200l180-100z" fill="#f5f8fa"/></svg>\n',
);

type StoredScene = Required<Omit<FakeSceneInput, 'screenshot'>> & { files: Required<FakeFile>[]; screenshot?: FakeSceneInput['screenshot'] };

export interface FakeStashOptions {
  /** Require a credential (Stash with a password). Default true. */
  auth?: boolean;
  /** The Stash API key accepted in the `ApiKey` header; none by default. */
  apiKey?: string;
  /** Stash's max_session_age; default 3600 s. */
  sessionMaxAgeMs?: number;
  scenes?: FakeSceneInput[];
  /** PlexCourier's saved settings; undefined = never saved (absent from the plugins map, §5). */
  settings?: Record<string, unknown>;
  /** Answer every /graphql request with this HTTP status instead (outage simulation). */
  failWithStatus?: number;
  /** What `plugins { … }` lists: the plugins a test installed (test/stash-host/plugins.ts listPlugins). Default none. */
  plugins?: FakePlugin[];
}

export interface RequestLogEntry {
  method: string;
  path: string;
  url: string;
  operationName?: string;
  credential: 'cookie' | 'apikey' | 'both' | 'none';
  status: number;
}

export interface Violation {
  query: string;
  errors: string[];
}

/**
 * A plugin as the fake Stash lists it (`plugins` query) and runs it (`runPluginOperation`, `runPluginTask`):
 * the browser tests plug the built plugin in here, run through test/stash-host as Stash runs it.
 */
export interface FakePlugin {
  id: string;
  name: string;
  description?: string | null;
  version?: string | null;
  /** Default true. */
  enabled?: boolean;
  hooks?: { name: string; description?: string | null; hooks: string[] }[];
  tasks?: { name: string; description?: string | null }[];
  settings?: { name: string; display_name: string | null; description: string | null; type: 'STRING' | 'NUMBER' | 'BOOLEAN' }[];
  /** Served paths of its UI files, as Stash's resolver gives them (`/plugin/<id>/javascript`). */
  paths?: { javascript: string[] | null; css: string[] | null };
  /** Runs the plugin as runPluginOperation: resolves to its output, or rejects with its one-line error. */
  runOperation?(args: Record<string, unknown>): Promise<unknown>;
  /** Starts a named task as a job (runPluginTask); the fake returns a job id at once. */
  runTask?(taskName: string, args: Record<string, unknown>): Promise<unknown>;
}

export type FakeEntity = 'tag' | 'performer' | 'studio' | 'group';

/** Fields an entity update may set in the fake (all of the real input type's other keys are sent as null). */
export interface FakeEntityPatch {
  name?: string;
  disambiguation?: string | null;
  description?: string | null;
  /** Studios only: the new parent, or null for none. */
  parent?: { id: string; name: string } | null;
}

export interface FakeStash {
  url: string;
  port: number;
  /** The server_connection fields Stash sends, with a fresh valid session cookie. */
  connection: { Scheme: 'http'; Host: string; Port: number; sessionCookie: string };
  addScene(scene: FakeSceneInput): void;
  /** Merges fields and bumps updated_at to now (or the given updated_at). */
  updateScene(id: string, patch: Partial<FakeSceneInput>): void;
  removeScene(id: string): void;
  getScene(id: string): FakeSceneInput | undefined;
  sceneCount(): number;
  setSettings(settings: Record<string, unknown> | undefined): void;
  /** tagUpdate / performerUpdate / studioUpdate / groupUpdate: the scenes that use it show the change; returns the hooks Stash fires. */
  updateEntity(entity: FakeEntity, id: string, patch: FakeEntityPatch): HookCall[];
  /** tagDestroy and the like: every join goes first, then Destroy fires with {id}. */
  destroyEntity(entity: FakeEntity, id: string): HookCall[];
  /** tagsMerge: scenes with a source tag get the destination instead; the sources are gone. */
  mergeTags(sources: string[], destination: string): HookCall[];
  /** sceneMerge: files move to the destination, the sources are deleted, the destination's updated_at changes; no hook. */
  mergeScenes(sources: string[], destination: string): HookCall[];
  setJobs(jobs: { id: string; status: string; description: string; progress?: number | null }[]): void;
  /** The plugins Stash has loaded (plexcourier's settings stay in `settings`; others' saved settings are kept per id). */
  setPlugins(plugins: FakePlugin[]): void;
  /** Every configurePlugin call, in order: which plugin, and the whole map it stored. */
  configureLog: { pluginId: string; input: Record<string, unknown> }[];
  /** Every runPluginOperation call: which plugin and its args. */
  operationLog: { pluginId: string; args: Record<string, unknown>; at: number }[];
  /** Issues another valid session cookie value. */
  newSession(): string;
  /** Invalidates the given session values, or every session issued so far. */
  expireSessions(values?: string[]): void;
  /** Simulate an outage or a proxy error: every /graphql answer gets this status (undefined to stop). */
  failWith(status: number | undefined): void;
  /** Hold every /graphql answer this long AFTER executing it (a mutation is applied, its answer late): crash tests. */
  setResponseDelay(ms: number): void;
  requestLog: RequestLogEntry[];
  violations: Violation[];
  close(): Promise<void>;
}

// ---- a tiny PNG encoder, so each scene's default screenshot is a real, distinct image ----
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
/** A 1×1 RGB PNG whose colour derives from `seed`. */
export function tinyPng(seed: string): Buffer {
  const h = crc32(Buffer.from(seed));
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(1, 0);
  ihdr.writeUInt32BE(1, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  // zlib stream of one stored block: filter byte 0 + RGB
  const raw = Buffer.from([0, h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff]);
  const adler = (() => {
    let a = 1;
    let b = 0;
    for (const x of raw) {
      a = (a + x) % 65521;
      b = (b + a) % 65521;
    }
    return ((b << 16) | a) >>> 0;
  })();
  const z = Buffer.alloc(2 + 5 + raw.length + 4);
  z[0] = 0x78;
  z[1] = 0x01;
  z[2] = 1;
  z.writeUInt16LE(raw.length, 3);
  z.writeUInt16LE(~raw.length & 0xffff, 5);
  raw.copy(z, 7);
  z.writeUInt32BE(adler, 7 + raw.length);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', z), chunk('IEND', Buffer.alloc(0))]);
}

function stamp(d = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function store(input: FakeSceneInput): StoredScene {
  const now = stamp();
  return {
    id: input.id,
    title: input.title ?? null,
    code: input.code ?? null,
    details: input.details ?? null,
    director: input.director ?? null,
    urls: input.urls ?? [],
    date: input.date ?? null,
    rating100: input.rating100 ?? null,
    organized: input.organized ?? false,
    created_at: input.created_at ?? now,
    updated_at: input.updated_at ?? now,
    studio: input.studio ?? null,
    performers: input.performers ?? [],
    tags: input.tags ?? [],
    groups: input.groups ?? [],
    files: (input.files ?? []).map((f, i) => ({
      id: f.id ?? `${input.id}${i}`,
      path: f.path,
      basename: f.basename ?? path.posix.basename(f.path.replace(/\\/g, '/')),
      size: f.size ?? 1_000_000,
      duration: f.duration ?? 600,
    })),
    stash_ids: input.stash_ids ?? [],
    o_counter: input.o_counter ?? 0,
    play_count: input.play_count ?? input.play_history?.length ?? 0,
    play_history: input.play_history ?? [],
    resume_time: input.resume_time ?? null,
    play_duration: input.play_duration ?? null,
    ...(input.screenshot !== undefined ? { screenshot: input.screenshot } : {}),
  };
}

interface Ctx {
  baseUrl: string;
}

const TYPE_NAMES: Record<FakeEntity, string> = { tag: 'Tag', performer: 'Performer', studio: 'Studio', group: 'Group' };

/** Every field of the real input type, null unless `sent` sets it: how Stash's hook input looks (§4.2). */
function fullInput(typeName: string, sent: Record<string, unknown>): Record<string, unknown> {
  const type = stashSchema().getType(typeName);
  if (!(type instanceof GraphQLInputObjectType)) throw new Error(`Stash's schema has no input type ${typeName}`);
  const input: Record<string, unknown> = {};
  for (const name of Object.keys(type.getFields())) input[name] = name in sent ? sent[name] : null;
  return input;
}

type CriterionInput = { value: string; value2?: string | null; modifier: string };

function matchTime(actual: string, c: CriterionInput): boolean {
  const a = Date.parse(actual);
  const v = Date.parse(c.value);
  if (Number.isNaN(v)) throw new GraphQLError(`invalid timestamp criterion value "${c.value}"`);
  switch (c.modifier) {
    case 'GREATER_THAN':
      return a > v;
    case 'LESS_THAN':
      return a < v;
    case 'EQUALS':
      return a === v;
    case 'BETWEEN':
      return a >= v && a <= Date.parse(c.value2 ?? '');
    default:
      throw new GraphQLError(`fake Stash does not implement timestamp modifier ${c.modifier}`);
  }
}

export async function startFakeStash(opts: FakeStashOptions = {}): Promise<FakeStash> {
  const schema = stashSchema();
  const requireAuth = opts.auth ?? true;
  const maxAge = opts.sessionMaxAgeMs ?? 3_600_000;
  const scenes = new Map<string, StoredScene>();
  for (const s of opts.scenes ?? []) scenes.set(s.id, store(s));
  let settings = opts.settings;
  let jobs: { id: string; status: string; description: string; progress?: number | null }[] = [];
  let plugins: FakePlugin[] = opts.plugins ?? [];
  const otherSettings = new Map<string, Record<string, unknown>>();
  const configureLog: FakeStash['configureLog'] = [];
  const operationLog: FakeStash['operationLog'] = [];
  let nextJobId = 1;
  const finishedJobs = new Map<string, Record<string, unknown>>();
  let failStatus = opts.failWithStatus;
  let responseDelayMs = 0;
  const sessions = new Map<string, number>(); // value → issued at (ms)
  const requestLog: RequestLogEntry[] = [];
  const violations: Violation[] = [];

  const newSession = (): string => {
    const v = randomBytes(24).toString('base64url');
    sessions.set(v, Date.now());
    return v;
  };
  const sessionValid = (v: string | undefined): boolean => {
    if (!v) return false;
    const at = sessions.get(v);
    return at !== undefined && Date.now() - at < maxAge;
  };

  const toGraph = (s: StoredScene): Record<string, unknown> => ({
    ...s,
    last_played_at: s.play_history.at(-1) ?? null,
    paths: {
      screenshot: (_a: unknown, ctx: Ctx) => `${ctx.baseUrl}/scene/${s.id}/screenshot?t=${Date.parse(s.updated_at) / 1000}`,
      preview: (_a: unknown, ctx: Ctx) => `${ctx.baseUrl}/scene/${s.id}/preview`,
      stream: (_a: unknown, ctx: Ctx) => `${ctx.baseUrl}/scene/${s.id}/stream`,
    },
  });

  const findScenes = (args: {
    ids?: string[] | null;
    scene_ids?: number[] | null;
    filter?: { page?: number | null; per_page?: number | null; sort?: string | null; direction?: string | null; q?: string | null } | null;
    scene_filter?: Record<string, unknown> | null;
  }) => {
    let list = [...scenes.values()];
    const wanted = args.ids ?? args.scene_ids?.map(String);
    if (wanted) {
      // A real Stash (v0.30.1) fails the whole query for one unknown id rather than leaving it out.
      const unknown = wanted.map(String).find((id) => !scenes.has(id));
      if (unknown !== undefined) throw new GraphQLError(`scene with id ${unknown} not found`);
      const set = new Set(wanted.map(String));
      list = list.filter((s) => set.has(s.id));
    }
    for (const [key, crit] of Object.entries(args.scene_filter ?? {})) {
      if (crit === null || crit === undefined) continue;
      if (key === 'updated_at' || key === 'created_at') list = list.filter((s) => matchTime(s[key], crit as CriterionInput));
      else if (key === 'id') {
        const c = crit as { value: number; modifier: string };
        if (c.modifier !== 'GREATER_THAN') throw new GraphQLError(`fake Stash does not implement id modifier ${c.modifier}`);
        list = list.filter((s) => Number(s.id) > c.value);
      } else if (key === 'tags' || key === 'performers' || key === 'studios' || key === 'groups') {
        const c = crit as { value?: string[] | null; modifier: string; depth?: number | null; excludes?: string[] | null };
        if (c.modifier !== 'INCLUDES' || c.excludes?.length) throw new GraphQLError(`fake Stash does not implement ${key} modifier ${c.modifier}`);
        const want = new Set((c.value ?? []).map(String));
        const depth = c.depth ?? 0;
        list = list.filter((s) => {
          if (key === 'tags') return s.tags.some((t) => want.has(t.id));
          if (key === 'performers') return s.performers.some((p) => want.has(p.id));
          if (key === 'groups') return s.groups.some((g) => want.has(g.group.id));
          // Studios: depth 0 the studio itself; depth 1 or -1 its parent too (the fake keeps one level).
          return !!s.studio && (want.has(s.studio.id) || (depth !== 0 && !!s.studio.parent_studio && want.has(s.studio.parent_studio.id)));
        });
      } else throw new GraphQLError(`fake Stash does not implement scene_filter.${key}`);
    }
    const f = args.filter ?? {};
    if (f.q) throw new GraphQLError('fake Stash does not implement filter.q');
    const sort = f.sort ?? 'id';
    const dir = f.direction === 'DESC' ? -1 : 1;
    const key = (s: StoredScene): string | number => {
      if (sort === 'id') return Number(s.id);
      if (sort === 'updated_at' || sort === 'created_at') return Date.parse(s[sort]);
      if (sort === 'title') return s.title ?? '';
      // Stash's `random` / `random_<seed>` sort: a stable shuffle per seed.
      const seeded = /^random(?:_(\d+))?$/.exec(sort);
      if (seeded) return createHash('sha1').update(`${seeded[1] ?? '0'}:${s.id}`).digest('hex');
      throw new GraphQLError(`fake Stash does not implement sort ${sort}`);
    };
    list.sort((a, b) => {
      const ka = key(a);
      const kb = key(b);
      return (ka < kb ? -1 : ka > kb ? 1 : Number(a.id) - Number(b.id)) * dir;
    });
    const count = list.length;
    const perPage = f.per_page ?? 25;
    if (perPage >= 0) {
      const page = Math.max(1, f.page ?? 1);
      list = list.slice((page - 1) * perPage, page * perPage);
    }
    return { count, duration: 0, filesize: 0, scenes: list.map(toGraph) };
  };

  const rootValue = {
    findScene: ({ id }: { id?: string }) => {
      const s = id === undefined ? undefined : scenes.get(String(id));
      return s ? toGraph(s) : null;
    },
    findScenes,
    plugins: () =>
      plugins.map((p) => {
        const plugin: Record<string, unknown> = {
          id: p.id,
          name: p.name,
          description: p.description ?? null,
          version: p.version ?? null,
          url: null,
          enabled: p.enabled ?? true,
          requires: null,
          settings: p.settings ?? null,
          paths: p.paths ?? { javascript: null, css: null },
        };
        plugin.hooks = (p.hooks ?? []).map((h) => ({ ...h, plugin }));
        plugin.tasks = (p.tasks ?? []).map((t) => ({ ...t, plugin }));
        return plugin;
      }),
    // Replaces the plugin's whole map, as Stash's does (reference/stash-plugin-protocol.md §5).
    configurePlugin: ({ plugin_id, input }: { plugin_id: string; input: Record<string, unknown> }) => {
      configureLog.push({ pluginId: plugin_id, input: { ...input } });
      if (plugin_id === 'plexcourier') settings = { ...input };
      else otherSettings.set(plugin_id, { ...input });
      return input;
    },
    runPluginOperation: async ({ plugin_id, args }: { plugin_id: string; args?: Record<string, unknown> | null }) => {
      operationLog.push({ pluginId: plugin_id, args: { ...(args ?? {}) }, at: Date.now() });
      const p = plugins.find((x) => x.id === plugin_id);
      if (!p?.runOperation) throw new GraphQLError(`plugin ${plugin_id} not found`);
      return p.runOperation(args ?? {});
    },
    runPluginTask: ({ plugin_id, task_name, args_map }: { plugin_id: string; task_name?: string | null; args_map?: Record<string, unknown> | null }) => {
      const p = plugins.find((x) => x.id === plugin_id);
      if (!p?.runTask || !task_name) throw new GraphQLError(`plugin ${plugin_id} has no task ${task_name ?? ''}`);
      const id = String(nextJobId++);
      const job = { id, status: 'RUNNING', description: `Running plugin task: ${task_name}`, progress: null as number | null, addTime: new Date().toISOString() };
      jobs = [...jobs, job];
      // A finished job leaves the queue but findJob still knows it for a while, as in Stash's job manager.
      const finish = (status: string) => {
        jobs = jobs.filter((j) => j.id !== id);
        finishedJobs.set(id, { ...job, status, progress: status === 'FINISHED' ? 1 : job.progress });
      };
      p.runTask(task_name, args_map ?? {}).then(
        () => finish('FINISHED'),
        () => finish('FAILED'),
      );
      return id;
    },
    configuration: () => ({
      plugins: ({ include }: { include?: string[] | null }) => {
        const all: Record<string, unknown> = { ...Object.fromEntries(otherSettings), ...(settings === undefined ? {} : { plexcourier: settings }) };
        if (!include) return all;
        return Object.fromEntries(Object.entries(all).filter(([k]) => include.includes(k)));
      },
    }),
    jobQueue: () => jobs,
    findJob: ({ input }: { input: { id: string } }) => jobs.find((j) => j.id === input.id) ?? finishedJobs.get(input.id) ?? null,
    sceneAddPlay: ({ id, times }: { id: string; times?: string[] | null }) => {
      const s = scenes.get(String(id));
      if (!s) throw new GraphQLError(`scene with id ${id} not found`);
      const added = (times && times.length ? times : [stamp()]).map((t) => {
        const ms = Date.parse(t);
        if (Number.isNaN(ms)) throw new GraphQLError(`invalid Timestamp "${t}"`);
        return stamp(new Date(ms));
      });
      s.play_history = [...s.play_history, ...added].sort((a, b) => Date.parse(a) - Date.parse(b));
      s.play_count = s.play_history.length;
      return { count: s.play_count, history: s.play_history };
    },
    sceneSaveActivity: ({ id, resume_time, playDuration }: { id: string; resume_time?: number | null; playDuration?: number | null }) => {
      const s = scenes.get(String(id));
      if (!s) throw new GraphQLError(`scene with id ${id} not found`);
      if (resume_time !== undefined && resume_time !== null) s.resume_time = resume_time;
      if (playDuration !== undefined && playDuration !== null && playDuration > 0) s.play_duration = (s.play_duration ?? 0) + playDuration;
      return true;
    },
  };

  /** Query text → its parsed document and validation errors (a parse error leaves no document). */
  const checkedQueries = new Map<string, { doc?: DocumentNode; errors: string[] }>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const cookieHeader = req.headers.cookie ?? '';
      const cookie = /(?:^|;\s*)session=([^;]*)/.exec(cookieHeader)?.[1];
      const apiKeyHeader = req.headers.apikey;
      const apiKeyOk = opts.apiKey !== undefined && apiKeyHeader === opts.apiKey;
      const cookieOk = sessionValid(cookie);
      const credential = cookie && apiKeyHeader ? 'both' : cookie ? 'cookie' : apiKeyHeader ? 'apikey' : 'none';
      const entry: RequestLogEntry = { method: req.method ?? 'GET', path: url.pathname, url: req.url ?? '/', credential, status: 0 };
      requestLog.push(entry);
      const send = (status: number, body: Buffer | string, headers: Record<string, string | string[]> = {}): void => {
        entry.status = status;
        res.writeHead(status, headers);
        res.end(body);
      };
      if (requireAuth && !apiKeyOk && !cookieOk) {
        send(401, 'Unauthorized', { 'WWW-Authenticate': 'FormBased', 'Content-Type': 'text/plain' });
        return;
      }
      const headers: Record<string, string | string[]> = {};
      if (cookieOk) headers['Set-Cookie'] = `session=${newSession()}; Path=/; Max-Age=${Math.round(maxAge / 1000)}; HttpOnly`;

      const shot = /^\/scene\/([^/]+)\/screenshot$/.exec(url.pathname);
      if (req.method === 'GET' && shot) {
        const s = scenes.get(decodeURIComponent(shot[1]!));
        if (!s) return send(404, 'not found', headers);
        const img =
          s.screenshot === null
            ? { bytes: DEFAULT_COVER_SVG, contentType: 'image/svg+xml' }
            : (s.screenshot ?? { bytes: tinyPng(s.id), contentType: 'image/png' });
        return send(200, img.bytes, { ...headers, 'Content-Type': img.contentType });
      }
      if (url.pathname !== '/graphql' || req.method !== 'POST') return send(404, 'not found', headers);
      if (failStatus !== undefined) {
        // Logged with its operation name, so a test can count what the plugin tried during the outage.
        try {
          entry.operationName = /\b(?:query|mutation)\s+(\w+)/.exec(String(JSON.parse(Buffer.concat(chunks).toString('utf8')).query))?.[1];
        } catch {
          // not JSON: logged without a name
        }
        return send(failStatus, 'fake outage', headers);
      }

      let body: { query?: unknown; variables?: unknown; operationName?: unknown };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return send(400, JSON.stringify({ errors: [{ message: 'request body is not JSON' }] }), { ...headers, 'Content-Type': 'application/json' });
      }
      const query = typeof body.query === 'string' ? body.query : '';
      const json = (status: number, payload: unknown) => send(status, JSON.stringify(payload), { ...headers, 'Content-Type': 'application/json' });
      let checked = checkedQueries.get(query);
      if (!checked) {
        try {
          const doc = parse(query);
          checked = { doc, errors: validate(schema, doc).map((e) => e.message) };
        } catch (err) {
          checked = { errors: [(err as Error).message] };
        }
        // The same query text always gets the same verdict: the worker sends a handful of texts many times.
        checkedQueries.set(query, checked);
      }
      const { doc, errors } = checked;
      if (!doc || errors.length > 0) {
        violations.push({ query, errors });
        return json(422, { errors: errors.map((message) => ({ message })) });
      }
      const opDef = doc.definitions.find((d) => d.kind === 'OperationDefinition');
      if (opDef && opDef.kind === 'OperationDefinition' && opDef.name) entry.operationName = opDef.name.value;
      const host = req.headers.host ?? `127.0.0.1:${(server.address() as AddressInfo).port}`;
      const result = execute({
        schema,
        document: doc,
        rootValue,
        contextValue: { baseUrl: `http://${host}` } satisfies Ctx,
        variableValues: (body.variables ?? {}) as Record<string, unknown>,
        operationName: typeof body.operationName === 'string' ? body.operationName : undefined,
      });
      Promise.resolve(result).then(
        (r) => (responseDelayMs > 0 ? setTimeout(() => json(200, r), responseDelayMs) : json(200, r)),
        (err: Error) => json(500, { errors: [{ message: err.message }] }),
      );
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    connection: { Scheme: 'http', Host: '0.0.0.0', Port: port, sessionCookie: newSession() },
    addScene: (s) => void scenes.set(s.id, store(s)),
    updateScene: (id, patch) => {
      const cur = scenes.get(id);
      if (!cur) throw new Error(`fake Stash has no scene ${id}`);
      scenes.set(id, store({ ...cur, ...patch, id, updated_at: patch.updated_at ?? stamp(new Date(Math.max(Date.now(), Date.parse(cur.updated_at) + 1000))) }));
    },
    removeScene: (id) => void scenes.delete(id),
    getScene: (id) => scenes.get(id),
    sceneCount: () => scenes.size,
    setSettings: (s) => {
      settings = s;
    },
    updateEntity: (entity, id, patch) => {
      for (const sc of scenes.values()) {
        if (entity === 'tag') sc.tags = sc.tags.map((t) => (t.id === id && patch.name !== undefined ? { ...t, name: patch.name } : t));
        if (entity === 'performer') {
          sc.performers = sc.performers.map((p) =>
            p.id !== id ? p : { ...p, ...(patch.name !== undefined ? { name: patch.name } : {}), ...(patch.disambiguation !== undefined ? { disambiguation: patch.disambiguation } : {}) },
          );
        }
        if (entity === 'group') sc.groups = sc.groups.map((g) => (g.group.id === id && patch.name !== undefined ? { ...g, group: { ...g.group, name: patch.name } } : g));
        if (entity === 'studio' && sc.studio) {
          const st = sc.studio;
          if (st.id === id) sc.studio = { ...st, ...(patch.name !== undefined ? { name: patch.name } : {}), ...(patch.parent !== undefined ? { parent_studio: patch.parent } : {}) };
          else if (st.parent_studio?.id === id && patch.name !== undefined) sc.studio = { ...st, parent_studio: { ...st.parent_studio, name: patch.name } };
        }
      }
      // The whole input, absent keys null, and inputFields naming what the client sent (§4.2).
      const sent: Record<string, unknown> = { id };
      if (patch.name !== undefined) sent.name = patch.name;
      if (patch.disambiguation !== undefined) sent.disambiguation = patch.disambiguation;
      if (patch.description !== undefined) sent.description = patch.description;
      if (patch.parent !== undefined) sent.parent_id = patch.parent?.id ?? null;
      // Seen in a real Stash (v0.30.1): performer and studio inputs carry every key, null when not sent;
      // tag and group inputs only the keys sent. inputFields always names what was sent.
      const full = entity === 'performer' || entity === 'studio';
      const call = (type: string, inputType: string): HookCall => ({ type, id: Number(id), input: full ? fullInput(inputType, sent) : { ...sent }, inputFields: Object.keys(sent) });
      const T = TYPE_NAMES[entity];
      const calls = [call(`${T}.Update.Post`, `${T}UpdateInput`)];
      // Every group operation fires Movie.* beside Group.* (§4.1).
      if (entity === 'group') calls.push(call('Movie.Update.Post', 'MovieUpdateInput'));
      return calls;
    },
    destroyEntity: (entity, id) => {
      for (const sc of scenes.values()) {
        if (entity === 'tag') sc.tags = sc.tags.filter((t) => t.id !== id);
        if (entity === 'performer') sc.performers = sc.performers.filter((p) => p.id !== id);
        if (entity === 'group') sc.groups = sc.groups.filter((g) => g.group.id !== id);
        if (entity === 'studio' && sc.studio) {
          if (sc.studio.id === id) sc.studio = null;
          else if (sc.studio.parent_studio?.id === id) sc.studio = { ...sc.studio, parent_studio: null };
        }
      }
      const T = TYPE_NAMES[entity];
      // {id} only, and no inputFields (seen in a real Stash).
      const calls: HookCall[] = [{ type: `${T}.Destroy.Post`, id: Number(id), input: { id } }];
      if (entity === 'group') calls.push({ type: 'Movie.Destroy.Post', id: Number(id), input: { id } });
      return calls;
    },
    mergeTags: (sources, destination) => {
      const from = new Set(sources);
      let destName: string | undefined;
      for (const sc of scenes.values()) destName ??= sc.tags.find((t) => t.id === destination)?.name;
      for (const sc of scenes.values()) {
        if (!sc.tags.some((t) => from.has(t.id))) continue;
        const kept = sc.tags.filter((t) => !from.has(t.id));
        if (!kept.some((t) => t.id === destination)) kept.push({ id: destination, name: destName ?? `Tag ${destination}` });
        sc.tags = kept;
      }
      // hookContext.id is the destination; no inputFields (seen in a real Stash).
      return [{ type: 'Tag.Merge.Post', id: Number(destination), input: { source: sources, destination } }];
    },
    mergeScenes: (sources, destination) => {
      const dest = scenes.get(destination);
      if (!dest) throw new Error(`fake Stash has no scene ${destination}`);
      for (const id of sources) {
        const src = scenes.get(id);
        if (!src) continue;
        dest.files = [...dest.files, ...src.files];
        scenes.delete(id);
      }
      dest.updated_at = stamp(new Date(Math.max(Date.now(), Date.parse(dest.updated_at) + 1000)));
      return [];
    },
    setJobs: (j) => {
      jobs = j;
    },
    setPlugins: (p) => {
      plugins = p;
    },
    configureLog,
    operationLog,
    newSession,
    expireSessions: (values) => {
      for (const v of values ?? [...sessions.keys()]) sessions.set(v, -Infinity);
    },
    failWith: (status) => {
      failStatus = status;
    },
    setResponseDelay: (ms) => {
      responseDelayMs = ms;
    },
    requestLog,
    violations,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
