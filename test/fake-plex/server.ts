/**
 * A fake Plex Media Server: a real HTTP(S) server on 127.0.0.1 implementing
 * reference/plex-api.md §9 (state §9.1, endpoints §9.2, edit semantics §9.3, faults §9.4,
 * request log and manners checks). Used by the Plex tests, end-to-end tests, the demo and the benchmarks.
 *
 * Quick start
 *   const plex = await startFakePlex();                       // one movie section "Movies" at /media/movies
 *   const item = plex.addItem({ file: '/media/movies/a.mp4' }); // → FakeItem, item.ratingKey
 *   ... point the client at plex.url with plex.token ...
 *   plex.item(item.ratingKey).scalars.title                   // inspect state
 *   plex.assertManners({ maxInFlight: 2 });                   // throws listing every manners violation
 *   await plex.close();
 *
 * State helpers: addSection, removeSection, addItem, addItems (bulk), item, items, removeItem, rekeyItem, addDiskFile,
 * agentRefresh, scans (partial-scan log). Options: see FakePlexOptions (defaults per §9.1).
 * Faults: setFault({ kind, method?, path?, after?, times?, probability?, ... }) → id; clearFault(id); clearFaults().
 *   kinds: status (any status; 503 gets the XML Maintenance body), unauthorized, rateLimited, maintenance,
 *   html200, xml200, empty200, truncatedJson, invalidJson, wrongContentType, reset, hang, slowBody, delay,
 *   lostWrite, staleRead, shortPage, ignoreOffset, hook (run a function first, e.g. mutate state mid-walk).
 * Outages: down() closes the listener (ECONNREFUSED) and drops connections; up() listens again on the same port.
 * Latency: options.latencyMs (or setLatency): each answer leaves that long after its request arrived, the fake's own work included.
 * Watch history (plays from Plex, reference/plex-api.md §9 extended for issue 13): accounts (/accounts; id 1 is the owner),
 *   addAccount, addPlay (one history entry; the owner's play also sets viewCount/lastViewedAt and clears viewOffset),
 *   setViewOffset (the owner's resume point), history(), deleteHistory; served by GET /status/sessions/history/all,
 *   GET /accounts and GET /hubs/continueWatching/items (the owner's items with a resume point, latest first).
 * Request log: requestLog[] of { method, rawUrl, path, query (ordered multimap), headers, bodyLength, bodySha1, arrivedAt, answeredAt,
 *   tokenInQuery, status }. maxInFlightSeen: the most requests in flight at once.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { rng } from '../support/random';

export type TagType = 'Genre' | 'Label' | 'Collection' | 'Director' | 'Writer' | 'Producer' | 'Country' | 'Role';
export interface FakeTag {
  tag: string;
  role?: string;
  thumb?: string;
}
export interface FakePart {
  id: number;
  file: string;
  size: number;
}
export interface FakeImage {
  ratingKey: string;
  key: string;
  thumb: string;
  selected: boolean;
  provider?: string;
}
export interface FakeItem {
  ratingKey: string;
  sectionKey: string;
  type: 'movie' | 'episode';
  guid: string;
  /** title, titleSort, originalTitle, summary, tagline, studio, contentRating, originallyAvailableAt, year */
  scalars: Record<string, string | number>;
  tags: Record<TagType, FakeTag[]>;
  locks: Set<string>;
  media: { id: number; parts: FakePart[] }[];
  posters: FakeImage[];
  arts: FakeImage[];
  thumb: string;
  art: string;
  userRating?: number;
  addedAt: number;
  updatedAt: number;
  /** The owner's view state (the fake's one token is the owner's): resume point in ms, plays, last play (epoch s). */
  viewOffset?: number;
  viewCount?: number;
  lastViewedAt?: number;
}

/** A Plex system account (GET /accounts): 0 is the server itself, 1 the owner; others are managed or shared users. */
export interface FakeAccount {
  id: number;
  name: string;
}

/** One row of the watch history (GET /status/sessions/history/all). Rows survive the item's removal. */
export interface FakeHistoryEntry {
  historyId: number;
  ratingKey: string;
  sectionKey: string;
  title: string;
  type: 'movie' | 'episode';
  /** Epoch seconds. */
  viewedAt: number;
  accountID: number;
  deviceID: number;
}
export interface FakeSection {
  key: string;
  uuid: string;
  title: string;
  type: 'movie' | 'show';
  locations: string[];
  refreshing: boolean;
  updatedAt: number;
  scannedAt: number;
}

