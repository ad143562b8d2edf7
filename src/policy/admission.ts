import type { SyncError } from '../sync/errors';
import { answered } from '../sync/errors';
import {
  acquireAuthProbe,
  authPauseSchema,
  authProbeResult,
  DEFAULT_AUTH_PAUSE_OPTIONS,
  noteEventWhilePaused,
  pauseForAuth,
  resumeAuthPause,
  type AuthPause,
  type AuthPauseOptions,
} from './auth-pause';
import { nextStashProbeAt, probeStashNow, startStashOutage, stashProbeFailed, type StashOutage } from './stash-outage';
import { CircuitBreaker, type BreakerData, type BreakerOptions, type Outage } from './breaker';
import type { Random } from './backoff';

/**
 * Whether jobs may be taken from the queue now, combining the three reasons not to: Stash not
 * answering (stash-outage.ts), a refused credential (auth-pause.ts) and the circuit breaker (Plex
 * looks down, breaker.ts). Pure: no timers, no I/O, the clock is passed in, so the interplay is
 * unit-tested (test/policy/admission.test.ts).
 *
 * - `all`: take a full round.
 * - `probe`: take exactly one job; its outcome decides. While Stash is unreachable, nothing goes until
 *   its probe is due; while paused, the one probe is the pause's (at once after the settings changed or
 *   soon after a new event, else on a growing schedule); the breaker's probe comes last.
 * - `none`: take nothing; no attempt is spent.
 */
export type Admission = { kind: 'all' } | { kind: 'probe'; for: 'stash' | 'pause' | 'breaker' } | { kind: 'none' };

/** What a recorded outcome changed, for the log. */
export interface AdmissionChange {
  /** The breaker just opened; the next probe goes at this time. */
  breakerOpened?: { nextProbeAt: number | null };
  /** The queue was not paused and now is. */
  pauseStarted?: boolean;
  /** The queue was paused and no longer is (since when it had been). */
  pauseEnded?: { since: number };
}

export interface StashState {
  unreachableSince: number;
  nextProbeAt: number;
  message: string;
}

export interface AdmissionOptions {
  breaker?: Partial<BreakerOptions>;
  pause?: AuthPauseOptions;
  random?: Random;
}

export class AdmissionPolicy {
  private breaker: CircuitBreaker;
  private pause: AuthPause | null;
  /** Stash not answering: nothing is taken until one probe round, on a growing schedule, reads it again. */
  private stashOutage: StashOutage | null = null;
  /** The pause as it was before the last probe was granted, to give an unused probe back. */
  private pauseBeforeProbe: AuthPause | null = null;
  private readonly pauseOptions: AuthPauseOptions;
  private savedBreakerVersion = -1;

  constructor(
    private readonly options: AdmissionOptions = {},
    state: { breaker?: CircuitBreaker; pause?: AuthPause | null } = {},
  ) {
    this.breaker = state.breaker ?? new CircuitBreaker(options.breaker, options.random);
    this.pause = state.pause ?? null;
    this.pauseOptions = options.pause ?? DEFAULT_AUTH_PAUSE_OPTIONS;
  }

  /**
   * A policy resumed from what the last worker persisted. A half-open breaker's probe and a pause's
   * probe died with that worker: the breaker resumes open with its probe due, the pause with no
   * probe out. Unreadable state is reported through `warn` and starts afresh.
   */
  static restore(saved: { breaker: unknown; pause: unknown }, options: AdmissionOptions = {}, warn: (msg: string) => void = () => undefined): AdmissionPolicy {
    let breaker: CircuitBreaker | undefined;
    if (saved.breaker) {
      try {
        breaker = CircuitBreaker.fromJSON(saved.breaker, options.breaker, options.random);
      } catch (err) {
        warn(`${(err as Error).message}; starting with a closed breaker`);
      }
    }
    const pause = authPauseSchema.nullable().safeParse(saved.pause ?? null);
    return new AdmissionPolicy(options, { breaker, pause: pause.success && pause.data ? resumeAuthPause(pause.data) : null });
  }

  /** `fingerprint`: the settings a paused queue waits for the user to change (settingsFingerprint). */
  admit(now: number, fingerprint: string): Admission {
    // One small round probes Stash when it is due; the queue waits meanwhile, no attempt spent.
    if (this.stashOutage && now < nextStashProbeAt(this.stashOutage)) return { kind: 'none' };
    if (this.pause) {
      const probe = acquireAuthProbe(this.pause, now, fingerprint, this.pauseOptions);
      if (!probe.granted) return { kind: 'none' };
      this.pauseBeforeProbe = this.pause;
      this.pause = probe.pause;
      return { kind: 'probe', for: 'pause' };
    }
    if (this.stashOutage) return { kind: 'probe', for: 'stash' };
    if (this.breaker.canDispatch(now)) return { kind: 'all' };
    return this.breaker.tryAcquireProbe(now) ? { kind: 'probe', for: 'breaker' } : { kind: 'none' };
  }

