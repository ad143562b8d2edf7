import crypto from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { QueueStore } from '../queue/store';
import type { Job, SyncRecord } from '../queue/types';
import type { StashScene } from '../stash/scene';
import type { DesiredItem } from '../plex/desired';
import type { PlexItemRef } from '../plex/write';
import { sharedItemConflicts } from '../plex/find';
import { mapScene } from '../sync/map';
import { qualityGate } from '../sync/gate';
import { stateHash } from '../sync/state-hash';
import { decide } from '../policy/backoff';
import { CircuitBreaker } from '../policy/breaker';
import { acquireAuthProbe, authPauseSchema, authProbeResult, pauseForAuth, resumeAuthPause, type AuthPause } from '../policy/auth-pause';
import type { SyncError } from '../sync/errors';
import { dlqSummaryLine } from './dlq-note';
import type { Config } from './config';
import type { Logger } from './filelog';
import { toSyncError } from './errors';
import { filesDigest, filesOf, linksOf } from '../follow/links';

/** Jobs taken per round: their scenes are hydrated in one Stash query and their items read in one Plex request. */
const BATCH = 8;
/** Bulk syncs mostly find nothing changed: larger rounds amortise the Stash query. */
const BULK_BATCH = 200;
/** While Stash itself cannot be reached, jobs wait this long without losing an attempt. */
const STASH_RETRY_MS = 30_000;

/** A job ready for Plex: its scene, the state to write and the items to write it to. */
interface Pending {
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

/** A round read from Stash and matched: what is left to write to Plex, and what the preparation took. */
interface Prepared {
  size: number;
  pending: Pending[];
  stashMs: number;
  matchMs: number;
  /** Set when Stash could not be read: the round's jobs were deferred. */
  stashError?: SyncError;
}

export interface RecentError {
  sceneId: string;
  class: string;
  message: string;
  at: number;
}

/**
 * Takes ready jobs and runs them through the sync pipeline: hydrate from Stash → map → gate →
 * skip if unchanged → find the Plex items → apply → record. Decides each failure's fate with the
 * policies (src/policy/), and keeps the breaker and the auth pause, persisted in the store.
 */
export class Dispatcher {
  private breaker = new CircuitBreaker();
  private pause: AuthPause | null = null;
  private readonly recentErrors: RecentError[] = [];
  private readonly totals = { synced: 0, unchanged: 0, retried: 0, deadLettered: 0, dropped: 0, deferred: 0 };
  /** Called as scenes are settled mid-round, so status.json (and a task's progress) moves with the work. */
  onProgress: () => void = () => {};
  private completedSinceDlqNote = 0;
  private savedBreakerVersion = -1;
  /** ratingKey → the scene last written to it, to report two scenes fighting over one Plex item. */
  private readonly claims = new Map<string, string>();
  /** The next bulk round, taken and prepared while the current one is written to Plex. */
  private ahead: Promise<Prepared | null> | undefined;
  /** A bulk round still being written while the next one starts (at most one: see writeRound). */
  private writing: Promise<void> | undefined;

  constructor(
    private readonly store: QueueStore,
    private readonly config: Config,
    private readonly log: Logger,
  ) {}

  async restore(): Promise<void> {
    const saved = await this.store.getMeta<unknown>('breaker');
    if (saved) {
      try {
        this.breaker = CircuitBreaker.fromJSON(saved);
      } catch (err) {
        this.log.warn(`${(err as Error).message}; starting with a closed breaker`);
      }
    }
    const pause = authPauseSchema.nullable().safeParse((await this.store.getMeta<unknown>('pause')) ?? null);
    // A probe that was out when the last worker died died with it.
    this.pause = pause.success && pause.data ? resumeAuthPause(pause.data) : null;
    if (this.pause) this.log.warn(`the queue is paused: ${this.pause.reason}`);
  }

  nextWakeAt(): number | undefined {
    const times = [this.store.nextDueAt(), this.breaker.nextProbeAt()].filter(
      (t): t is number => typeof t === 'number',
    );
    return times.length ? Math.min(...times) : undefined;
  }

