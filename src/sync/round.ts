import crypto from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Job, SyncRecord } from '../queue/types';
import type { StashScene } from '../stash/scene';
import type { DesiredItem } from '../plex/desired';
import type { ApplyEntry, ApplyResult, PlexItemRef } from '../plex/write';
import type { PlexError } from '../plex/errors';
import { sharedItemConflicts } from '../plex/find';
import { mapScene, type MapOptions } from './map';
import { qualityGate } from './gate';
import { stateHash } from './state-hash';
import { SyncFailure, toSyncError, type SyncError } from './errors';
import { filesDigest, filesOf, linksOf } from '../follow/links';

/**
 * One sync round, as values: a round of jobs goes in, one outcome per job comes out; the caller (the
 * dispatcher) records the outcomes in the queue and schedules the next round. The steps, in order:
 *
 *   prepareRound: hydrate the scenes from Stash (one query) → map → quality gate → state hash (an
 *                 unchanged scene stops here) → poster → find the Plex items by file path
 *   writeRound:   apply every changed scene to its items (one batch, reads and writes overlapped) →
 *                 the sync record to keep
 */

/** What a round needs from the outside: Stash, Plex and the settings, read once per round. */
export interface RoundContext {
  stash: {
    findScenesByIds(ids: string[]): Promise<StashScene[]>;
    /** The scene's cover, or null when Stash has none (it serves a default icon then). */
    fetchCover(url: string): Promise<{ bytes: Buffer; contentType: string } | null>;
  };
  plex: {
    findItems(stashPath: string, size?: number): Promise<PlexItemRef[]>;
    applyDesiredBatch(entries: readonly ApplyEntry[]): Promise<(ApplyResult | PlexError)[]>;
  };
  /** The scenes' sync records, in the order asked (QueueStore.records). */
  records(sceneIds: readonly string[]): Promise<(SyncRecord | undefined)[]>;
  settings: {
    /** Frozen: the state hash caches the options' encoding for the whole round. */
    map: Readonly<MapOptions>;
    /** preserve_plex_edits: fill only what Plex has empty. */
    preservePlexEdits: boolean;
    poster: boolean;
    background: boolean;
  };
  /** ratingKey → the scene last written to it, across rounds, to report two scenes fighting over one Plex item. */
  claims: Map<string, string>;
  now(): number;
}

/** What became of one job. */
export type Outcome =
  /** Written to Plex (or Plex already matched): complete the job with this record. */
  | { kind: 'synced'; job: Job; summary: string; record: SyncRecord; conflicts: string[] }
  /** Nothing changed since the last sync: complete the job (with `record` when it learnt something); Plex was not asked. */
  | { kind: 'unchanged'; job: Job; summary: string; record?: SyncRecord }
  /** The scene no longer exists in Stash. */
  | { kind: 'gone'; job: Job }
  /** This job failed; the error's class says what happens next (src/sync/errors.ts). */
  | { kind: 'failed'; job: Job; error: SyncError; scene?: StashScene };

/** A job ready for Plex: its scene, the state to write and the items to write it to. */
export interface Pending {
  job: Job;
  scene: StashScene;
  desired: DesiredItem;
  fillOnly: boolean;
  hash: string;
  record?: SyncRecord;
  refs: PlexItemRef[];
  /** False when Stash served its default image: no poster is sent. */
  hasCover: boolean;
  /** Digest of the scene's files that have a Plex item (src/follow/links.ts), kept in the record. */
  files: string;
}

/** A round read from Stash and matched: what is left to write to Plex, the jobs already decided, and the time each part took. */
export interface PreparedRound {
  size: number;
  pending: Pending[];
  decided: Outcome[];
  stashMs: number;
  matchMs: number;
  /** Stash could not be read: no job was looked at (the caller makes them wait, no attempt spent). */
  stashError?: SyncError;
}