export interface FakePlexOptions {
  /** The valid token. Default: a random one. */
  token?: string;
  /** Port to listen on; 0 (default) picks one. */
  port?: number;
  /** Delay before every response, ms (benchmarks). */
  latencyMs?: number;
  strictContainerSize?: boolean;
  indexedTagSemantics?: 'additive' | 'replace';
  autoLockOnValueEdit?: boolean;
  lockOnImageUpload?: boolean;
  fileFilterMode?: 'contains' | 'directory';
  inapplicableField?: 'ignore' | '400';
  scanDelayMs?: number;
  seed?: number;
  /** Reported in GET / ; 'Windows' makes a client compare paths case-insensitively. */
  platform?: string;
  friendlyName?: string;
  /** URLs longer than this get 414. Default: no limit. */
  maxUrlLength?: number;
  /** Answer 503 Maintenance (including /identity) for this long after start. */
  maintenanceForMs?: number;
  /** Sections to create; default one movie section "Movies" at /media/movies. Pass [] for none. */
  sections?: { title: string; type: 'movie' | 'show'; locations: string[] }[];
  /** The owner's account name (GET /accounts id 1). Default "owner". */
  ownerName?: string;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

export type FaultKind =
  | 'status'
  | 'unauthorized'
  | 'rateLimited'
  | 'maintenance'
  | 'html200'
  | 'xml200'
  | 'empty200'
  | 'truncatedJson'
  | 'invalidJson'
  | 'wrongContentType'
  | 'reset'
  | 'hang'
  | 'slowBody'
  | 'delay'
  | 'lostWrite'
  | 'staleRead'
  | 'shortPage'
  | 'ignoreOffset'
  | 'hook';

export interface Fault {
  kind: FaultKind;
  /** Only this HTTP method. */
  method?: string;
  /** Only paths equal to this string, or matching this RegExp (path without the query). */
  path?: string | RegExp;
  /** Let this many matching requests through first (e.g. after: 3 → from the 4th on). */
  after?: number;
  /** Apply to this many matching requests, then stop. Default: for ever. */
  times?: number;
  /** Apply with this seeded probability. */
  probability?: number;
  /** status: the status; rateLimited/maintenance/status: optional Retry-After value. */
  status?: number;
  retryAfter?: string;
  /** delay/slowBody/staleRead: milliseconds. */
  ms?: number;
  /** shortPage: the most items per page. */
  pageSize?: number;
  hook?: (fake: FakePlex, req: LoggedRequest) => void;
}

export interface LoggedRequest {
  method: string;
  rawUrl: string;
  path: string;
  query: [string, string][];
  /** Raw (still encoded) values, same order as query. */
  rawQuery: [string, string][];
  headers: http.IncomingHttpHeaders;
  bodyLength: number;
  bodySha1: string;
  tokenInQuery: boolean;
  status?: number;
  /** When the request arrived and when its answer was written (performance.now() of this process). */
  arrivedAt: number;
  answeredAt?: number;
}

export interface MannersOptions {
  /** Most requests allowed in flight at once. Default 2. */
  maxInFlight?: number;
}

export interface FakePlex {
  url: string;
  port: number;
  token: string;
  machineIdentifier: string;
  options: Required<Omit<FakePlexOptions, 'tls' | 'sections' | 'port' | 'token' | 'maxUrlLength' | 'maintenanceForMs' | 'ownerName'>> & {
    maxUrlLength?: number;
  };
  requestLog: LoggedRequest[];
  maxInFlightSeen: number;
  /** Partial scans requested: { sectionKey, path }. */
  scans: { sectionKey: string; path: string | undefined }[];
  addSection(s: { title: string; type: 'movie' | 'show'; locations: string[] }): FakeSection;
  sections(): FakeSection[];
  /** Deletes a library and its items, as Plex does. */
  removeSection(key: string): void;
  addItem(init: FakeItemInit): FakeItem;
  /** Bulk add for big libraries (no per-item bookkeeping beyond the essentials). */
  addItems(inits: FakeItemInit[]): FakeItem[];
  item(ratingKey: string): FakeItem;
  findItem(ratingKey: string): FakeItem | undefined;
  items(sectionKey?: string): FakeItem[];
  removeItem(ratingKey: string): void;
  /** Moves the item to a new ratingKey (a re-scan re-keying it under the same path); returns the new key. */
  rekeyItem(ratingKey: string): string;
  /** A file on "disk" that a partial scan of its folder turns into an item. */
  addDiskFile(file: string, size?: number): void;
  /** Simulated agent refresh: resets every unlocked field (as PUT /library/metadata/{rk}/refresh). */
  agentRefresh(ratingKey: string): void;
  accounts(): FakeAccount[];
  addAccount(name: string, id?: number): FakeAccount;
  /** Records a finished play of the item by an account (default the owner, now, device 1); returns the history row. */
  addPlay(ratingKey: string, play?: { accountID?: number; viewedAt?: number; deviceID?: number }): FakeHistoryEntry;
  /** The owner stopped part-way: the item's resume point in ms (0 clears it). */
  setViewOffset(ratingKey: string, ms: number): void;
  history(): FakeHistoryEntry[];
  deleteHistory(historyId: number): void;
  setFault(f: Fault): number;
  clearFault(id: number): void;
  clearFaults(): void;
  setLatency(ms: number): void;
  mannersViolations(opts?: MannersOptions): string[];
  assertManners(opts?: MannersOptions): void;
  clearLog(): void;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export interface FakeItemInit {
  /** Section key; default the first section. */
  section?: string;
  file: string | string[];
  size?: number;
  title?: string;
  addedAt?: number;
  scalars?: Record<string, string | number>;
  tags?: Partial<Record<TagType, (string | FakeTag)[]>>;
  locks?: string[];
  /** Several Media (versions), each with its files. */
  media?: { file: string; size?: number }[][];
}

const SCALARS = ['title', 'titleSort', 'originalTitle', 'summary', 'tagline', 'studio', 'contentRating', 'originallyAvailableAt', 'year'];
const TAG_PREFIX: Record<string, TagType> = {
  actor: 'Role',
  genre: 'Genre',
  label: 'Label',
  collection: 'Collection',
  director: 'Director',
  writer: 'Writer',
  producer: 'Producer',
  country: 'Country',
};
const TAG_FILTER: Record<TagType, string> = {
  Role: 'actor',
  Genre: 'genre',
  Label: 'label',
  Collection: 'collection',
  Director: 'director',
  Writer: 'writer',
  Producer: 'producer',
  Country: 'country',
};
const LIST_TRUNCATE: Record<TagType, number> = { Genre: 2, Director: 1, Writer: 1, Country: 1, Role: 3, Collection: 2, Label: 99, Producer: 99 };
const TAG_TYPES = Object.keys(LIST_TRUNCATE) as TagType[];
const EPISODE_INAPPLICABLE = new Set(['studio', 'tagline', 'genre']);
const HTML_401 =
  '<html><head><script>window.location = window.location.href.match(/(^.+\\/)[^\\/]*$/)[1] + "web/index.html";</script><title>Unauthorized</title></head><body><h1>401 Unauthorized</h1></body></html>';
const XML_503 = '<?xml version="1.0" encoding="UTF-8"?><Response code="503" title="Maintenance" status="Plex Media Server is currently running database migrations."/>';
const MAX_IMAGE = 10 * 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** The query as an ordered multimap, keys and values percent-decoded, `+` as space (§9.3). */
export function parseQuery(raw: string): { decoded: [string, string][]; raw: [string, string][] } {
  const decoded: [string, string][] = [];
  const rawPairs: [string, string][] = [];
  if (!raw) return { decoded, raw: rawPairs };
  for (const part of raw.split('&')) {
    if (!part) continue;
    const i = part.indexOf('=');
    const k = i < 0 ? part : part.slice(0, i);
    const v = i < 0 ? '' : part.slice(i + 1);
    rawPairs.push([k, v]);
    decoded.push([decodeComponent(k), decodeComponent(v)]);
  }
  return { decoded, raw: rawPairs };
}

function dirOf(p: string): string {
  const n = p.replace(/\\/g, '/');
  return n.slice(0, Math.max(0, n.lastIndexOf('/')));
}
function stem(p: string): string {
  const n = p.replace(/\\/g, '/');
  const b = n.slice(n.lastIndexOf('/') + 1);
  const dot = b.lastIndexOf('.');
  return dot > 0 ? b.slice(0, dot) : b;
}
function under(file: string, dir: string): boolean {
  const f = file.replace(/\\/g, '/');
  const d = dir.replace(/\\/g, '/').replace(/\/$/, '');
  return f === d || f.startsWith(d + '/');
}

export async function startFakePlex(opts: FakePlexOptions = {}): Promise<FakePlex> {
  const token = opts.token ?? createHash('sha1').update(String(Math.random())).digest('hex').slice(0, 20);
  const machineIdentifier = createHash('sha1').update('fake-plex' + token).digest('hex');
  const options: FakePlex['options'] = {
    latencyMs: opts.latencyMs ?? 0,
    strictContainerSize: opts.strictContainerSize ?? true,
    indexedTagSemantics: opts.indexedTagSemantics ?? 'additive',
    autoLockOnValueEdit: opts.autoLockOnValueEdit ?? false,
    lockOnImageUpload: opts.lockOnImageUpload ?? true,
    fileFilterMode: opts.fileFilterMode ?? 'contains',
    inapplicableField: opts.inapplicableField ?? 'ignore',
    scanDelayMs: opts.scanDelayMs ?? 0,
    seed: opts.seed ?? 1,
    platform: opts.platform ?? 'Linux',
    friendlyName: opts.friendlyName ?? 'Fake Plex',
  };
  if (opts.maxUrlLength !== undefined) options.maxUrlLength = opts.maxUrlLength;
  const random = rng(options.seed);
  const startedAt = Date.now();

  const sections = new Map<string, FakeSection>();
  let sectionKeys = 0;
  const items = new Map<string, FakeItem>();
  const disk = new Map<string, number>();
  const registry = new Map<string, number>(); // `${type}\0${lower name}` → id
  const collections = new Map<string, { ratingKey: string; title: string }>(); // `${section}\0${lower}`
  const stale = new Map<string, { item: FakeItem; until: number }>();
  const accounts: FakeAccount[] = [{ id: 0, name: '' }, { id: 1, name: opts.ownerName ?? 'owner' }];
  const historyRows: FakeHistoryEntry[] = [];
  let nextHistoryId = 1;
  const faults = new Map<number, Fault & { seen: number; applied: number }>();
  let nextFault = 1;
  let nextKey = 1;
  let nextId = 1000;
  let version = 0; // bumps on any change that affects listing order
  const sortCache = new Map<string, { version: number; list: FakeItem[] }>();
  let inFlight = 0;
  const sockets = new Set<Socket>();
  let port = opts.port ?? 0;
  let listening = false;

  const tagId = (type: TagType, name: string): number => {
    const k = `${type}\0${name.toLowerCase()}`;
    let id = registry.get(k);
    if (id === undefined) {
      id = nextId++;
      registry.set(k, id);
    }
    return id;
  };

  const now = () => Math.floor(Date.now() / 1000);

  const fake: FakePlex = {
    url: '',
    port: 0,
    token,
    machineIdentifier,
    options,
    requestLog: [],
    maxInFlightSeen: 0,
    scans: [],
    addSection(s) {
      const key = String(++sectionKeys);
      const sec: FakeSection = {
        key,
        uuid: createHash('sha1').update(key + s.title).digest('hex'),
        title: s.title,
        type: s.type,
        locations: s.locations,
        refreshing: false,
        updatedAt: now(),
        scannedAt: now(),
      };
      sections.set(key, sec);
      return sec;
    },
    sections: () => [...sections.values()],
    removeSection(key) {
      sections.delete(key);
      for (const [rk, it] of items) if (it.sectionKey === key) items.delete(rk);
      version++;
    },
    addItem(init) {
      const [it] = fake.addItems([init]);
      return it!;
    },
    addItems(inits) {
      const out: FakeItem[] = [];
      for (const init of inits) {
        const sectionKey = init.section ?? [...sections.keys()][0];
        const sec = sectionKey ? sections.get(sectionKey) : undefined;
        if (!sec) throw new Error(`fake plex: no section ${sectionKey ?? '(none exist)'}`);
        const rk = String(nextKey++);
        const files = init.media ?? [(Array.isArray(init.file) ? init.file : [init.file]).map((file) => ({ file, size: init.size ?? 1000 }))];
        const firstFile = files[0]?.[0]?.file ?? 'untitled';
        const t = init.addedAt ?? now();
        const item: FakeItem = {
          ratingKey: rk,
          sectionKey: sec.key,
          type: sec.type === 'show' ? 'episode' : 'movie',
          guid: `local://${rk}`,
          scalars: { title: init.title ?? stem(firstFile), ...(init.scalars ?? {}) },
          tags: { Genre: [], Label: [], Collection: [], Director: [], Writer: [], Producer: [], Country: [], Role: [] },
          locks: new Set(init.locks ?? []),
          media: files.map((parts) => ({
            id: nextId++,
            parts: parts.map((p) => ({ id: nextId++, file: p.file, size: p.size ?? init.size ?? 1000 })),
          })),
          posters: [{ ratingKey: `local://agent/${rk}`, key: `/library/metadata/${rk}/thumb/${t}`, thumb: `/library/metadata/${rk}/thumb/${t}`, selected: true, provider: 'local' }],
          arts: [],
          thumb: `/library/metadata/${rk}/thumb/${t}`,
          art: '',
          addedAt: t,
          updatedAt: t,
        };
        for (const [type, list] of Object.entries(init.tags ?? {}) as [TagType, (string | FakeTag)[]][]) {
          item.tags[type] = list.map((x) => (typeof x === 'string' ? { tag: x } : x));
          for (const x of item.tags[type]) tagId(type, x.tag);
        }
        items.set(rk, item);
        out.push(item);
      }
      version++;
      return out;
    },
    item(rk) {
      const it = items.get(rk);
      if (!it) throw new Error(`fake plex: no item ${rk}`);
      return it;
    },
    findItem: (rk) => items.get(rk),
    items: (sectionKey) => [...items.values()].filter((i) => sectionKey === undefined || i.sectionKey === sectionKey),
    removeItem(rk) {
      items.delete(rk);
      version++;
    },
    rekeyItem(rk) {
      const it = fake.item(rk);
      items.delete(rk);
      const nk = String(nextKey++);
      it.ratingKey = nk;
      it.guid = `local://${nk}`;
      items.set(nk, it);
      version++;
      return nk;
    },
    addDiskFile(file, size = 1000) {
      disk.set(file, size);
    },
    agentRefresh(rk) {
      const it = fake.item(rk);
      for (const f of SCALARS) {
        if (it.locks.has(f)) continue;
        if (f === 'title') it.scalars.title = stem(it.media[0]?.parts[0]?.file ?? 'untitled');
        else delete it.scalars[f];
      }
      for (const type of TAG_TYPES) if (!it.locks.has(TAG_FILTER[type])) it.tags[type] = [];
      if (!it.locks.has('thumb')) {
        for (const p of it.posters) p.selected = p.ratingKey.startsWith('local://agent/');
      }
      it.updatedAt = now();
      version++;
    },
    accounts: () => accounts.map((a) => ({ ...a })),
    addAccount(name, id) {
      const account = { id: id ?? Math.max(...accounts.map((a) => a.id)) + 1000, name };
      if (accounts.some((a) => a.id === account.id)) throw new Error(`fake plex: account ${account.id} exists`);
      accounts.push(account);
      return { ...account };
    },
    addPlay(rk, play = {}) {
      const it = fake.item(rk);
      const row: FakeHistoryEntry = {
        historyId: nextHistoryId++,
        ratingKey: rk,
        sectionKey: it.sectionKey,
        title: String(it.scalars.title ?? ''),
        type: it.type,
        viewedAt: play.viewedAt ?? now(),
        accountID: play.accountID ?? 1,
        deviceID: play.deviceID ?? 1,
      };
      if (!accounts.some((a) => a.id === row.accountID)) throw new Error(`fake plex: no account ${row.accountID}`);
      historyRows.push(row);
      if (row.accountID === 1) {
        // A finished play: Plex counts it and forgets the resume point.
        it.viewCount = (it.viewCount ?? 0) + 1;
        it.lastViewedAt = Math.max(it.lastViewedAt ?? 0, row.viewedAt);
        delete it.viewOffset;
      }
      return { ...row };
    },
    setViewOffset(rk, ms) {
      const it = fake.item(rk);
      if (ms > 0) {
        it.viewOffset = ms;
        it.lastViewedAt = now();
      } else delete it.viewOffset;
    },
    history: () => historyRows.map((h) => ({ ...h })),
    deleteHistory(id) {
      const i = historyRows.findIndex((h) => h.historyId === id);
      if (i >= 0) historyRows.splice(i, 1);
    },
    setFault(f) {
      const id = nextFault++;
      faults.set(id, { ...f, seen: 0, applied: 0 });
      return id;
    },
    clearFault(id) {
      faults.delete(id);
    },
    clearFaults() {
      faults.clear();
    },
    setLatency(ms) {
      options.latencyMs = ms;
    },
    clearLog() {
      fake.requestLog.length = 0;
      fake.maxInFlightSeen = 0;
    },
    mannersViolations(m = {}) {
      const max = m.maxInFlight ?? 2;
      const v: string[] = [];
      const ids = new Set<string>();
      for (const r of fake.requestLog) {
        const where = `${r.method} ${r.path}`;
        if (r.tokenInQuery || r.rawUrl.toLowerCase().includes(token.toLowerCase())) v.push(`token in the URL: ${where}`);
        if (!String(r.headers.accept ?? '').includes('application/json')) v.push(`no Accept: application/json: ${where}`);
        const id = r.headers['x-plex-client-identifier'];
        if (!id) v.push(`no X-Plex-Client-Identifier: ${where}`);
        else ids.add(String(id));
        if (r.method === 'GET' && (/^\/library\/sections\/[^/]+\/all$/.test(r.path) || r.path === '/status/sessions/history/all' || r.path === '/hubs/continueWatching/items')) {
          const size = r.headers['x-plex-container-size'] ?? r.query.find(([k]) => k === 'X-Plex-Container-Size')?.[1];
          if (size === undefined) v.push(`list without X-Plex-Container-Size: ${r.rawUrl}`);
          else if (Number(size) > 1000) v.push(`list with container size ${String(size)} > 1000: ${r.rawUrl}`);
        }
        const isEdit = r.method === 'PUT' && (/^\/library\/sections\/[^/]+\/all$/.test(r.path) || /^\/library\/metadata\/[^/]+$/.test(r.path));
        if (isEdit) {
          if (/^\/library\/sections\//.test(r.path) && !r.query.some(([k, val]) => k === 'id' && val !== '')) {
            v.push(`edit without id (would change every item): ${r.rawUrl}`);
          }
          for (const [k] of r.query) {
            const f = /^(.+)\.value$/.exec(k)?.[1];
            if (f && !r.query.some(([k2, v2]) => k2 === `${f}.locked` && v2 === '1')) v.push(`${f}.value without ${f}.locked=1: ${r.rawUrl}`);
          }
          for (const [k, rawVal] of r.rawQuery) {
            if (!decodeComponent(k).endsWith('[].tag.tag-')) continue;
            const safe = /^[A-Za-z0-9%._~-]*$/;
            const inner = decodeComponent(rawVal).split(',');
            if (!safe.test(rawVal) || !inner.every((e) => safe.test(e))) v.push(`removal not double-encoded: ${k}=${rawVal}`);
          }
        }
      }
      if (ids.size > 1) v.push(`X-Plex-Client-Identifier changed: ${[...ids].join(', ')}`);
      if (fake.maxInFlightSeen > max) v.push(`${fake.maxInFlightSeen} requests in flight at once (limit ${max})`);
      return v;
    },
    assertManners(m) {
      const v = fake.mannersViolations(m);
      if (v.length) throw new Error(`fake plex: client manners violated:\n  ${v.slice(0, 20).join('\n  ')}`);
    },
    async down() {
      if (!listening) return;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      listening = false;
    },
    async up() {
      if (listening) return;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
      listening = true;
      port = (server.address() as AddressInfo).port;
      fake.port = port;
      fake.url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    },
    async close() {
      await fake.down();
    },
  };

  for (const s of opts.sections ?? [{ title: 'Movies', type: 'movie' as const, locations: ['/media/movies'] }]) fake.addSection(s);

  // ---- faults ----
  function activeFaults(method: string, path: string): (Fault & { seen: number; applied: number })[] {
    const out: (Fault & { seen: number; applied: number })[] = [];
    for (const f of faults.values()) {
      if (f.method && f.method !== method) continue;
      if (f.path !== undefined && !(typeof f.path === 'string' ? f.path === path : f.path.test(path))) continue;
      f.seen++;
      if (f.seen <= (f.after ?? 0)) continue;
      if (f.times !== undefined && f.applied >= f.times) continue;
      if (f.probability !== undefined && random() >= f.probability) continue;
      f.applied++;
      out.push(f);
    }
    return out;
  }

  // ---- rendering ----
  const section = (key: string): FakeSection => {
    const s = sections.get(key);
    if (!s) throw new HttpError(404, 'no such section');
    return s;
  };

  function renderItem(it: FakeItem, full: boolean): Record<string, unknown> {
    const sec = sections.get(it.sectionKey);
    const o: Record<string, unknown> = {
      ratingKey: it.ratingKey,
      key: `/library/metadata/${it.ratingKey}`,
      guid: it.guid,
      type: it.type,
    };
    for (const f of SCALARS) if (it.scalars[f] !== undefined && it.scalars[f] !== '') o[f] = it.scalars[f];
    if (full) {
      o.librarySectionID = Number(it.sectionKey);
      o.librarySectionKey = `/library/sections/${it.sectionKey}`;
      o.librarySectionTitle = sec?.title;
    }
    const sel = it.posters.find((p) => p.selected);
    if (sel) o.thumb = it.thumb;
    if (it.art) o.art = it.art;
    if (it.userRating !== undefined) o.userRating = it.userRating;
    if (it.viewOffset !== undefined) o.viewOffset = it.viewOffset;
    if (it.viewCount !== undefined) o.viewCount = it.viewCount;
    if (it.lastViewedAt !== undefined) o.lastViewedAt = it.lastViewedAt;
    o.addedAt = it.addedAt;
    o.updatedAt = it.updatedAt;
    o.Media = it.media.map((m) => ({
      id: m.id,
      Part: m.parts.map((p) => ({ id: p.id, key: `/library/parts/${p.id}/file`, file: p.file, size: p.size, container: p.file.split('.').pop() })),
    }));
    for (const type of TAG_TYPES) {
      const list = it.tags[type];
      if (!list.length) continue;
      if (full) {
        o[type] = list.map((t) => {
          const id = tagId(type, t.tag);
          const r: Record<string, unknown> = { id, filter: `${TAG_FILTER[type]}=${id}`, tag: t.tag };
          if (t.role !== undefined) r.role = t.role;
          if (t.thumb !== undefined) r.thumb = t.thumb;
          return r;
        });
      } else {
        o[type] = list.slice(0, LIST_TRUNCATE[type]).map((t) => ({ tag: t.tag }));
      }
    }
    if (full && it.locks.size) o.Field = [...it.locks].map((name) => ({ name, locked: true }));
    return o;
  }

  // ---- listing ----
  /** excludeFields / excludeElements: the listing hints of reference/plex-api.md §3.3 method A. */
  function slim(o: Record<string, unknown>, q: Map<string, string>): Record<string, unknown> {
    const drop = [...(q.get('excludeFields') ?? '').split(','), ...(q.get('excludeElements') ?? '').split(',')].filter(Boolean);
    for (const k of drop) if (k !== 'ratingKey' && k !== 'type') delete o[k];
    return o;
  }

  function sorted(sectionKey: string, sort: string): FakeItem[] {
    const ck = `${sectionKey}\0${sort}`;
    const c = sortCache.get(ck);
    if (c && c.version === version) return c.list;
    const list = [...items.values()].filter((i) => i.sectionKey === sectionKey);
    if (sort === 'addedAt') list.sort((a, b) => a.addedAt - b.addedAt || Number(a.ratingKey) - Number(b.ratingKey));
    else if (sort === 'addedAt:desc') list.sort((a, b) => b.addedAt - a.addedAt || Number(b.ratingKey) - Number(a.ratingKey));
    else {
      const k = (i: FakeItem) => String(i.scalars.titleSort ?? i.scalars.title ?? '').toLowerCase();
      list.sort((a, b) => (k(a) < k(b) ? -1 : k(a) > k(b) ? 1 : Number(a.ratingKey) - Number(b.ratingKey)));
    }
    sortCache.set(ck, { version, list });
    return list;
  }

  function list(sec: FakeSection, q: Map<string, string>, headers: http.IncomingHttpHeaders, fs: Fault[]): { body: unknown; headers: Record<string, string> } {
    const sizeRaw = q.get('X-Plex-Container-Size') ?? (headers['x-plex-container-size'] as string | undefined);
    const startRaw = q.get('X-Plex-Container-Start') ?? (headers['x-plex-container-start'] as string | undefined);
    if (options.strictContainerSize && sizeRaw === undefined) throw new HttpError(400, 'Missing X-Plex-Container-Size header.');
    let size = sizeRaw === undefined ? Number.MAX_SAFE_INTEGER : Number(sizeRaw);
    if (size > 1000) {
      if (options.strictContainerSize) throw new HttpError(400, 'X-Plex-Container-Size too large.');
      size = 1000;
    }
    let start = Number(startRaw ?? 0);
    const type = q.get('type');
    const file = q.get('file');
    if (sec.type === 'show' && file !== undefined && !type) throw new HttpError(500, 'Internal Server Error');
    const wantType = sec.type === 'show' ? (type === '4' ? 'episode' : undefined) : type === undefined || type === '1' ? 'movie' : undefined;
    let all = wantType ? sorted(sec.key, q.get('sort') ?? 'titleSort') : [];
    if (file !== undefined) {
      const dir = dirOf(file);
      all = all.filter((i) =>
        i.media.some((m) => m.parts.some((p) => (options.fileFilterMode === 'directory' ? dirOf(p.file) === dir : p.file.includes(file)))),
      );
    }
    const title = q.get('title');
    if (title !== undefined) all = all.filter((i) => String(i.scalars.title ?? '').toLowerCase().includes(title.toLowerCase()));
    const ids = q.get('id');
    if (ids !== undefined) {
      const set = new Set(ids.split(','));
      all = all.filter((i) => set.has(i.ratingKey));
    }
    if (fs.some((f) => f.kind === 'ignoreOffset')) start = 0;
    const short = fs.find((f) => f.kind === 'shortPage');
    if (short) size = Math.min(size, short.pageSize ?? 1);
    const page = all.slice(start, start + size);
    return {
      body: {
        MediaContainer: {
          size: page.length,
          totalSize: all.length,
          offset: start,
          allowSync: false,
          librarySectionID: Number(sec.key),
          librarySectionTitle: sec.title,
          librarySectionUUID: sec.uuid,
          ...(page.length ? { Metadata: page.map((i) => slim(renderItem(i, false), q)) } : {}),
        },
      },
      headers: { 'X-Plex-Container-Start': String(start), 'X-Plex-Container-Total-Size': String(all.length) },
    };
  }

  // ---- watch history ----
  /** Paging as on every Plex list (§3.2): the container-size rules of the listing apply. */
  function pageOf(q: Map<string, string>, headers: http.IncomingHttpHeaders, fs: Fault[]): { start: number; size: number } {
    const sizeRaw = q.get('X-Plex-Container-Size') ?? (headers['x-plex-container-size'] as string | undefined);
    const startRaw = q.get('X-Plex-Container-Start') ?? (headers['x-plex-container-start'] as string | undefined);
    if (options.strictContainerSize && sizeRaw === undefined) throw new HttpError(400, 'Missing X-Plex-Container-Size header.');
    let size = sizeRaw === undefined ? Number.MAX_SAFE_INTEGER : Number(sizeRaw);
    if (size > 1000) {
      if (options.strictContainerSize) throw new HttpError(400, 'X-Plex-Container-Size too large.');
      size = 1000;
    }
    let start = Number(startRaw ?? 0);
    if (fs.some((f) => f.kind === 'ignoreOffset')) start = 0;
    const short = fs.find((f) => f.kind === 'shortPage');
    if (short) size = Math.min(size, short.pageSize ?? 1);
    return { start, size };
  }

  /**
   * GET /status/sessions/history/all as plexapi's PlexServer.history() drives it: filters `viewedAt>`
   * (epoch s; the key arrives percent-encoded as `viewedAt%3E`), `viewedAt<`, `accountID`,
   * `metadataItemID` (a ratingKey), `librarySectionID`; `sort=viewedAt:desc|viewedAt` (default: row order).
   * Rows carry historyKey, key, ratingKey, librarySectionID (a string here), title, type, viewedAt, accountID, deviceID.
   */
  function historyList(q: Map<string, string>, headers: http.IncomingHttpHeaders, fs: Fault[]): Reply {
    const { start, size } = pageOf(q, headers, fs);
    let rows = [...historyRows];
    const num = (k: string): number | undefined => {
      const v = q.get(k);
      if (v === undefined) return undefined;
      if (!/^-?\d+$/.test(v)) throw new HttpError(400, `bad ${k}`);
      return Number(v);
    };
    const after = num('viewedAt>');
    const before = num('viewedAt<');
    const account = num('accountID');
    const section = q.get('librarySectionID');
    const item = q.get('metadataItemID');
    if (after !== undefined) rows = rows.filter((r) => r.viewedAt > after);
    if (before !== undefined) rows = rows.filter((r) => r.viewedAt < before);
    if (account !== undefined) rows = rows.filter((r) => r.accountID === account);
    if (section !== undefined) rows = rows.filter((r) => r.sectionKey === section);
    if (item !== undefined) rows = rows.filter((r) => r.ratingKey === item);
    const sort = q.get('sort');
    if (sort === 'viewedAt:desc') rows.sort((a, b) => b.viewedAt - a.viewedAt || b.historyId - a.historyId);
    else if (sort === 'viewedAt' || sort === 'viewedAt:asc') rows.sort((a, b) => a.viewedAt - b.viewedAt || a.historyId - b.historyId);
    else if (sort !== undefined) throw new HttpError(400, `bad sort ${sort}`);
    const page = rows.slice(start, start + size);
    return {
      status: 200,
      body: {
        MediaContainer: {
          size: page.length,
          totalSize: rows.length,
          offset: start,
          ...(page.length
            ? {
                Metadata: page.map((r) => ({
                  historyKey: `/status/sessions/history/${r.historyId}`,
                  key: `/library/metadata/${r.ratingKey}`,
                  ratingKey: r.ratingKey,
                  librarySectionID: r.sectionKey,
                  title: r.title,
                  type: r.type,
                  viewedAt: r.viewedAt,
                  accountID: r.accountID,
                  deviceID: r.deviceID,
                })),
              }
            : {}),
        },
      },
      headers: { 'X-Plex-Container-Start': String(start), 'X-Plex-Container-Total-Size': String(rows.length) },
    };
  }

  // ---- edits ----
  function applyEdit(targets: FakeItem[], pairs: [string, string][]): void {
    // Validate first so a 400 changes nothing.
    for (const [k, v] of pairs) {
      const f = /^(.+)\.value$/.exec(k)?.[1];
      if (f === 'originallyAvailableAt' && v !== '' && !/^\d{4}-\d{2}-\d{2}$/.test(v)) throw new HttpError(400, 'bad date');
      if (f === 'year' && v !== '' && !/^\d{1,4}$/.test(v)) throw new HttpError(400, 'bad year');
      const field = f ?? /^([a-zA-Z]+)(\[|\.locked$)/.exec(k)?.[1];
      if (field && EPISODE_INAPPLICABLE.has(field) && targets.some((t) => t.type === 'episode') && options.inapplicableField === '400') {
        throw new HttpError(400, `${field} does not apply to episodes`);
      }
    }
    for (const it of targets) {
      const skip = (field: string) => it.type === 'episode' && EPISODE_INAPPLICABLE.has(field);
      const indexed = new Map<TagType, Map<number, FakeTag>>();
      const removals: [TagType, string[]][] = [];
      const clears: TagType[] = [];
      for (const [k, v] of pairs) {
        let m: RegExpExecArray | null;
        if ((m = /^([a-zA-Z]+)\.value$/.exec(k))) {
          const f = m[1]!;
          if (!SCALARS.includes(f) || skip(f)) continue;
          if (v === '') delete it.scalars[f];
          else it.scalars[f] = f === 'year' ? Number(v) : v;
          if (options.autoLockOnValueEdit) it.locks.add(f);
        } else if ((m = /^([a-zA-Z]+)\.locked$/.exec(k))) {
          if (skip(m[1]!)) continue;
          if (v === '1') it.locks.add(m[1]!);
          else it.locks.delete(m[1]!);
        } else if ((m = /^([a-zA-Z]+)\[(\d+)\]\.(tag\.tag|tagging\.text|tag\.thumb|tagging\.thumb)$/.exec(k))) {
          const type = TAG_PREFIX[m[1]!];
          if (!type || skip(m[1]!)) continue;
          const byIdx = indexed.get(type) ?? new Map<number, FakeTag>();
          indexed.set(type, byIdx);
          const e = byIdx.get(Number(m[2])) ?? { tag: '' };
          byIdx.set(Number(m[2]), e);
          if (m[3] === 'tag.tag') e.tag = v;
          else if (m[3] === 'tagging.text') e.role = v;
          else e.thumb = v;
        } else if ((m = /^([a-zA-Z]+)\[\]\.tag\.tag-$/.exec(k))) {
          const type = TAG_PREFIX[m[1]!];
          if (!type || skip(m[1]!)) continue;
          // Split on literal commas, then decode each element (the double-encoded form, §4.3).
          removals.push([type, v.split(',').map(decodeComponent)]);
        } else if ((m = /^([a-zA-Z]+)\[\]\.tag$/.exec(k))) {
          const type = TAG_PREFIX[m[1]!];
          if (type && v === '' && !skip(m[1]!)) clears.push(type);
        }
      }
      for (const [type, byIdx] of indexed) {
        const wanted = [...byIdx.entries()].sort((a, b) => a[0] - b[0]).map(([, t]) => t).filter((t) => t.tag !== '');
        if (options.indexedTagSemantics === 'replace') it.tags[type] = [];
        for (const t of wanted) {
          tagId(type, t.tag);
          const have = it.tags[type].find((x) => x.tag.toLowerCase() === t.tag.toLowerCase());
          if (have) {
            if (t.role !== undefined) have.role = t.role;
            if (t.thumb !== undefined) have.thumb = t.thumb;
          } else it.tags[type].push({ ...t });
          if (type === 'Collection') {
            const ck = `${it.sectionKey}\0${t.tag.toLowerCase()}`;
            if (!collections.has(ck)) collections.set(ck, { ratingKey: String(nextKey++), title: t.tag });
          }
        }
      }
      for (const [type, names] of removals) {
        const lower = new Set(names.map((n) => n.toLowerCase()));
        it.tags[type] = it.tags[type].filter((t) => !lower.has(t.tag.toLowerCase()));
      }
      for (const type of clears) it.tags[type] = [];
      it.updatedAt = now();
    }
    version++;
  }

  function uploadImage(it: FakeItem, kind: 'posters' | 'arts', body: Buffer, url: string | undefined): void {
    const list = kind === 'posters' ? it.posters : it.arts;
    let rk: string;
    if (url) rk = url;
    else if (body.length) {
      if (body.length > MAX_IMAGE) throw new HttpError(500, 'image too large');
      rk = `upload://${kind}/${createHash('sha1').update(body).digest('hex')}`;
    } else throw new HttpError(400, 'no image');
    let entry = list.find((p) => p.ratingKey === rk);
    const t = Date.now();
    if (!entry) {
      entry = { ratingKey: rk, key: `/library/metadata/${it.ratingKey}/file?url=${encodeURIComponent(rk)}`, thumb: '', selected: false, provider: url ? undefined : 'upload' } as FakeImage;
      list.push(entry);
    }
    if (!url) {
      for (const p of list) p.selected = p === entry;
      const path = `/library/metadata/${it.ratingKey}/${kind === 'posters' ? 'thumb' : 'art'}/${t}`;
      if (kind === 'posters') it.thumb = path;
      else it.art = path;
      if (options.lockOnImageUpload) it.locks.add(kind === 'posters' ? 'thumb' : 'art');
    }
    it.updatedAt = now();
  }

  function scan(sec: FakeSection, path: string | undefined): void {
    fake.scans.push({ sectionKey: sec.key, path });
    sec.refreshing = true;
    setTimeout(() => {
      for (const [file, size] of [...disk]) {
        const inSection = sec.locations.some((l) => under(file, l));
        if (!inSection || (path !== undefined && !under(file, path))) continue;
        disk.delete(file);
        fake.addItem({ section: sec.key, file, size });
      }
      sec.refreshing = false;
      sec.scannedAt = now();
    }, options.scanDelayMs).unref();
  }

  // ---- routing ----
  interface Reply {
    status: number;
    body?: unknown; // object → JSON (or XML when JSON not accepted); string → text
    contentType?: string;
    headers?: Record<string, string>;
  }

  function route(method: string, path: string, q: Map<string, string>, pairs: [string, string][], body: Buffer, headers: http.IncomingHttpHeaders, fs: Fault[]): Reply {
    if (method === 'GET' && path === '/status/sessions/history/all') return historyList(q, headers, fs);
    if (method === 'GET' && path === '/hubs/continueWatching/items') {
      // plexapi's live test: an item with progress (updateProgress) is in this hub until it is marked played.
      const { start, size } = pageOf(q, headers, fs);
      const all = [...items.values()].filter((i) => (i.viewOffset ?? 0) > 0).sort((a, b) => (b.lastViewedAt ?? 0) - (a.lastViewedAt ?? 0) || Number(b.ratingKey) - Number(a.ratingKey));
      const page = all.slice(start, start + size);
      return {
        status: 200,
        // Items of several sections: each carries its own librarySectionID.
        body: { MediaContainer: { size: page.length, totalSize: all.length, offset: start, hubKey: '/hubs/continueWatching/items', ...(page.length ? { Metadata: page.map((i) => ({ ...renderItem(i, false), librarySectionID: Number(i.sectionKey) })) } : {}) } },
        headers: { 'X-Plex-Container-Start': String(start), 'X-Plex-Container-Total-Size': String(all.length) },
      };
    }
    if (method === 'GET' && path === '/accounts') {
      const list = accounts.map((a) => ({
        id: a.id,
        key: `/accounts/${a.id}`,
        name: a.name,
        defaultAudioLanguage: 'en',
        autoSelectAudio: true,
        defaultSubtitleLanguage: 'en',
        subtitleMode: 0,
        thumb: '',
      }));
      return { status: 200, body: { MediaContainer: { size: list.length, identifier: 'com.plexapp.system.accounts', Account: list } } };
    }
    if (method === 'GET' && path === '/identity') {
      return { status: 200, body: { MediaContainer: { size: 0, claimed: true, machineIdentifier, version: '1.41.0.0000' } } };
    }
    if (method === 'GET' && path === '/') {
      return {
        status: 200,
        body: { MediaContainer: { size: 0, friendlyName: options.friendlyName, machineIdentifier, version: '1.41.0.0000', platform: options.platform, platformVersion: '1' } },
      };
    }
    if (method === 'GET' && (path === '/library/sections' || path === '/library/sections/all')) {
      const dirs = [...sections.values()].map((s) => ({
        key: s.key,
        uuid: s.uuid,
        title: s.title,
        type: s.type,
        agent: 'tv.plex.agents.none',
        scanner: s.type === 'movie' ? 'Plex Video Files Scanner' : 'Plex TV Series',
        language: 'xn',
        refreshing: s.refreshing,
        updatedAt: s.updatedAt,
        scannedAt: s.scannedAt,
        Location: s.locations.map((p, i) => ({ id: i + 1, path: p })),
      }));
      return { status: 200, body: { MediaContainer: { size: dirs.length, allowSync: false, title1: 'Plex Library', ...(dirs.length ? { Directory: dirs } : {}) } } };
    }
    let m: RegExpExecArray | null;
    if ((m = /^\/library\/sections\/([^/]+)\/all$/.exec(path))) {
      const sec = section(m[1]!);
      if (method === 'GET') {
        const r = list(sec, q, headers, fs);
        return { status: 200, body: r.body, headers: r.headers };
      }
      if (method === 'PUT') {
        const type = q.get('type');
        const ids = q.get('id');
        const wantType = type === '4' ? 'episode' : 'movie';
        let targets: FakeItem[];
        if (ids === undefined) {
          // As the real server does: no id means every item of that type in the section (§4.2).
          targets = [...items.values()].filter((i) => i.sectionKey === sec.key && i.type === wantType);
        } else {
          targets = ids.split(',').map((id) => {
            const it = items.get(id);
            if (!it || it.sectionKey !== sec.key) throw new HttpError(404, 'not found');
            if (type !== undefined && it.type !== wantType) throw new HttpError(400, 'type mismatch');
            return it;
          });
        }
        editWithFaults(targets, pairs, fs);
        return { status: 200 };
      }
    }
    if ((m = /^\/library\/sections\/([^/]+)\/refresh$/.exec(path))) {
      const sec = section(m[1]!);
      if (method === 'DELETE') {
        sec.refreshing = false;
        return { status: 200 };
      }
      scan(sec, q.get('path'));
      return { status: 200 };
    }
    if (method === 'GET' && (m = /^\/library\/sections\/([^/]+)\/collections$/.exec(path))) {
      const sec = section(m[1]!);
      const list = [...collections.entries()]
        .filter(([k]) => k.startsWith(`${sec.key}\0`))
        .map(([, c]) => ({
          ratingKey: c.ratingKey,
          type: 'collection',
          title: c.title,
          childCount: [...items.values()].filter((i) => i.sectionKey === sec.key && i.tags.Collection.some((t) => t.tag.toLowerCase() === c.title.toLowerCase())).length,
        }));
      return { status: 200, body: { MediaContainer: { size: list.length, ...(list.length ? { Metadata: list } : {}) } } };
    }
    if ((m = /^\/library\/metadata\/([^/]+)$/.exec(path))) {
      const keys = m[1]!.split(',');
      if (method === 'GET') {
        const found = keys.map((k) => {
          const s = stale.get(k);
          if (s && s.until > Date.now()) return s.item;
          return items.get(k);
        }).filter((x): x is FakeItem => x !== undefined);
        if (!found.length) throw new HttpError(404, 'not found');
        const first = found[0]!;
        const sec = sections.get(first.sectionKey);
        return {
          status: 200,
          body: {
            MediaContainer: {
              size: found.length,
              librarySectionID: Number(first.sectionKey),
              librarySectionTitle: sec?.title,
              librarySectionUUID: sec?.uuid,
              identifier: 'com.plexapp.plugins.library',
              Metadata: found.map((i) => renderItem(i, true)),
            },
          },
        };
      }
      if (method === 'PUT') {
        const targets = keys.map((k) => {
          const it = items.get(k);
          if (!it) throw new HttpError(404, 'not found');
          return it;
        });
        editWithFaults(targets, pairs, fs);
        return { status: 200 };
      }
    }
    if ((m = /^\/library\/metadata\/([^/]+)\/(posters|arts|poster|thumb|art)$/.exec(path))) {
      const it = items.get(m[1]!);
      if (!it) throw new HttpError(404, 'not found');
      const kind = m[2] === 'arts' || m[2] === 'art' ? 'arts' : 'posters';
      if (method === 'POST') {
        uploadImage(it, kind, body, q.get('url'));
        return { status: 200 };
      }
      if (method === 'GET' && (m[2] === 'posters' || m[2] === 'arts')) {
        const list = (kind === 'posters' ? it.posters : it.arts).map((p) => ({ ...p, thumb: p.thumb || p.key, selected: p.selected }));
        return { status: 200, body: { MediaContainer: { size: list.length, ...(list.length ? { Metadata: list } : {}) } } };
      }
      if (method === 'PUT' && (m[2] === 'poster' || m[2] === 'art')) {
        const list = kind === 'posters' ? it.posters : it.arts;
        const want = q.get('url');
        const entry = list.find((p) => p.ratingKey === want);
        if (!entry) throw new HttpError(404, 'no such candidate');
        for (const p of list) p.selected = p === entry;
        const p2 = `/library/metadata/${it.ratingKey}/${kind === 'posters' ? 'thumb' : 'art'}/${Date.now()}`;
        if (kind === 'posters') it.thumb = p2;
        else it.art = p2;
        // Deliberately text, not JSON (§5).
        return { status: 200, body: p2, contentType: 'text/plain' };
      }
    }
    if (method === 'PUT' && (m = /^\/library\/metadata\/([^/]+)\/(refresh|analyze)$/.exec(path))) {
      if (!items.has(m[1]!)) throw new HttpError(404, 'not found');
      if (m[2] === 'refresh') fake.agentRefresh(m[1]!);
      return { status: 200 };
    }
    if (method === 'PUT' && path === '/:/rate') {
      const it = items.get(q.get('key') ?? '');
      if (!it) throw new HttpError(404, 'not found');
      const r = Number(q.get('rating'));
      if (!Number.isFinite(r) || r > 10) throw new HttpError(400, 'bad rating');
      if (r < 0) delete it.userRating;
      else it.userRating = r;
      return { status: 200 };
    }
    if (method === 'GET' && path === '/hubs/search') {
      const query = (q.get('query') ?? '').toLowerCase();
      const limit = Number(q.get('limit') ?? 3);
      const found = [...items.values()]
        .filter((i) => (q.get('sectionId') ? i.sectionKey === q.get('sectionId') : true) && String(i.scalars.title ?? '').toLowerCase().includes(query))
        .slice(0, limit);
      return { status: 200, body: { MediaContainer: { size: 1, Hub: [{ type: 'movie', hubIdentifier: 'movie', size: found.length, ...(found.length ? { Metadata: found.map((i) => renderItem(i, false)) } : {}) }] } } };
    }
    if (method === 'GET' && path === '/activities') {
      const acts = [...sections.values()].filter((s) => s.refreshing).map((s) => ({ uuid: s.uuid, type: 'library.update.section', title: `Scanning ${s.title}` }));
      return { status: 200, body: { MediaContainer: { size: acts.length, ...(acts.length ? { Activity: acts } : {}) } } };
    }
    throw new HttpError(404, 'not found');
  }

  function editWithFaults(targets: FakeItem[], pairs: [string, string][], fs: Fault[]): void {
    if (fs.some((f) => f.kind === 'lostWrite')) return;
    const st = fs.find((f) => f.kind === 'staleRead');
    if (st) {
      for (const t of targets) stale.set(t.ratingKey, { item: structuredClone(t), until: Date.now() + (st.ms ?? 1000) });
    }
    applyEdit(targets, pairs);
  }

  const toXml = (): string => '<?xml version="1.0" encoding="UTF-8"?>\n<MediaContainer size="0"/>\n';

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const arrived = performance.now();
    inFlight++;
    if (inFlight > fake.maxInFlightSeen) fake.maxInFlightSeen = inFlight;
    let done = false;
    const finish = () => {
      if (!done) {
        done = true;
        inFlight--;
      }
    };
    res.on('close', finish);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const rawUrl = req.url ?? '/';
        const qi = rawUrl.indexOf('?');
        const path = qi < 0 ? rawUrl : rawUrl.slice(0, qi);
        const parsed = parseQuery(qi < 0 ? '' : rawUrl.slice(qi + 1));
        const method = req.method ?? 'GET';
        const entry: LoggedRequest = {
          method,
          rawUrl,
          path,
          query: parsed.decoded,
          rawQuery: parsed.raw,
          headers: req.headers,
          bodyLength: body.length,
          bodySha1: createHash('sha1').update(body).digest('hex'),
          tokenInQuery: parsed.decoded.some(([k]) => k.toLowerCase() === 'x-plex-token'),
          arrivedAt: arrived,
        };
        fake.requestLog.push(entry);
        const q = new Map<string, string>();
        for (const [k, v] of parsed.decoded) if (!q.has(k)) q.set(k, v);
        const fs = activeFaults(method, path);
        for (const f of fs) if (f.kind === 'hook') f.hook?.(fake, entry);

        const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
        // The injected latency is the server's whole response time: the answer leaves `latencyMs`
        // after the request arrived, with the fake's own work done inside that time.
        const respondAt = arrived + options.latencyMs;
        // Timers fire up to a couple of ms late; the last stretch is waited out on setImmediate so
        // a 5 ms latency is 5 ms, not 6–7 (benchmarks compare against latency-bound ideals).
        const untilDue = () =>
          new Promise<void>((resolve) => {
            const tick = () => {
              const left = respondAt - performance.now();
              if (left <= 0) resolve();
              else if (left > 1.2) setTimeout(tick, left - 1.2);
              else setImmediate(tick);
            };
            tick();
          });
        const send = (status: number, text: string, contentType: string, extra: Record<string, string> = {}) => {
          entry.status = status;
          void untilDue().then(() => {
            entry.answeredAt = performance.now();
            res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), ...extra });
            res.end(text);
          });
        };
        const delay = fs.find((f) => f.kind === 'delay');
        if (delay) await wait(delay.ms ?? 100);
        if (fs.some((f) => f.kind === 'hang')) return; // never answer
        if (fs.some((f) => f.kind === 'reset')) {
          req.socket.destroy();
          return;
        }
        const maintenance = fs.find((f) => f.kind === 'maintenance') ?? (opts.maintenanceForMs && Date.now() - startedAt < opts.maintenanceForMs ? ({ kind: 'maintenance' } as Fault) : undefined);
        if (maintenance) {
          send(503, XML_503, 'text/xml', maintenance.retryAfter ? { 'Retry-After': maintenance.retryAfter } : {});
          return;
        }
        if (options.maxUrlLength !== undefined && rawUrl.length > options.maxUrlLength) {
          send(414, '<html><body><h1>414 Request-URI Too Large</h1></body></html>', 'text/html');
          return;
        }
        if (path !== '/identity') {
          const hdr = req.headers['x-plex-token'];
          const tok = (Array.isArray(hdr) ? hdr[0] : hdr) ?? q.get('X-Plex-Token');
          if (tok !== token || fs.some((f) => f.kind === 'unauthorized')) {
            send(401, HTML_401, 'text/html');
            return;
          }
        }
        const rl = fs.find((f) => f.kind === 'rateLimited');
        if (rl) {
          send(429, '<html><body>Too Many Requests</body></html>', 'text/html', rl.retryAfter !== undefined ? { 'Retry-After': rl.retryAfter } : {});
          return;
        }
        const st = fs.find((f) => f.kind === 'status');
        if (st) {
          const status = st.status ?? 500;
          const extra: Record<string, string> = st.retryAfter !== undefined ? { 'Retry-After': st.retryAfter } : {};
          if (status === 503) send(503, XML_503, 'text/xml', extra);
          else send(status, `<html><body><h1>${status}</h1></body></html>`, 'text/html', extra);
          return;
        }
        let reply: Reply;
        try {
          reply = route(method, path, q, parsed.decoded, body, req.headers, fs);
        } catch (e) {
          if (e instanceof HttpError) {
            send(e.status, `<html><head><title>${e.status}</title></head><body><h1>${e.message}</h1></body></html>`, 'text/html');
            return;
          }
          send(500, '<html><body><h1>500 Internal Server Error</h1></body></html>', 'text/html');
          return;
        }
        const headers = reply.headers ?? {};
        if (reply.body === undefined) {
          send(reply.status, '', 'text/plain', headers);
          return;
        }
        if (typeof reply.body === 'string') {
          send(reply.status, reply.body, reply.contentType ?? 'text/plain', headers);
          return;
        }
        const wantsJson = String(req.headers.accept ?? '').includes('application/json');
        if (!wantsJson || fs.some((f) => f.kind === 'xml200')) {
          send(reply.status, toXml(), 'text/xml;charset=utf-8', headers);
          return;
        }
        if (fs.some((f) => f.kind === 'html200')) return send(200, '<!DOCTYPE html><html><body>Proxy login</body></html>', 'text/html', headers);
        if (fs.some((f) => f.kind === 'empty200')) return send(200, '', 'application/json', headers);
        let json = JSON.stringify(reply.body);
        if (fs.some((f) => f.kind === 'truncatedJson')) json = json.slice(0, Math.max(1, Math.floor(json.length / 2)));
        if (fs.some((f) => f.kind === 'invalidJson')) json = `{"MediaContainer": {size: 1,,}`;
        const ct = fs.some((f) => f.kind === 'wrongContentType') ? 'text/plain' : 'application/json';
        const slow = fs.find((f) => f.kind === 'slowBody');
        if (slow) {
          await untilDue();
          entry.answeredAt = performance.now();
          entry.status = reply.status;
          res.writeHead(reply.status, { 'Content-Type': ct, 'Content-Length': Buffer.byteLength(json), ...headers });
          const buf = Buffer.from(json);
          const steps = 10;
          for (let i = 0; i < steps && !res.destroyed; i++) {
            res.write(buf.subarray(Math.floor((i * buf.length) / steps), Math.floor(((i + 1) * buf.length) / steps)));
            await wait((slow.ms ?? 1000) / steps);
          }
          res.end();
          return;
        }
        send(reply.status, json, ct, headers);
      })();
    });
  };

  // Edits travel in the URL; allow long ones (a 10 000-character summary) like PMS does, unless maxUrlLength says otherwise.
  const serverOpts = { maxHeaderSize: 256 * 1024 };
  const server = opts.tls
    ? https.createServer({ ...serverOpts, key: opts.tls.key, cert: opts.tls.cert }, handler)
    : http.createServer(serverOpts, handler);
  server.keepAliveTimeout = 5000;
  server.on(opts.tls ? 'secureConnection' : 'connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await fake.up();
  return fake;
}