  /** One round: returns whether any job was taken. */
  async runOnce(): Promise<boolean> {
    this.config.urgent = this.pause !== null;
    if (!this.config.ready()) {
      await this.dropAhead();
      return false;
    }
    if (this.ahead) {
      const ahead = this.ahead;
      this.ahead = undefined;
      const round = await ahead;
      if (round && this.canContinue()) {
        await this.writeRound(round, true);
        return true;
      }
      if (round) await this.releaseAll(round.pending.map((p) => p.job));
    }
    // Probes, edits and suspects start with nothing else being written.
    await this.finishWriting();
    const now = Date.now();
    let limit = BATCH;
    const pauseBefore = this.pause;
    if (this.pause) {
      // Exactly one probe while paused: at once after the settings changed, else now and then.
      const probe = acquireAuthProbe(this.pause, now, this.config.fingerprint());
      this.pause = probe.pause;
      if (!probe.granted) return false;
      limit = 1;
    } else if (!this.breaker.canDispatch(now)) {
      if (!this.breaker.tryAcquireProbe(now)) return false;
      limit = 1; // half-open: exactly one probe
    }
    const jobs = await this.store.take(limit === 1 ? 1 : BULK_BATCH, now);
    if (jobs.length === 0) {
      // Nothing to probe with: give the probe slot back.
      if (pauseBefore) this.pause = pauseBefore;
      else if (limit === 1) this.breaker.releaseProbe(now);
      return false;
    }
    // A job that was in flight when a worker died runs alone: if it is what kills the worker, the
    // next crash is blamed on it only, and innocent jobs are not pushed towards the poison limit.
    const suspect = jobs.find((j) => j.crashCount > 0);
    // Hook-driven work goes in small rounds so an edit is never stuck behind a long bulk round.
    const urgent = jobs.some((j) => j.priority < 2);
    const round = suspect ? [suspect] : urgent ? jobs.slice(0, Math.min(limit, BATCH)) : jobs;
    await this.releaseAll(jobs.filter((j) => !round.includes(j)));
    const bulk = !suspect && !urgent && limit > 1;
    await this.writeRound(await this.prepare(round), bulk);
    return true;
  }

  /**
   * Writes a prepared round to Plex and records the outcomes. For a bulk round the next one is
   * taken, read from Stash and matched meanwhile, and this one returns once the round before it is
   * written: its first reads queue behind that round's last writes, so Plex's connections are not
   * idle between rounds.
   */
  private async writeRound(round: Prepared, bulk: boolean): Promise<void> {
    const prefetching = bulk && !round.stashError && this.canContinue();
    if (prefetching) {
      this.ahead = this.prefetch();
      // Awaited by the next runOnce or by dropAhead; this only keeps a failure from counting as unhandled.
      this.ahead.catch(() => undefined);
    }
    if (!bulk) return this.finishRound(round, false);
    const before = this.writing;
    const written = this.finishRound(round, prefetching);
    this.writing = written;
    // Awaited by the next round or by finishWriting; this only keeps a failure from counting as unhandled.
    written.catch(() => undefined);
    if (before) await before;
  }

  /** Waits for a bulk round still being written. */
  private async finishWriting(): Promise<void> {
    const writing = this.writing;
    this.writing = undefined;
    if (writing) await writing;
  }

  /** Stop, Clear Queue: the round being written finishes; the one prepared ahead goes back to the queue. */
  async quiesce(): Promise<void> {
    await this.finishWriting();
    await this.dropAhead();
  }

  private async finishRound(round: Prepared, prefetching: boolean): Promise<void> {
    const t0 = Date.now();
    if (round.pending.length) await this.apply(round.pending);
    await this.persist();
    const plexMs = Date.now() - t0;
    const total = round.stashMs + round.matchMs + plexMs;
    // Per-stage timing: always in debug mode, and for any slow round.
    const line = `round of ${round.size} job(s): Stash ${round.stashMs} ms, matching ${round.matchMs} ms, Plex and records ${plexMs} ms${prefetching ? ' (the next round was prepared meanwhile)' : ''}`;
    if (total > 5_000) this.log.info(line);
    else this.log.debug(line);
  }

