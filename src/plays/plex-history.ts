import { z } from 'zod';
import type { PlexClient } from '../plex/client';
import { PlexError } from '../plex/errors';

/**
 * Reading plays from Plex: the watch history, the server's accounts and the owner's resume points.
 * Shapes follow python-plexapi (PlexServer.history(), PlexHistory, SystemAccount), whose live tests
 * run against a real server; paging as on every Plex list (reference/plex-api.md §3.2).
 */

const key = z.union([z.string(), z.number()]).transform((v) => String(v));
const int = z.union([z.number(), z.string().regex(/^-?\d+$/)]).transform((v) => Number(v));

/** One history row: `historyKey` is `/status/sessions/history/<id>`; viewedAt is epoch seconds. */
export const historyEntrySchema = z.object({
  historyKey: z.string().min(1),
  // A row can outlive its item; then Plex may leave the ratingKey out.
  ratingKey: key.optional(),
  viewedAt: int,
  accountID: int.optional(),
  librarySectionID: key.optional(),
  title: z.union([z.string(), z.number()]).transform(String).optional(),
});
export type PlexHistoryEntry = z.infer<typeof historyEntrySchema>;

const historyResponse = z
  .object({
    MediaContainer: z.object({
      size: int.optional(),
      totalSize: int.optional(),
      Metadata: z.array(historyEntrySchema).nullish(),
    }),
  })
  .transform((v) => v.MediaContainer);

export const accountSchema = z.object({ id: int, name: z.union([z.string(), z.number()]).transform(String).default('') });
export type PlexAccount = z.infer<typeof accountSchema>;

const accountsResponse = z
  .object({ MediaContainer: z.object({ Account: z.array(accountSchema).nullish() }) })
  .transform((v) => v.MediaContainer.Account ?? []);

/** The owner's view state of an item: viewOffset in ms (absent once finished), lastViewedAt in epoch seconds. */
const viewStateSchema = z.object({
  ratingKey: key,
  viewOffset: int.optional(),
  lastViewedAt: int.optional(),
  viewCount: int.optional(),
  librarySectionID: key.optional(),
});
export type PlexViewState = z.infer<typeof viewStateSchema>;

const pagedViewStates = z
  .object({ MediaContainer: z.object({ totalSize: int.optional(), Metadata: z.array(viewStateSchema).nullish() }) })
  .transform((v) => v.MediaContainer);

const viewStateResponse = z
  .object({ MediaContainer: z.object({ Metadata: z.array(viewStateSchema).nullish() }) })
  .transform((v) => v.MediaContainer.Metadata ?? []);

/** The history page size: within Plex's 1000 limit (§3.2), small enough to report progress. */
export const HISTORY_PAGE = 200;
/** Items read per `/library/metadata/<rk,rk,...>` request for resume points. */
const ITEMS_PER_READ = 50;

/** The server's accounts (`GET /accounts`): id 1 is the owner on a local server, 0 the server itself. */
export async function fetchAccounts(client: PlexClient): Promise<PlexAccount[]> {
  return client.getJson('/accounts', accountsResponse, { what: 'reading the Plex accounts' });
}

export interface HistoryQuery {
  accountId: number;
  /** Only rows viewed strictly after this (epoch seconds); 0 = the whole history. */
  after: number;
  pageSize?: number;
  /** Called after each page with the rows so far and the server's total. */
  onPage?: (received: number, total: number | undefined) => void;
}

/**
 * Every history row of one account viewed after `after`, oldest first. Plexapi sorts by viewedAt
 * descending; the walk does the same and reverses at the end, advancing by the rows actually received
 * because Plex may send fewer than asked (§3.2). A row seen twice (the list shifted while paging) is
 * kept once.
 */
export async function fetchHistory(client: PlexClient, q: HistoryQuery): Promise<PlexHistoryEntry[]> {
  const size = Math.min(1000, q.pageSize ?? HISTORY_PAGE);
  const rows = new Map<string, PlexHistoryEntry>();
  for (let start = 0; ; ) {
    const page = await client.getJson('/status/sessions/history/all', historyResponse, {
      what: `reading the Plex watch history of account ${q.accountId}`,
      query: [
        ['sort', 'viewedAt:desc'],
        ['accountID', String(q.accountId)],
        ...(q.after > 0 ? ([['viewedAt>', String(q.after)]] as const) : []),
      ],
      headers: { 'X-Plex-Container-Start': String(start), 'X-Plex-Container-Size': String(size) },
      timeoutMs: 4 * client.readTimeoutMs,
    });
    const got = page.Metadata ?? [];
    for (const row of got) rows.set(row.historyKey, row);
    start += got.length;
    q.onPage?.(rows.size, page.totalSize);
    if (got.length === 0 || (page.totalSize !== undefined ? start >= page.totalSize : got.length < size)) break;
  }
  return [...rows.values()].sort((a, b) => a.viewedAt - b.viewedAt || historyId(a.historyKey).localeCompare(historyId(b.historyKey), 'en', { numeric: true }));
}

/** The owner's view state of these items; items Plex no longer has are simply missing. */
export async function fetchViewStates(client: PlexClient, ratingKeys: readonly string[]): Promise<PlexViewState[]> {
  const out: PlexViewState[] = [];
  for (let i = 0; i < ratingKeys.length; i += ITEMS_PER_READ) {
    const chunk = ratingKeys.slice(i, i + ITEMS_PER_READ);
    try {
      out.push(...(await client.getJson(`/library/metadata/${chunk.map(encodeURIComponent).join(',')}`, viewStateResponse, { what: 'reading resume points' })));
    } catch (err) {
      // 404: none of these items exists any more; the others of the import still count.
      if (err instanceof PlexError && err.kind === 'not_found') continue;
      throw err;
    }
  }
  return out;
}

/**
 * The owner's items with a resume point: the Continue Watching hub (plexapi's
 * PlexServer.continueWatching(); its live test shows an item there once it has progress and gone once
 * played). A partial watch writes no history row, so this is where "where they stopped" comes from.
 * Next-episode suggestions in the hub carry no viewOffset and are left out.
 */
export async function fetchInProgress(client: PlexClient, pageSize = HISTORY_PAGE): Promise<PlexViewState[]> {
  const size = Math.min(1000, pageSize);
  const out = new Map<string, PlexViewState>();
  for (let start = 0; ; ) {
    const page = await client.getJson('/hubs/continueWatching/items', pagedViewStates, {
      what: 'reading the Plex Continue Watching list',
      headers: { 'X-Plex-Container-Start': String(start), 'X-Plex-Container-Size': String(size) },
    });
    const got = page.Metadata ?? [];
    for (const s of got) if ((s.viewOffset ?? 0) > 0) out.set(s.ratingKey, s);
    start += got.length;
    if (got.length === 0 || (page.totalSize !== undefined ? start >= page.totalSize : got.length < size)) break;
  }
  return [...out.values()];
}

/** `/status/sessions/history/123` → `123`: the row's stable id, used as the journal key. */
export function historyId(historyKey: string): string {
  const tail = historyKey.slice(historyKey.lastIndexOf('/') + 1);
  return tail || historyKey;
}