export async function prepareRound(jobs: Job[], ctx: RoundContext): Promise<PreparedRound> {
  const t0 = Date.now();
  let scenes: Map<string, StashScene>;
  try {
    const found = await ctx.stash.findScenesByIds([...new Set(jobs.map((j) => j.sceneId))]);
    scenes = new Map(found.map((s) => [s.id, s]));
  } catch (err) {
    return { size: jobs.length, pending: [], decided: [], stashMs: Date.now() - t0, matchMs: 0, stashError: toSyncError(err) };
  }
  const t1 = Date.now();
  const pending: Pending[] = [];
  const decided: Outcome[] = [];
  const options = ctx.settings.map;
  const records = await ctx.records(jobs.map((j) => j.sceneId));
  for (const [i, job] of jobs.entries()) {
    // A turn of the event loop now and then, so a round written meanwhile keeps its connections busy.
    if (i % 16 === 15) await nextTurn();
    const scene = scenes.get(job.sceneId);
    if (!scene) {
      decided.push({ kind: 'gone', job });
      continue;
    }
    try {
      const gate = qualityGate(scene, mapScene(scene, options), { preservePlexEdits: ctx.settings.preservePlexEdits });
      const desired = gate.item;
      const record = records[i];
      const hash = stateHash(desired, options, { fillOnly: gate.fillOnly, poster: posterKey(scene, ctx) });
      // A file added to the scene (a merge) gets the metadata too; records from before files were noted held one file.
      const files = filesOf(scene);
      const sameFiles = (record?.files ?? (scene.files.length <= 1 ? files : undefined)) === files;
      if (!job.force && record && record.stateHash === hash && sameFiles) {
        // Records written before links were kept learn them here, so a later deletion finds the scene.
        const links = linksOf(scene);
        const noted = record.links === links && record.files === files ? undefined : { ...record, links, files };
        decided.push({ kind: 'unchanged', job, summary: 'unchanged since the last sync; nothing sent to Plex', ...(noted ? { record: noted } : {}) });
        continue;
      }
      const hasCover = await attachImages(scene, desired, ctx);
      const matched: string[] = [];
      const refs = await findItems(scene, ctx, matched);
      pending.push({ job, scene, desired, fillOnly: gate.fillOnly, hash, record, refs, hasCover, files: filesDigest(matched) });
    } catch (err) {
      decided.push({ kind: 'failed', job, error: toSyncError(err), scene });
    }
  }
  return { size: jobs.length, pending, decided, stashMs: t1 - t0, matchMs: Date.now() - t1 };
}

/** Writes the prepared scenes to Plex in one batch; one outcome per pending job, in order. */
export async function writeRound(pending: Pending[], ctx: RoundContext): Promise<Outcome[]> {
  if (pending.length === 0) return [];
  const entries = pending.flatMap((p) =>
    p.refs.map((ref) => ({
      ref,
      desired: p.desired,
      opts: {
        fillEmptyOnly: p.fillOnly,
        lastPosterSha256: p.record?.posterSha256,
        lastArtSha256: p.record?.artSha256,
        imagesOnItems: p.record?.ratingKeys,
      },
    })),
  );
  const results = await ctx.plex.applyDesiredBatch(entries);
  const outcomes: Outcome[] = [];
  let i = 0;
  for (const p of pending) {
    const mine = results.slice(i, i + p.refs.length);
    i += p.refs.length;
    const failure = mine.find((r) => r instanceof Error);
    if (failure) {
      outcomes.push({ kind: 'failed', job: p.job, error: toSyncError(failure), scene: p.scene });
      continue;
    }
    const applied = mine.filter((r): r is ApplyResult => !(r instanceof Error));
    const changed = [...new Set(applied.flatMap((r) => r.changedFields))];
    const warnings = applied.flatMap((r) => r.warnings);
    const record: SyncRecord = {
      stateHash: p.hash,
      posterSha256: applied.find((r) => r.posterSha256)?.posterSha256 ?? p.record?.posterSha256,
      artSha256: applied.find((r) => r.artSha256)?.artSha256 ?? p.record?.artSha256,
      ratingKeys: applied.map((r) => r.ref.ratingKey),
      syncedAt: ctx.now(),
      links: linksOf(p.scene),
      files: p.files,
    };
    const conflicts: string[] = [];
    for (const c of await liveConflicts(p.job.sceneId, applied.map((r) => r.ref), ctx)) {
      const message = `scenes ${c.otherSceneId} and ${p.job.sceneId} both match Plex item ${c.ratingKey} (${c.file}); they overwrite each other: merge or remove the duplicate in Stash`;
      warnings.push(message);
      conflicts.push(message);
    }
    for (const r of applied) ctx.claims.set(r.ref.ratingKey, p.job.sceneId);
    const where = record.ratingKeys.join(', ');
    const what =
      (changed.length ? `updated ${changed.join(', ')}` : 'Plex already matched') +
      (p.hasCover ? '' : '; Stash has no cover for this scene, so Plex keeps its own poster');
    const summary = `${what} on Plex item ${where}${warnings.length ? ` (warnings: ${warnings.join('; ')})` : ''}`;
    outcomes.push({ kind: 'synced', job: p.job, summary, record, conflicts });
  }
  return outcomes;
}