  /** Takes the next bulk round and prepares it; hook-driven work and suspects are left to runOnce's own rules. */
  private async prefetch(): Promise<Prepared | null> {
    const jobs = await this.store.take(BULK_BATCH, Date.now());
    if (jobs.length === 0) return null;
    if (jobs.some((j) => j.crashCount > 0 || j.priority < 2)) {
      await this.releaseAll(jobs);
      return null;
    }
    return this.prepare(jobs);
  }

  /** Puts a round prepared ahead back in the queue untouched (stop, Clear Queue, settings gone). */
  async dropAhead(): Promise<void> {
    const ahead = this.ahead;
    this.ahead = undefined;
    const round = ahead ? await ahead.catch(() => null) : null;
    if (round) await this.releaseAll(round.pending.map((p) => p.job));
  }

  private async releaseAll(jobs: Job[]): Promise<void> {
    // Not one by one: the store commits concurrent writes together.
    await Promise.all(jobs.map((j) => this.store.release(j)));
  }

  /** Whether Plex may be written to without a probe: the breaker is closed and the queue not paused. */
  private canContinue(): boolean {
    return !this.pause && this.breaker.state === 'closed';
  }

  /** Hydrates the jobs' scenes in one query, maps and gates them, completes the unchanged ones and finds the Plex items of the rest. */
  private async prepare(jobs: Job[]): Promise<Prepared> {
    const t0 = Date.now();
    let scenes: Map<string, StashScene>;
    try {
      const found = await this.config.stash().findScenesByIds([...new Set(jobs.map((j) => j.sceneId))]);
      scenes = new Map(found.map((s) => [s.id, s]));
    } catch (err) {
      const error = toSyncError(err);
      this.log.warn(`cannot read scenes from Stash (${error.message}); ${jobs.length} job(s) wait ${STASH_RETRY_MS / 1000} s`);
      for (const job of jobs) this.remember({ sceneId: job.sceneId, class: error.class, message: error.message, at: Date.now() });
      for (const job of jobs) await this.store.defer(job, Date.now() + STASH_RETRY_MS, error.message);
      this.totals.deferred += jobs.length;
      return { size: jobs.length, pending: [], stashMs: Date.now() - t0, matchMs: 0, stashError: error };
    }
    const t1 = Date.now();
    const pending = await this.match(jobs, scenes);
    return { size: jobs.length, pending, stashMs: t1 - t0, matchMs: Date.now() - t1 };
  }

  private async match(jobs: Job[], scenes: Map<string, StashScene>): Promise<Pending[]> {
    const pending: Pending[] = [];
    // Frozen, so the state hash can cache the options' encoding for the whole round.
    const options = Object.freeze(this.config.mapOptions());
    const records = await this.store.getSyncRecords(jobs.map((j) => j.sceneId));
    // Completions of unchanged scenes are not awaited one by one: the store commits them as one group.
    const unchanged: Promise<void>[] = [];
    for (const [i, job] of jobs.entries()) {
      // A turn of the event loop now and then, so a round written meanwhile keeps its connections busy.
      if (i % 16 === 15) {
        this.onProgress();
        await nextTurn();
      }
      const scene = scenes.get(job.sceneId);
      if (!scene) {
        await this.store.removeScene(job.sceneId);
        await this.store.complete(job, { summary: 'scene no longer exists in Stash; nothing to do' });
        this.totals.dropped += 1;
        continue;
      }
      try {
        const gate = qualityGate(scene, mapScene(scene, options), { preservePlexEdits: this.config.fillEmptyOnly() });
        const desired = gate.item;
        const record = records[i];
        const hash = stateHash(desired, options, { fillOnly: gate.fillOnly, poster: this.posterKey(scene) });
        // A file added to the scene (a merge) gets the metadata too; records from before files were noted held one file.
        const files = filesOf(scene);
        const sameFiles = (record?.files ?? (scene.files.length <= 1 ? files : undefined)) === files;
        if (!job.force && record && record.stateHash === hash && sameFiles) {
          // Records written before links were kept learn them here, so a later deletion finds the scene.
          const links = linksOf(scene);
          const noted = record.links === links && record.files === files ? undefined : { ...record, links, files };
          unchanged.push(this.succeed(job, 'unchanged since the last sync; nothing sent to Plex', noted, false));
          this.totals.unchanged += 1;
          continue;
        }
        const hasCover = await this.attachImages(scene, desired);
        const matched: string[] = [];
        const refs = await this.findItems(scene, matched);
        pending.push({ job, scene, desired, fillOnly: gate.fillOnly, hash, record, refs, hasCover, files: filesDigest(matched) });
      } catch (err) {
        await this.fail(job, toSyncError(err), scene);
      }
    }
    await Promise.all(unchanged);
    return pending;
  }

