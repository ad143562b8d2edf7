import type { QueueStore } from '../queue/store';
import { PRIORITY, type Job } from '../queue/types';
import { AdmissionPolicy } from '../policy/admission';
import { prepareRound, writeRound, type PreparedRound, type RoundContext } from '../sync/round';
import type { Config } from './config';
import type { Logger } from './filelog';
import { OutcomeRecorder, type RecentError } from './outcome';

export type { RecentError };

/** Jobs taken per round: their scenes are hydrated in one Stash query and their items read in one Plex request. */
const BATCH = 8;
/** Bulk syncs mostly find nothing changed: larger rounds amortise the Stash query. */
const BULK_BATCH = 200;

/**
 * The scheduler: asks the admission policy whether jobs may be taken, takes a round, runs it through
 * the sync round (src/sync/round.ts) and hands the outcomes to the recorder (src/worker/outcome.ts).
 * Bulk rounds overlap: the next one is taken and prepared while the current one is written to Plex.
 */
export class Dispatcher {
  private admission = new AdmissionPolicy();
  private readonly outcomes: OutcomeRecorder;
  /** ratingKey → the scene last written to it, to report two scenes fighting over one Plex item. */
  private readonly claims = new Map<string, string>();
  /** The next bulk round, taken and prepared while the current one is written to Plex. */
  private ahead: Promise<PreparedRound | null> | undefined;
  /** A bulk round still being written while the next one starts (at most one: see startWriting). */
  private writing: Promise<void> | undefined;
  /** Called as scenes are settled mid-round, so status.json (and a task's progress) moves with the work. */
  onProgress: () => void = () => {};

  constructor(
    private readonly store: QueueStore,
    private readonly config: Config,
    private readonly log: Logger,
    /** The clock; tests pass their own. */
    private readonly now: () => number = Date.now,
  ) {
    this.outcomes = new OutcomeRecorder(store, config, () => this.admission, log, now);
  }

  async restore(): Promise<void> {
    const saved = { breaker: await this.store.meta.get('breaker'), pause: await this.store.meta.get('pause') };
    this.admission = AdmissionPolicy.restore(saved, {}, (msg) => this.log.warn(msg));
    const pause = this.admission.pauseState();
    if (pause) this.log.warn(`the queue is paused: ${pause.reason}`);
  }

  nextWakeAt(): number | undefined {
    const times = [this.store.nextDueAt(), this.admission.nextProbeAt()].filter(
      (t): t is number => typeof t === 'number',
    );
    return times.length ? Math.min(...times) : undefined;
  }

  /** One round: returns whether any job was taken. */
  async runOnce(): Promise<boolean> {
    this.config.urgent = this.admission.paused;
    if (!this.config.ready()) {
      await this.dropAhead();
      return false;
    }
    if (this.ahead) {
      const ahead = this.ahead;
      this.ahead = undefined;
      const round = await ahead;
      if (round && this.admission.canContinue()) {
        await this.startWriting(round, true);
        return true;
      }
      if (round) await this.releaseAll(round.pending.map((p) => p.job));
    }
    // Probes, edits and suspects start with nothing else being written.
    await this.finishWriting();
    const now = this.now();
    const admission = this.admission.admit(now, this.config.fingerprint());
    if (admission.kind === 'none') return false;
    const limit = admission.kind === 'probe' ? 1 : BATCH;
    const jobs = await this.store.take(limit === 1 ? 1 : BULK_BATCH, now);
    if (jobs.length === 0) {
      // Nothing to probe with: give the probe slot back.
      this.admission.giveBack(admission, now);
      return false;
    }
    // A job that was in flight when a worker died runs alone: if it is what kills the worker, the
    // next crash is blamed on it only, and innocent jobs are not pushed towards the poison limit.
    const suspect = jobs.find((j) => j.crashCount > 0);
    // Hook-driven work goes in small rounds so an edit is never stuck behind a long bulk round.
    const urgent = jobs.some((j) => j.priority < PRIORITY.bulk);
    const round = suspect ? [suspect] : urgent ? jobs.slice(0, Math.min(limit, BATCH)) : jobs;
    await this.releaseAll(jobs.filter((j) => !round.includes(j)));
    const bulk = !suspect && !urgent && limit > 1;
    await this.startWriting(await this.prepare(round), bulk);
    return true;
  }

