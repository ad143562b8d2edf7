import type { PlexClient } from '../plex/client';
import type { StashClient } from '../stash/graphql';
import { resolveAccounts, OWNER_ACCOUNT_ID } from './accounts';
import type { JournalEntry, PlaysJournal, ResumeState } from './journal';
import { checkStart, decideRow, nextWatermark, pendingReachedStash } from './plan';
import { fetchAccounts, fetchHistory, fetchInProgress, fetchViewStates, historyId, type PlexHistoryEntry, type PlexViewState } from './plex-history';
import { addPlay, saveResume, scenePlays } from './stash';

/** A check reads this far behind its watermark: a row Plex writes a little late is still seen (the journal drops repeats). */
export const CHECK_OVERLAP_SECONDS = 3_600;

export type ImportKind = 'check' | 'backfill';

export interface ImportSummary {
  runId: string;
  kind: ImportKind;
  startedAt: number;
  finishedAt: number;
  /** The accounts whose history was read. */
  accounts: string[];
  /** History rows read from Plex. */
  read: number;
  /** New plays added to Stash by this run. */
  applied: number;
  /** Rows the journal already had as plays in Stash. */
  alreadyApplied: number;
  /** Rows whose item maps to no single synced scene. */
  unmatched: number;
  /** Up to 5 unmatched rows in words (item, title, why), for the task's report. */
  unmatchedExamples: string[];
  /** Rows of libraries PlexCourier does not sync (music, other plex_libraries): left alone, not unmatched. */
  otherLibraries: number;
  /** Pending entries of an interrupted run settled at the start: found in Stash, or added then. */
  recovered: number;
  /** Resume points saved to Stash. */
  resumePoints: number;
  /** Setting problems (an unknown account), one line each. */
  problems: string[];
  /** Why the run stopped early, one line; the next run carries on from the journal. */
  error?: string;
}

export interface ImportProgress {
  phase: 'recovering' | 'reading' | 'applying' | 'resume';
  done: number;
  total: number;
}

export interface ImportContext {
  journal: PlaysJournal;
  plex: PlexClient;
  stash: StashClient;
  /** The keys of the Plex libraries PlexCourier syncs (plex_libraries); plays elsewhere are not its business. */
  sectionKeys: () => Promise<ReadonlySet<string>>;
  /** ratingKey → scene ids (src/plays/scenes.ts); called at most once per run, only when a row needs it. */
  sceneMap: () => Promise<ReadonlyMap<string, readonly string[]>>;
  log: { info(msg: string): void; warn(msg: string): void; debug(msg: string): void };
  /** Asked between rows: true stops the run cleanly (the worker is leaving). */
  shouldStop?: () => boolean;
  onProgress?: (p: ImportProgress) => void;
  /** Epoch seconds; tests pass their own. */
  nowSeconds?: () => number;
}

export interface ImportRequest {
  runId: string;
  kind: ImportKind;
  /** The plex_accounts setting. */
  accounts: readonly string[];
}

class Stopped extends Error {}

/**
 * One import of plays from Plex into Stash, exactly once per Plex history row:
 * 1. settle pending journal entries of an interrupted run (is the play in Stash already?);
 * 2. read each account's history: a check from just before its watermark, a backfill from the start;
 * 3. for each new row of a synced item: journal `pending` (synced) → sceneAddPlay → journal `applied`;
 *    rows of items that map to no single scene are journalled `unmatched` and counted;
 * 4. copy the owner's latest resume points (items in progress, items just played) when Plex's changed.
 * Errors end the run with `error` set; nothing is lost, the next run resumes from the journal.
 */