  private async apply(pending: Pending[]): Promise<void> {
    const plex = this.config.plex();
    const entries = pending.flatMap((p) =>
      p.refs.map((ref) => ({
        ref,
        desired: p.desired,
        // An item this scene never wrote (a file merged in) gets the images even when they did not change.
        opts: p.record?.ratingKeys.includes(ref.ratingKey) === false
          ? { fillEmptyOnly: p.fillOnly }
          : {
              fillEmptyOnly: p.fillOnly,
              lastPosterSha256: p.record?.posterSha256,
              lastArtSha256: p.record?.artSha256,
            },
      })),
    );
    const results = await plex.applyDesiredBatch(entries);
    // As with unchanged scenes, the completions go to the store together and commit as one write.
    const completions: Promise<void>[] = [];
    let i = 0;
    for (const p of pending) {
      const mine = results.slice(i, i + p.refs.length);
      i += p.refs.length;
      const failure = mine.find((r) => r instanceof Error);
      if (failure) {
        await this.fail(p.job, toSyncError(failure), p.scene);
        continue;
      }
      const applied = mine.filter((r): r is Exclude<typeof r, Error> => !(r instanceof Error));
      const changed = [...new Set(applied.flatMap((r) => r.changedFields))];
      const warnings = applied.flatMap((r) => r.warnings);
      const record: SyncRecord = {
        stateHash: p.hash,
        posterSha256: applied.find((r) => r.posterSha256)?.posterSha256 ?? p.record?.posterSha256,
        artSha256: applied.find((r) => r.artSha256)?.artSha256 ?? p.record?.artSha256,
        ratingKeys: applied.map((r) => r.ref.ratingKey),
        syncedAt: Date.now(),
        links: linksOf(p.scene),
        files: p.files,
      };
      for (const c of await this.liveConflicts(p.job.sceneId, applied.map((r) => r.ref))) {
        const message = `scenes ${c.otherSceneId} and ${p.job.sceneId} both match Plex item ${c.ratingKey} (${c.file}); they overwrite each other: merge or remove the duplicate in Stash`;
        warnings.push(message);
        this.log.warn(message);
        this.remember({ sceneId: p.job.sceneId, class: 'shared_item', message, at: Date.now() });
      }
      for (const r of applied) this.claims.set(r.ref.ratingKey, p.job.sceneId);
      const where = record.ratingKeys.join(', ');
      const what =
        (changed.length ? `updated ${changed.join(', ')}` : 'Plex already matched') +
        (p.hasCover ? '' : "; Stash has no cover for this scene, so Plex keeps its own poster");
      // The record and the completion go in one write: a crash between them cannot leave a half-recorded sync.
      completions.push(this.succeed(p.job, `${what} on Plex item ${where}${warnings.length ? ` (warnings: ${warnings.join('; ')})` : ''}`, record));
      this.totals.synced += 1;
    }
    await Promise.all(completions);
    this.onProgress();
  }

  /**
   * Items this scene shares with another scene that still exists. A scene merged into another (sceneMerge
   * fires no hook) or deleted and re-created by a scan leaves its claim behind: that is no conflict.
   */
  private async liveConflicts(sceneId: string, refs: PlexItemRef[]): Promise<ReturnType<typeof sharedItemConflicts>> {
    const conflicts = sharedItemConflicts(this.claims, sceneId, refs);
    if (conflicts.length === 0) return conflicts;
    try {
      const alive = new Set((await this.config.stash().findScenesByIds([...new Set(conflicts.map((c) => c.otherSceneId))])).map((s) => s.id));
      for (const c of conflicts) if (!alive.has(c.otherSceneId)) this.claims.delete(c.ratingKey);
      return conflicts.filter((c) => alive.has(c.otherSceneId));
    } catch {
      return conflicts;
    }
  }