  /**
   * Writes a prepared round to Plex and records the outcomes. For a bulk round the next one is
   * taken, read from Stash and matched meanwhile, and this one returns once the round before it is
   * written: its first reads queue behind that round's last writes, so Plex's connections are not
   * idle between rounds.
   */
  private async startWriting(round: PreparedRound, bulk: boolean): Promise<void> {
    const prefetching = bulk && !round.stashError && this.admission.canContinue();
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

  private async finishRound(round: PreparedRound, prefetching: boolean): Promise<void> {
    const t0 = Date.now();
    if (round.pending.length) await this.outcomes.recordAll(await writeRound(round.pending, this.roundContext()));
    this.onProgress();
    await this.persist();
    const plexMs = Date.now() - t0;
    const total = round.stashMs + round.matchMs + plexMs;
    // Per-stage timing: always in debug mode, and for any slow round.
    const line = `round of ${round.size} job(s): Stash ${round.stashMs} ms, matching ${round.matchMs} ms, Plex and records ${plexMs} ms${prefetching ? ' (the next round was prepared meanwhile)' : ''}`;
    if (total > 5_000) this.log.info(line);
    else this.log.debug(line);
  }

  /** Takes the next bulk round and prepares it; hook-driven work and suspects are left to runOnce's own rules. */
  private async prefetch(): Promise<PreparedRound | null> {
    const jobs = await this.store.take(BULK_BATCH, this.now());
    if (jobs.length === 0) return null;
    if (jobs.some((j) => j.crashCount > 0 || j.priority < PRIORITY.bulk)) {
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

  /** Reads and matches a round, and records at once the jobs that need no Plex write (unchanged, gone, failed). */
  private async prepare(jobs: Job[]): Promise<PreparedRound> {
    const startedAt = this.now();
    const round = await prepareRound(jobs, this.roundContext());
    if (round.stashError) {
      await this.outcomes.stashFailed(jobs, round.stashError, startedAt);
      return round;
    }
    this.outcomes.stashAnswered();
    await this.outcomes.recordAll(round.decided);
    if (round.decided.length) this.onProgress();
    return round;
  }

  /** Stash, Plex and the settings as they are now, for one round. */
  private roundContext(): RoundContext {
    const stash = this.config.stash();
    const plex = this.config.plex();
    return {
      stash,
      plex,
      records: (ids) => this.store.records.get(ids),
      settings: {
        // Frozen, so the state hash can cache the options' encoding for the whole round.
        map: Object.freeze(this.config.mapOptions()),
        preservePlexEdits: this.config.preservePlexEdits(),
        poster: this.config.posterEnabled(),
        background: this.config.backgroundEnabled(),
      },
      claims: this.claims,
      now: this.now,
    };
  }

  private async persist(): Promise<void> {
    const state = this.admission.toPersist();
    if (state.breaker) await this.store.meta.put('breaker', state.breaker);
    await this.store.meta.put('pause', state.pause);
  }

  async shutdown(): Promise<void> {
    await this.quiesce();
    await this.persist();
  }

  /** New events came in: a paused queue probes soon (the token may work again, and the user is waiting to see the edit). */
  noteEvents(): void {
    this.admission.noteEvents();
  }

  /** Process Queue / Process DLQ: the user may just have fixed Plex, so an open breaker or a paused queue probes at once. */
  probeNow(): void {
    this.admission.probeNow(this.now());
  }

  describe() {
    return {
      breaker: this.admission.breakerState(),
      paused: this.admission.pauseState(),
      stash: this.admission.stashState(),
      lastErrors: this.outcomes.recentErrors,
      session: { ...this.outcomes.totals },
    };
  }
}
