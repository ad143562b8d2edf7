import type { QueueStore } from '../queue/store';
import type { Job, SyncRecord } from '../queue/types';
import type { StashScene } from '../stash/scene';
import { decide } from '../policy/backoff';
import type { AdmissionChange, AdmissionPolicy } from '../policy/admission';
import type { SyncError } from '../sync/errors';
import type { Outcome } from '../sync/round';
import { dlqSummaryLine } from './dlq-note';
import type { Config } from './config';
import type { Logger } from './filelog';

/** While Stash itself cannot be read, a round's jobs wait this long without losing an attempt. */
const STASH_RETRY_MS = 30_000;

export interface RecentError {
  sceneId: string;
  class: string;
  message: string;
  at: number;
}

/**
 * What the worker does with each job's outcome — and so what happens when a job fails:
 *
 * 1. the error's class (set where the failure was known, src/sync/errors.ts) goes to the backoff
 *    policy (src/policy/backoff.ts), which says retry (when, and whether an attempt is spent),
 *    dead-letter, drop, or pause the queue;
 * 2. the admission policy (src/policy/admission.ts) hears of it: five failures that mean Plex or
 *    Stash is down open the breaker, a refused credential pauses the queue;
 * 3. the queue moves the job (src/queue/transitions/retry.ts, dead-letter.ts, complete.ts).
 */
export class OutcomeRecorder {
  readonly totals = { synced: 0, unchanged: 0, retried: 0, deadLettered: 0, dropped: 0, deferred: 0 };
  readonly recentErrors: RecentError[] = [];
  private completedSinceDlqNote = 0;

  constructor(
    private readonly store: QueueStore,
    private readonly config: Config,
    private readonly admission: () => AdmissionPolicy,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  /** A round's outcomes, in order. Completions are not awaited one by one: the store commits them as one write. */
  async recordAll(outcomes: Outcome[]): Promise<void> {
    const completions: Promise<void>[] = [];
    for (const o of outcomes) {
      switch (o.kind) {
        case 'synced':
          for (const message of o.conflicts) {
            this.log.warn(message);
            this.remember({ sceneId: o.job.sceneId, class: 'shared_item', message, at: this.now() });
          }
          // The record and the completion go in one write: a crash between them cannot leave a half-recorded sync.
          completions.push(this.succeed(o.job, o.summary, o.record, true));
          this.totals.synced += 1;
          break;
        case 'unchanged':
          completions.push(this.succeed(o.job, o.summary, o.record, false));
          this.totals.unchanged += 1;
          break;
        case 'gone':
          await this.store.removeScene(o.job.sceneId);
          await this.store.complete(o.job, { summary: 'scene no longer exists in Stash; nothing to do' });
          this.totals.dropped += 1;
          break;
        case 'failed':
          await this.fail(o.job, o.error, o.scene);
          break;
      }
    }
    await Promise.all(completions);
  }

  /**
   * Stash could not be read for a whole round: its jobs wait, no attempt spent. Stash not answering
   * stops every job alike, so they go back untouched while one probe at a time checks on Stash
   * (admission.ts); any other refusal (a GraphQL error) makes this round's jobs wait 30 s.
   */
  async stashFailed(jobs: Job[], error: SyncError, startedAt: number): Promise<void> {
    if (error.class === 'stash_unreachable') {
      this.config.noteStashUnreachable(startedAt);
      const { nextProbeAt } = this.admission().stashUnreachable(this.now(), error.message);
      this.log.warn(`Stash is unreachable (${error.message}); ${jobs.length} job(s) wait with the rest of the queue, nothing is lost; next try ${new Date(nextProbeAt).toISOString()}`);
      // Not one by one: the store commits concurrent writes together.
      await Promise.all(jobs.map((j) => this.store.release(j)));
    } else {
      this.log.warn(`cannot read scenes from Stash (${error.message}); ${jobs.length} job(s) wait ${STASH_RETRY_MS / 1000} s`);
      for (const job of jobs) await this.store.defer(job, this.now() + STASH_RETRY_MS, error.message);
    }
    for (const job of jobs) this.remember({ sceneId: job.sceneId, class: error.class, message: error.message, at: this.now() });
    this.totals.deferred += jobs.length;
  }

  /** A round read Stash: if it had been unreachable, say it is back. */
  stashAnswered(): void {
    const outage = this.admission().stashAnswered();
    if (outage) this.log.info(`Stash answers again (unreachable since ${new Date(outage.since).toISOString()}); the queue resumes`);
  }

  /** `reachedPlex`: Plex answered this job, so it proves Plex healthy (an unchanged scene proves nothing). */
  private async succeed(job: Job, summary: string, record: SyncRecord | undefined, reachedPlex: boolean): Promise<void> {
    // The admission policy hears of the success before the completion is written, so that with several
    // completions in one write the breaker still sees the results in the jobs' order.
    const written = this.store.complete(job, record ? { summary, record } : { summary });
    this.logChange(this.admission().succeeded(this.now(), reachedPlex));
    await written;
    this.completedSinceDlqNote += 1;
    if (this.completedSinceDlqNote >= 50) {
      this.completedSinceDlqNote = 0;
      this.noteDlq();
    }
  }

  private async fail(job: Job, error: SyncError, scene?: StashScene): Promise<void> {
    const now = this.now();
    if (error.class === 'stash_unreachable') this.config.noteStashUnreachable(now);
    this.remember({ sceneId: job.sceneId, class: error.class, message: error.message, at: now });
    const verdict = decide(
      error,
      { attempts: job.attempts, firstFailureAt: job.firstFailureAt, lastErrorClass: job.lastError?.class },
      this.config.retryPolicy(),
      now,
      Math.random,
    );
    const waiting = () => this.store.counts().ready + this.store.counts().delayed;
    this.logChange(this.admission().failed(now, error, verdict.action === 'pause', this.config.fingerprint(), waiting), error);
    const label = scene?.title ? `scene ${job.sceneId} "${scene.title}"` : `scene ${job.sceneId}`;
    switch (verdict.action) {
      case 'retry':
        if (verdict.consumesAttempt) await this.store.retry(job, verdict.at, { class: error.class, message: error.message });
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
        await this.store.defer(job, now, verdict.reason);
        this.totals.deferred += 1;
        break;
    }
  }

  private logChange(change: AdmissionChange, error?: SyncError): void {
    if (change.breakerOpened && error) {
      const next = change.breakerOpened.nextProbeAt;
      this.log.warn(`${error.message}: Plex or Stash looks down; nothing is sent until one probe at ${next ? new Date(next).toISOString() : 'soon'} succeeds`);
    }
    if (change.pauseStarted && error) {
      this.log.error(`${error.message}; the queue is paused until this is fixed (no job is lost, nothing goes to the DLQ)`);
    }
    if (change.pauseEnded) {
      this.log.info(`Plex accepted the token again; the queue resumes (paused since ${new Date(change.pauseEnded.since).toISOString()})`);
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

  private noteDlq(): void {
    const byClass = this.store.dlqCountByClass();
    if (Object.keys(byClass).length === 0) return;
    this.log.warn(dlqSummaryLine(byClass, this.store.dlqList({ limit: 5 })));
  }

  private remember(e: RecentError): void {
    this.recentErrors.unshift(e);
    this.recentErrors.length = Math.min(this.recentErrors.length, 10);
  }
}