  /** The queue had nothing to probe with: the probe slot goes back unused. */
  giveBack(admission: Admission, now: number): void {
    if (admission.kind !== 'probe') return;
    if (admission.for === 'pause') {
      if (this.pauseBeforeProbe && this.pause) this.pause = this.pauseBeforeProbe;
    } else if (admission.for === 'breaker') {
      this.breaker.releaseProbe(now);
    }
  }

  /** Whether more rounds may be written without asking again: closed breaker, no pause. */
  canContinue(): boolean {
    return !this.pause && !this.stashOutage && this.breaker.state === 'closed';
  }

  /** A round could not read Stash at all: an outage starts, or its probe failed (the next waits longer). */
  stashUnreachable(now: number, message: string): { nextProbeAt: number } {
    this.stashOutage = this.stashOutage ? stashProbeFailed(this.stashOutage, now, message) : startStashOutage(now, message);
    return { nextProbeAt: nextStashProbeAt(this.stashOutage) };
  }

  /** A round read Stash: an outage, if there was one, is over (since when it lasted). */
  stashAnswered(): { since: number } | undefined {
    if (!this.stashOutage) return undefined;
    const since = this.stashOutage.since;
    this.stashOutage = null;
    return { since };
  }

  /** New events came in: a paused queue probes soon (the user is waiting to see the edit), and so does Stash's probe (it just ran a hook). */
  noteEvents(): void {
    if (this.pause) this.pause = noteEventWhilePaused(this.pause);
    if (this.stashOutage) this.stashOutage = probeStashNow(this.stashOutage);
  }

  /**
   * A job succeeded. `reachedPlex`: Plex answered it (an unchanged scene proves nothing, so a probe
   * that never reached Plex hands the probe to the next job).
   */
  succeeded(now: number, reachedPlex: boolean): AdmissionChange {
    if (!reachedPlex) {
      this.breaker.releaseProbe(now);
      if (this.pause?.probeInFlight) this.pause = { ...this.pause, probeInFlight: false };
      return {};
    }
    this.breaker.recordSuccess(now);
    if (!this.pause) return {};
    const since = this.pause.since;
    this.pause = authProbeResult(this.pause, true);
    return { pauseEnded: { since } };
  }

  /**
   * A job failed with `error`; `pauses` is the backoff verdict that the failure pauses the queue (a
   * refused credential). `jobsWaiting` is asked only when the breaker opens, for its outage record.
   */
  failed(now: number, error: SyncError, pauses: boolean, fingerprint: string, jobsWaiting: () => number): AdmissionChange {
    const change: AdmissionChange = {};
    const wasClosed = this.breaker.state === 'closed';
    this.breaker.recordFailure(now, error.class);
    if (wasClosed && this.breaker.state !== 'closed') {
      this.breaker.setJobsWaiting(jobsWaiting());
      change.breakerOpened = { nextProbeAt: this.breaker.nextProbeAt() };
    }
    if (pauses) {
      if (!this.pause) change.pauseStarted = true;
      // The pause's probe was refused again: the next unprompted one waits longer (auth-pause.ts schedule).
      if (this.pause?.probeInFlight) this.pause = authProbeResult(this.pause, false);
      this.pause = pauseForAuth(error, now, fingerprint, this.pause);
    } else if (this.pause) {
      // The paused queue's probe failed for another reason: if the server answered at all, the credential works.
      const since = this.pause.since;
      const works = answered(error.class);
      this.pause = authProbeResult(this.pause, works, works ? undefined : error);
      if (!this.pause) change.pauseEnded = { since };
    }
    return change;
  }

  /** Process Queue / Process DLQ: the user may just have fixed Plex, so an open breaker or a paused queue probes at once. */
  probeNow(now: number): void {
    this.breaker.probeNow(now);
    if (this.pause) this.pause = { ...this.pause, settingsFingerprint: '' };
    if (this.stashOutage) this.stashOutage = probeStashNow(this.stashOutage);
  }

  /** When the next breaker or Stash probe is due (undefined: no wake-up needed for them). */
  nextProbeAt(): number | undefined {
    const times = [this.breaker.nextProbeAt(), this.stashOutage ? nextStashProbeAt(this.stashOutage) : null].filter((t): t is number => t !== null);
    return times.length ? Math.min(...times) : undefined;
  }

  get paused(): boolean {
    return this.pause !== null;
  }

  breakerState(): { state: string; nextProbeAt: number | null; outages: Outage[] } {
    return { state: this.breaker.state, nextProbeAt: this.breaker.nextProbeAt(), outages: this.breaker.outages().slice(-5) };
  }

  stashState(): StashState | null {
    const o = this.stashOutage;
    return o ? { unreachableSince: o.since, nextProbeAt: nextStashProbeAt(o), message: o.message } : null;
  }

  pauseState(): { reason: string; since: number } | null {
    return this.pause ? { reason: this.pause.reason, since: this.pause.since } : null;
  }

  /** What to persist: the breaker only when it changed since the last call. */
  toPersist(): { breaker?: BreakerData; pause: AuthPause | null } {
    const out: { breaker?: BreakerData; pause: AuthPause | null } = { pause: this.pause };
    if (this.breaker.version !== this.savedBreakerVersion) {
      out.breaker = this.breaker.toJSON();
      this.savedBreakerVersion = this.breaker.version;
    }
    return out;
  }
}
