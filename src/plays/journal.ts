import { z } from 'zod';
import type { QueueStore } from '../queue/store';

/**
 * The plays journal: which Plex history rows have been turned into Stash plays. Stash's sceneAddPlay
 * is not idempotent (every call adds a play), so each row is written here as `pending` — synced — before
 * the call and confirmed `applied` after it. A crash between the two leaves a pending row that the next
 * run settles by asking Stash whether the play is there (src/plays/recover.ts). It lives in its own
 * sublevel of the queue's LevelDB, so it shares the worker's lock and never touches the queue's keys.
 *
 *   h!<historyId>                          JournalEntry JSON (one per Plex history row ever handled)
 *   p!<historyId>                          '' while that row is pending (a small index for recovery)
 *   s!<sceneId>!<viewedAt hex>!<historyId> '' per applied row (how many plays of that time we added)
 *   wm!<accountId>                         watermark: the newest viewedAt (epoch s) read for that account
 *   r!<ratingKey>                          the Plex resume state last copied to Stash
 *   last                                   the last import's summary (status)
 */

export const JournalEntrySchema = z.object({
  state: z.enum(['pending', 'applied', 'unmatched']),
  historyId: z.string(),
  ratingKey: z.string().optional(),
  sceneId: z.string().optional(),
  /** Epoch seconds, as Plex reports it; the play's time in Stash. */
  viewedAt: z.number().int(),
  accountId: z.number().int(),
  /** When this state was written (ms). */
  at: z.number(),
});
export type JournalEntry = z.infer<typeof JournalEntrySchema>;

export const ResumeStateSchema = z.object({ viewOffset: z.number(), lastViewedAt: z.number() });
export type ResumeState = z.infer<typeof ResumeStateSchema>;

type Op = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

/** What the journal uses of its sublevel. `sync` is classic-level's fsync option, which a sublevel passes through to it. */
interface Space {
  get(key: string): Promise<string | undefined>;
  getMany(keys: string[]): Promise<(string | undefined)[]>;
  put(key: string, value: string, options?: { sync?: boolean }): Promise<void>;
  batch(ops: Op[], options?: { sync?: boolean }): Promise<void>;
  keys(range: { gte: string; lt: string }): AsyncIterable<string>;
}

const SUBLEVEL = 'plays';
const hex = (n: number) => Math.max(0, Math.floor(n)).toString(16).padStart(12, '0');
const entryKey = (id: string) => `h!${id}`;
const pendingKey = (id: string) => `p!${id}`;
const sceneTimePrefix = (sceneId: string, viewedAt: number) => `s!${sceneId}!${hex(viewedAt)}!`;

function parseJson(raw: string | undefined): unknown {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

export class PlaysJournal {
  private constructor(private readonly db: Space) {}

  /** The journal inside the worker's store. */
  static of(store: QueueStore): PlaysJournal {
    // The sublevel's own typings omit classic-level's `sync`; the interface above states what is relied on.
    return new PlaysJournal(store.sublevel(SUBLEVEL) as unknown as Space);
  }

  /** The entries of these history rows, in the order asked (undefined: never handled). */
  async entries(historyIds: readonly string[]): Promise<(JournalEntry | undefined)[]> {
    if (historyIds.length === 0) return [];
    const raws = await this.db.getMany(historyIds.map(entryKey));
    return raws.map((raw) => {
      const parsed = JournalEntrySchema.safeParse(parseJson(raw));
      // An unreadable entry is treated as pending-unknown by the caller only if it is pending; here it reads as absent.
      return parsed.success ? parsed.data : undefined;
    });
  }

  /** Written and synced BEFORE sceneAddPlay: from here on a crash cannot make us forget we may have added it. */
  async markPending(entry: Omit<JournalEntry, 'state' | 'at'>): Promise<JournalEntry> {
    const e: JournalEntry = { ...entry, state: 'pending', at: Date.now() };
    await this.db.batch(
      [
        { type: 'put', key: entryKey(e.historyId), value: JSON.stringify(e) },
        { type: 'put', key: pendingKey(e.historyId), value: '' },
      ],
      { sync: true },
    );
    return e;
  }

  /** Written after Stash confirmed the play (or recovery found it there). */
  async markApplied(entry: JournalEntry): Promise<void> {
    if (!entry.sceneId) throw new Error(`history row ${entry.historyId} has no scene to be applied to`);
    const e: JournalEntry = { ...entry, state: 'applied', at: Date.now() };
    await this.db.batch(
      [
        { type: 'put', key: entryKey(e.historyId), value: JSON.stringify(e) },
        { type: 'del', key: pendingKey(e.historyId) },
        { type: 'put', key: `${sceneTimePrefix(e.sceneId!, e.viewedAt)}${e.historyId}`, value: '' },
      ],
      { sync: true },
    );
  }

  /** Rows whose item maps to no single scene: counted, never guessed. A later backfill may match them. */
  async markUnmatched(entries: Omit<JournalEntry, 'state' | 'at'>[]): Promise<void> {
    if (entries.length === 0) return;
    const now = Date.now();
    const ops: Op[] = [];
    for (const entry of entries) {
      ops.push({ type: 'put', key: entryKey(entry.historyId), value: JSON.stringify({ ...entry, state: 'unmatched', at: now }) });
      ops.push({ type: 'del', key: pendingKey(entry.historyId) });
    }
    await this.db.batch(ops, { sync: true });
  }

  /** Entries left pending by a run that did not finish (a crash, or Stash failing mid-call). */
  async pending(): Promise<JournalEntry[]> {
    const ids: string[] = [];
    for await (const key of this.db.keys({ gte: 'p!', lt: 'p"' })) ids.push(key.slice(2));
    const entries = await this.entries(ids);
    return entries.filter((e): e is JournalEntry => e?.state === 'pending');
  }

  /** How many plays at this time we know we added to this scene (applied entries). */
  async appliedAt(sceneId: string, viewedAt: number): Promise<number> {
    const prefix = sceneTimePrefix(sceneId, viewedAt);
    let n = 0;
    for await (const _key of this.db.keys({ gte: prefix, lt: `${prefix}~` })) n++;
    return n;
  }

  async watermark(accountId: number): Promise<number | undefined> {
    const v = Number(await this.db.get(`wm!${accountId}`));
    return Number.isFinite(v) && v > 0 ? v : undefined;
  }

  async setWatermark(accountId: number, viewedAt: number): Promise<void> {
    await this.db.put(`wm!${accountId}`, String(Math.floor(viewedAt)), { sync: true });
  }

  async resumeState(ratingKey: string): Promise<ResumeState | undefined> {
    const parsed = ResumeStateSchema.safeParse(parseJson(await this.db.get(`r!${ratingKey}`)));
    return parsed.success ? parsed.data : undefined;
  }

  async setResumeState(ratingKey: string, state: ResumeState): Promise<void> {
    await this.db.put(`r!${ratingKey}`, JSON.stringify(state));
  }

  /** The last import's summary, unchecked: validate it with your schema. */
  async lastSummary(): Promise<unknown> {
    return parseJson(await this.db.get('last'));
  }

  async setLastSummary(summary: unknown): Promise<void> {
    await this.db.put('last', JSON.stringify(summary));
  }
}