export async function importPlays(ctx: ImportContext, req: ImportRequest): Promise<ImportSummary> {
  const summary: ImportSummary = {
    runId: req.runId,
    kind: req.kind,
    startedAt: Date.now(),
    finishedAt: 0,
    accounts: [],
    read: 0,
    applied: 0,
    alreadyApplied: 0,
    unmatched: 0,
    unmatchedExamples: [],
    otherLibraries: 0,
    recovered: 0,
    resumePoints: 0,
    problems: [],
  };
  const stopCheck = () => {
    if (ctx.shouldStop?.()) throw new Stopped('the worker is stopping; the next run carries on');
  };
  try {
    summary.recovered = await recoverPending(ctx);

    const accounts = resolveAccounts(req.accounts, await fetchAccounts(ctx.plex));
    summary.accounts = accounts.labels;
    summary.problems = accounts.problems;
    for (const p of accounts.problems) ctx.log.warn(p);

    const now = (ctx.nowSeconds ?? (() => Math.floor(Date.now() / 1000)))();
    const sections = await ctx.sectionKeys();
    const inSyncedLibrary = (s: { librarySectionID?: string }) => s.librarySectionID === undefined || sections.has(s.librarySectionID);
    let map: ReadonlyMap<string, readonly string[]> | undefined;
    const sceneMap = async () => (map ??= await ctx.sceneMap());
    const played = new Map<string, string>(); // ratingKey → scene, for resume points (owner's plays)
    for (const accountId of accounts.ids) {
      stopCheck();
      const watermark = await ctx.journal.watermark(accountId);
      const after = req.kind === 'backfill' ? 0 : checkStart(watermark, now, CHECK_OVERLAP_SECONDS);
      ctx.onProgress?.({ phase: 'reading', done: 0, total: 0 });
      const all = await fetchHistory(ctx.plex, {
        accountId,
        after,
        onPage: (received, total) => ctx.onProgress?.({ phase: 'reading', done: received, total: total ?? received }),
      });
      summary.read += all.length;
      const rows = all.filter(inSyncedLibrary);
      summary.otherLibraries += all.length - rows.length;
      const entries = await ctx.journal.entries(rows.map((r) => historyId(r.historyKey)));
      const needsMap = entries.some((e) => e === undefined || (e.state === 'unmatched' && req.kind === 'backfill'));
      if (needsMap) await sceneMap();
      const unmatched: Omit<JournalEntry, 'state' | 'at'>[] = [];
      let done = 0;
      for (const [i, row] of rows.entries()) {
        stopCheck();
        const id = historyId(row.historyKey);
        const decision = decideRow(row, entries[i], row.ratingKey === undefined ? undefined : map?.get(row.ratingKey), req.kind === 'backfill');
        const base = { historyId: id, viewedAt: row.viewedAt, accountId: row.accountID ?? accountId, ...(row.ratingKey ? { ratingKey: row.ratingKey } : {}) };
        switch (decision.kind) {
          case 'already_applied':
            summary.alreadyApplied++;
            break;
          case 'known_unmatched':
            break;
          case 'unmatched':
            unmatched.push(base);
            summary.unmatched++;
            const line = describeUnmatched(row, decision.reason, decision.sceneIds);
            if (summary.unmatchedExamples.length < 5) summary.unmatchedExamples.push(line);
            ctx.log.debug(line);
            break;
          case 'apply': {
            const pending = await ctx.journal.markPending({ ...base, sceneId: decision.sceneId });
            await addPlay(ctx.stash, decision.sceneId, row.viewedAt);
            await ctx.journal.markApplied(pending);
            summary.applied++;
            // A check's plays are the latest thing that happened to the item: its point (0 once finished) follows.
            // A backfill imports history and does not rewind where the user is now.
            if (req.kind === 'check' && accountId === OWNER_ACCOUNT_ID && row.ratingKey) played.set(row.ratingKey, decision.sceneId);
            break;
          }
        }
        ctx.onProgress?.({ phase: 'applying', done: ++done, total: rows.length });
      }
      await ctx.journal.markUnmatched(unmatched);
      const newest = all.reduce<number | undefined>((m, r) => Math.max(m ?? 0, r.viewedAt), undefined);
      await ctx.journal.setWatermark(accountId, nextWatermark(watermark, newest, after));
    }
    stopCheck();
    summary.resumePoints = await copyResumePoints(ctx, played, sceneMap, inSyncedLibrary);
  } catch (err) {
    summary.error = err instanceof Stopped ? err.message : (err as Error).message;
  }
  summary.finishedAt = Date.now();
  return summary;
}

function describeUnmatched(row: PlexHistoryEntry, reason: string, sceneIds: readonly string[]): string {
  const what = `Plex play ${historyId(row.historyKey)} of item ${row.ratingKey ?? '(gone)'}${row.title ? ` "${row.title}"` : ''}`;
  if (reason === 'several_scenes') return `${what} matches several scenes (${sceneIds.join(', ')}); not imported`;
  if (reason === 'no_rating_key') return `${what}: Plex no longer has the item; not imported`;
  return `${what} is not an item PlexCourier synced; not imported`;
}