  /** The poster is identified by the screenshot path Stash gives (it changes with the scene), so an unchanged scene needs no image fetch. */
  private posterKey(scene: StashScene): string | null {
    const url = scene.paths?.screenshot;
    if (!url || !this.config.posterEnabled()) return null;
    try {
      const u = new URL(url);
      return `${u.pathname}${u.search}`;
    } catch {
      return url;
    }
  }

  /** Adds the poster (and background) to `desired`; false when Stash has no cover, so Plex keeps its own. */
  private async attachImages(scene: StashScene, desired: DesiredItem): Promise<boolean> {
    const url = scene.paths?.screenshot;
    if (!url || !this.config.posterEnabled()) return true;
    const fetched = await this.config.stash().fetchCover(url);
    if (!fetched) return false;
    const image = { ...fetched, sha256: crypto.createHash('sha256').update(fetched.bytes).digest('hex') };
    desired.poster = image;
    if (this.config.backgroundEnabled()) desired.art = image;
    return true;
  }

  /**
   * The Plex items of EVERY file of the scene (a scene with two files has two items, or one item with
   * two parts when Plex merged them: written once). Files Plex lacks are passed over while another has
   * an item (`matched` collects the paths that have one); a file removed from the scene is no longer
   * asked for, so its item is left alone.
   */
  private async findItems(scene: StashScene, matched: string[] = []): Promise<PlexItemRef[]> {
    const plex = this.config.plex();
    let lastError: unknown;
    const found = new Map<string, PlexItemRef>();
    for (const file of scene.files) {
      try {
        const refs = await plex.findItems(file.path, file.size);
        if (refs.length > 0) matched.push(file.path);
        for (const ref of refs) if (!found.has(ref.ratingKey)) found.set(ref.ratingKey, ref);
      } catch (err) {
        lastError = err;
        if (toSyncError(err).class !== 'not_found') throw err;
      }
    }
    if (found.size > 0) return [...found.values()];
    if (scene.files.length === 0) {
      throw Object.assign(new Error(`scene ${scene.id} has no file, so it cannot be matched to a Plex item`), { syncClass: 'bad_request' });
    }
    throw lastError ?? Object.assign(new Error(`no Plex item has the file ${scene.files[0]!.path}`), { syncClass: 'not_found' });
  }

  /** `touchedPlex`: Plex answered this job, so it proves Plex healthy (an unchanged scene proves nothing). */
  private async succeed(job: Job, summary: string, record?: SyncRecord, touchedPlex = true): Promise<void> {
    // The breaker hears of the success before the completion is written, so that with several
    // completions in one write it still sees the results in the jobs' order.
    const written = this.store.complete(job, record ? { summary, record } : { summary });
    const now = Date.now();
    if (!touchedPlex) {
      // A probe that never reached Plex: the next job probes instead.
      this.breaker.releaseProbe(now);
      if (this.pause?.probeInFlight) this.pause = { ...this.pause, probeInFlight: false };
    } else {
      this.breaker.recordSuccess(now);
      if (this.pause) {
        this.log.info(`Plex accepted the token again; the queue resumes (paused since ${new Date(this.pause.since).toISOString()})`);
        this.pause = authProbeResult(this.pause, true);
      }
    }
    await written;
    this.completedSinceDlqNote += 1;
    if (this.completedSinceDlqNote >= 50) {
      this.completedSinceDlqNote = 0;
      await this.noteDlq();
    }
  }

  private async noteDlq(): Promise<void> {
    const byClass = this.store.dlqCountByClass();
    if (Object.keys(byClass).length === 0) return;
    this.log.warn(dlqSummaryLine(byClass, this.store.dlqList({ limit: 5 })));
  }