/** The poster is identified by the screenshot path Stash gives (it changes with the scene), so an unchanged scene needs no image fetch. */
function posterKey(scene: StashScene, ctx: RoundContext): string | null {
  const url = scene.paths?.screenshot;
  if (!url || !ctx.settings.poster) return null;
  try {
    const u = new URL(url);
    return `${u.pathname}${u.search}`;
  } catch {
    return url;
  }
}

/** Adds the poster (and background) to `desired`; false when Stash has no cover, so Plex keeps its own. */
async function attachImages(scene: StashScene, desired: DesiredItem, ctx: RoundContext): Promise<boolean> {
  const url = scene.paths?.screenshot;
  if (!url || !ctx.settings.poster) return true;
  const fetched = await ctx.stash.fetchCover(url);
  if (!fetched) return false;
  const image = { ...fetched, sha256: crypto.createHash('sha256').update(fetched.bytes).digest('hex') };
  desired.poster = image;
  if (ctx.settings.background) desired.art = image;
  return true;
}

/**
 * Items this scene shares with another scene that still exists. A scene merged into another (sceneMerge
 * fires no hook) or deleted and re-created by a scan leaves its claim behind: that is no conflict.
 */
async function liveConflicts(sceneId: string, refs: PlexItemRef[], ctx: RoundContext): Promise<ReturnType<typeof sharedItemConflicts>> {
  const conflicts = sharedItemConflicts(ctx.claims, sceneId, refs);
  if (conflicts.length === 0) return conflicts;
  try {
    const alive = new Set((await ctx.stash.findScenesByIds([...new Set(conflicts.map((c) => c.otherSceneId))])).map((s) => s.id));
    for (const c of conflicts) if (!alive.has(c.otherSceneId)) ctx.claims.delete(c.ratingKey);
    return conflicts.filter((c) => alive.has(c.otherSceneId));
  } catch {
    return conflicts;
  }
}

/**
 * The Plex items of EVERY file of the scene (a scene with two files has two items, or one item with two
 * parts when Plex merged them: written once). Files Plex lacks are passed over while another has an item
 * (`matched` collects the paths that have one); a file removed from the scene is no longer asked for, so
 * its item is left alone.
 */
async function findItems(scene: StashScene, ctx: RoundContext, matched: string[] = []): Promise<PlexItemRef[]> {
  let lastError: unknown;
  const found = new Map<string, PlexItemRef>();
  for (const file of scene.files) {
    try {
      const refs = await ctx.plex.findItems(file.path, file.size);
      if (refs.length > 0) matched.push(file.path);
      for (const ref of refs) if (!found.has(ref.ratingKey)) found.set(ref.ratingKey, ref);
    } catch (err) {
      lastError = err;
      if (toSyncError(err).class !== 'not_found') throw err;
    }
  }
  if (found.size > 0) return [...found.values()];
  if (scene.files.length === 0) throw new SyncFailure('bad_request', `scene ${scene.id} has no file, so it cannot be matched to a Plex item`);
  throw lastError ?? new SyncFailure('not_found', `no Plex item has the file ${scene.files[0]!.path}`);
}