/**
 * Settles pending entries: the play is in Stash when Stash has more plays at that second than the
 * journal says we added there; otherwise it is added now. A scene deleted since counts as unmatched.
 */
async function recoverPending(ctx: ImportContext): Promise<number> {
  const pending = await ctx.journal.pending();
  if (pending.length === 0) return 0;
  ctx.onProgress?.({ phase: 'recovering', done: 0, total: pending.length });
  const plays = await scenePlays(ctx.stash, [...new Set(pending.map((e) => e.sceneId!).filter(Boolean))]);
  let settled = 0;
  for (const entry of pending) {
    const scene = entry.sceneId === undefined ? undefined : plays.get(entry.sceneId);
    if (!scene) {
      await ctx.journal.markUnmatched([{ historyId: entry.historyId, viewedAt: entry.viewedAt, accountId: entry.accountId, ...(entry.ratingKey ? { ratingKey: entry.ratingKey } : {}) }]);
      ctx.log.warn(`Plex play ${entry.historyId}: scene ${entry.sceneId} is no longer in Stash; not imported`);
      continue;
    }
    const inStash = scene.playTimes.filter((t) => t === entry.viewedAt).length;
    const ours = await ctx.journal.appliedAt(entry.sceneId!, entry.viewedAt);
    if (!pendingReachedStash(inStash, ours)) {
      await addPlay(ctx.stash, entry.sceneId!, entry.viewedAt);
      scene.playTimes.push(entry.viewedAt);
      ctx.log.info(`Plex play ${entry.historyId}: added to scene ${entry.sceneId} after an interrupted import`);
    } else {
      ctx.log.info(`Plex play ${entry.historyId}: already in scene ${entry.sceneId} (an interrupted import had added it)`);
    }
    await ctx.journal.markApplied(entry);
    settled++;
    ctx.onProgress?.({ phase: 'recovering', done: settled, total: pending.length });
  }
  return settled;
}

/**
 * The owner's latest resume points: every item in Plex's Continue Watching list (a partial watch
 * writes no history row) and every item a check found newly played (a finished play clears its point,
 * which becomes 0 in Stash). A point is copied only when Plex's differs from the one last copied, so a
 * position the user set in Stash since is not overwritten by an unchanged Plex value.
 * sceneSaveActivity only sets the value, so repeating it after a crash is harmless.
 */
async function copyResumePoints(
  ctx: ImportContext,
  played: ReadonlyMap<string, string>,
  sceneMap: () => Promise<ReadonlyMap<string, readonly string[]>>,
  inSyncedLibrary: (s: { librarySectionID?: string }) => boolean,
): Promise<number> {
  const states = new Map<string, PlexViewState>();
  for (const s of await fetchInProgress(ctx.plex)) if (inSyncedLibrary(s)) states.set(s.ratingKey, s);
  const notListed = [...played.keys()].filter((rk) => !states.has(rk));
  for (const s of await fetchViewStates(ctx.plex, notListed)) states.set(s.ratingKey, s);
  const changed: { ratingKey: string; state: ResumeState }[] = [];
  for (const [ratingKey, s] of states) {
    const state = { viewOffset: s.viewOffset ?? 0, lastViewedAt: s.lastViewedAt ?? 0 };
    const before = await ctx.journal.resumeState(ratingKey);
    if (before && before.viewOffset === state.viewOffset && before.lastViewedAt === state.lastViewedAt) continue;
    changed.push({ ratingKey, state });
  }
  if (changed.length === 0) return 0;
  const map = changed.every((c) => played.has(c.ratingKey)) ? undefined : await sceneMap();
  ctx.onProgress?.({ phase: 'resume', done: 0, total: changed.length });
  let saved = 0;
  for (const [i, { ratingKey, state }] of changed.entries()) {
    const candidates = played.has(ratingKey) ? [played.get(ratingKey)!] : (map?.get(ratingKey) ?? []);
    // Only an item that is exactly one synced scene; anything else stays Plex's business.
    if (candidates.length === 1) {
      // Plex counts in ms, Stash in seconds; no offset after a finished play means "from the start".
      await saveResume(ctx.stash, candidates[0]!, state.viewOffset / 1000);
      saved++;
    }
    await ctx.journal.setResumeState(ratingKey, state);
    ctx.onProgress?.({ phase: 'resume', done: i + 1, total: changed.length });
  }
  return saved;
}