  private async fail(job: Job, error: SyncError, scene?: StashScene): Promise<void> {
    const now = Date.now();
    this.remember({ sceneId: job.sceneId, class: error.class, message: error.message, at: now });
    const wasClosed = this.breaker.state === 'closed';
    this.breaker.recordFailure(now, error.class);
    if (wasClosed && this.breaker.state !== 'closed') {
      this.breaker.setJobsWaiting(this.store.counts().ready + this.store.counts().delayed);
      const next = this.breaker.nextProbeAt();
      this.log.warn(`${error.message}: Plex or Stash looks down; nothing is sent until one probe at ${next ? new Date(next).toISOString() : 'soon'} succeeds`);
    }
    const verdict = decide(
      error,
      { attempts: job.attempts, firstFailureAt: job.firstFailureAt, lastErrorClass: job.lastError?.class },
      this.config.retryPolicy(),
      now,
      Math.random,
    );
    if (this.pause && verdict.action !== 'pause') {
      // The paused queue's probe failed for another reason: if Plex answered at all, the token works.
      const answered = !['network', 'timeout', 'server', 'invalid_response', 'stash_unreachable'].includes(error.class);
      this.pause = authProbeResult(this.pause, answered, answered ? undefined : error);
      if (!this.pause) this.log.info('Plex accepted the token again; the queue resumes');
    }
    const label = scene?.title ? `scene ${job.sceneId} "${scene.title}"` : `scene ${job.sceneId}`;
    const info = { class: error.class, message: error.message };
    switch (verdict.action) {
      case 'retry':
        if (verdict.consumesAttempt) await this.store.retry(job, verdict.at, info);
        else await this.store.defer(job, verdict.at, `${error.class}: ${error.message}`);
        if (verdict.scan && scene) await this.requestScan(scene);
        this.totals.retried += 1;
        this.log.info(`${label}: ${verdict.reason}; next try ${new Date(verdict.at).toISOString()}`);
        break;
      case 'dead_letter':
        await this.store.deadLetter(job, { class: error.class, message: verdict.reason });
        this.totals.deadLettered += 1;
        this.log.warn(`${label}: moved to the DLQ: ${verdict.reason}`);
        break;
      case 'drop':
        await this.store.complete(job, { summary: `skipped: ${verdict.reason}` });
        this.totals.dropped += 1;
        this.log.info(`${label}: skipped: ${verdict.reason}`);
        break;
      case 'pause':
        if (!this.pause) this.log.error(`${error.message}; the queue is paused until this is fixed (no job is lost, nothing goes to the DLQ)`);
        this.pause = pauseForAuth(error, now, this.config.fingerprint(), this.pause);
        await this.store.defer(job, now, verdict.reason);
        this.totals.deferred += 1;
        break;
    }
  }

  private async requestScan(scene: StashScene): Promise<void> {
    const plex = this.config.plex();
    for (const file of scene.files) {
      try {
        const scan = await plex.requestScan(file.path);
        this.log.info(`asked Plex to scan ${scan.folder} for scene ${scene.id}`);
      } catch (err) {
        this.log.debug(`could not ask Plex to scan for scene ${scene.id}: ${(err as Error).message}`);
      }
    }
  }

  private remember(e: RecentError): void {
    this.recentErrors.unshift(e);
    this.recentErrors.length = Math.min(this.recentErrors.length, 10);
  }

  private async persist(): Promise<void> {
    if (this.breaker.version !== this.savedBreakerVersion) {
      await this.store.putMeta('breaker', this.breaker.toJSON());
      this.savedBreakerVersion = this.breaker.version;
    }
    await this.store.putMeta('pause', this.pause);
  }

  async shutdown(): Promise<void> {
    await this.quiesce();
    await this.persist();
  }

  /** Process Queue / Process DLQ: the user may just have fixed Plex, so an open breaker or a paused queue probes at once. */
  nudge(): void {
    this.breaker.probeNow(Date.now());
    if (this.pause) this.pause = { ...this.pause, settingsFingerprint: '' };
  }

  describe() {
    return {
      breaker: { state: this.breaker.state, nextProbeAt: this.breaker.nextProbeAt(), outages: this.breaker.outages().slice(-5) },
      paused: this.pause ? { reason: this.pause.reason, since: this.pause.since } : null,
      lastErrors: this.recentErrors,
      session: { ...this.totals },
    };
  }
}
