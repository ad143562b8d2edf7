import { z } from 'zod';
import { countsForBreaker, type SyncErrorClass } from '../sync/errors';
import { jitterDown, type Random } from './backoff';

/*
 * Our own small state machine rather than cockatiel 3.2.1's CircuitBreakerPolicy: cockatiel wraps
 * a call (`policy.execute(fn)`) and decides as the call starts, but our dispatcher must ask
 * *before dequeuing* so that an open breaker leaves jobs ready with no attempt spent
 * (queue-research.md §6.4). We also need plain data that survives the worker (a new worker
 * resumes the same state) and exactly one probe per half-open window, which Stash2Plex's breaker
 * never enforced (stash2plex-inventory.md §2.8). No timers: the caller passes `now`.
 */

export interface BreakerOptions {
  /** Consecutive breaker-counted failures that open it. Defaults to 5 (Stash2Plex's figure, §2.8). */
  threshold: number;
  /** Wait before the first probe after opening. Defaults to 30 s: a PMS restart takes about that long. */
  halfOpenAfterMs: number;
  /** Growth of the wait with each failed probe. Defaults to 2 (30 s, 1 min, 2 min, …). */
  factor: number;
  /** Longest wait between probes. Defaults to 10 min, so recovery is noticed within minutes even after hours down. */
  maxHalfOpenAfterMs: number;
  /** Fraction of each wait drawn at random, 0–1. Defaults to 0.2; never lengthens past the cap. */
  jitter: number;
  /** Outages kept for the status report. Defaults to 30. */
  maxOutages: number;
}

export const DEFAULT_BREAKER_OPTIONS: Readonly<BreakerOptions> = Object.freeze({
  threshold: 5,
  halfOpenAfterMs: 30_000,
  factor: 2,
  maxHalfOpenAfterMs: 600_000,
  jitter: 0.2,
  maxOutages: 30,
});

export type BreakerStateName = 'closed' | 'open' | 'half_open';

const outageSchema = z.object({
  start: z.number(),
  end: z.number().optional(),
  /** Jobs waiting in the queue during the outage (the most the worker reported). */
  jobsWaiting: z.number().int().nonnegative().optional(),
});
export type Outage = z.infer<typeof outageSchema>;

export const breakerDataSchema = z
  .object({
    version: z.literal(1),
    state: z.enum(['closed', 'open', 'half_open']),
    consecutiveFailures: z.number().int().nonnegative(),
    /** Openings since the breaker last closed; drives the growing wait. */
    openings: z.number().int().nonnegative(),
    /** When an open breaker lets its one probe through. */
    probeDueAt: z.number().nullable(),
    /** When the probe in flight started (half-open only). */
    probeStartedAt: z.number().nullable(),
    lastFailureClass: z.string().nullable(),
    outages: z.array(outageSchema),
  })
  .refine((d) => d.state === 'closed' || d.probeDueAt !== null, { message: 'an open breaker needs probeDueAt' });
export type BreakerData = z.infer<typeof breakerDataSchema>;

function closedData(): BreakerData {
  return {
    version: 1,
    state: 'closed',
    consecutiveFailures: 0,
    openings: 0,
    probeDueAt: null,
    probeStartedAt: null,
    lastFailureClass: null,
    outages: [],
  };
}

/**
 * Usage by the dispatcher, before each dequeue:
 * `if (b.canDispatch(now)) take jobs; else if (b.tryAcquireProbe(now)) take ONE job as the probe;
 * else sleep until b.nextProbeAt()`. Every finished job reports `recordSuccess` or `recordFailure`;
 * a probe job that ended without reaching Plex or Stash reports `releaseProbe`.
 * Persist `toJSON()` after every call that changed it (`version` bumps).
 */
export class CircuitBreaker {
  private data: BreakerData;
  private readonly options: BreakerOptions;
  private readonly random: Random;
  /** Increments on every state change, so the caller knows when to persist. */
  version = 0;

  constructor(options: Partial<BreakerOptions> = {}, random: Random = Math.random, data?: BreakerData) {
    this.options = { ...DEFAULT_BREAKER_OPTIONS, ...options };
    this.random = random;
    this.data = data ? structuredClone(data) : closedData();
  }

  /**
   * Resumes a persisted breaker. A half-open breaker's probe died with the old worker, so it
   * resumes open with its probe due at once, never closed. Bad data throws one line.
   */
  static fromJSON(json: unknown, options: Partial<BreakerOptions> = {}, random: Random = Math.random): CircuitBreaker {
    const parsed = breakerDataSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(
        `stored circuit breaker state is invalid (${issue ? `${issue.path.join('.') || 'state'}: ${issue.message}` : 'unreadable'}); delete it to start closed`,
      );
    }
    const data = parsed.data;
    if (data.state === 'half_open') {
      data.state = 'open';
      data.probeDueAt = data.probeStartedAt ?? data.probeDueAt;
      data.probeStartedAt = null;
    }
    return new CircuitBreaker(options, random, data);
  }

  toJSON(): BreakerData {
    return structuredClone(this.data);
  }

  get state(): BreakerStateName {
    return this.data.state;
  }

  get consecutiveFailures(): number {
    return this.data.consecutiveFailures;
  }

  /** True only when closed: an open or half-open breaker lets nothing through but the probe. */
  canDispatch(_now: number): boolean {
    return this.data.state === 'closed';
  }

  /** When the next probe may go (open), `null` when closed or a probe is already out. */
  nextProbeAt(): number | null {
    return this.data.state === 'open' ? this.data.probeDueAt : null;
  }

  /** Lets exactly one probe through per half-open window: true at most once until its result comes back. */
  tryAcquireProbe(now: number): boolean {
    const d = this.data;
    if (d.state !== 'open' || d.probeDueAt === null || now < d.probeDueAt) return false;
    d.state = 'half_open';
    d.probeStartedAt = now;
    this.version++;
    return true;
  }

  /**
   * The user asked to process the queue now (they may just have fixed Plex): an open breaker's
   * probe becomes due at once. Still exactly one probe; a failure re-opens with the next wait.
   */
  probeNow(now: number): void {
    const d = this.data;
    if (d.state !== 'open' || (d.probeDueAt !== null && d.probeDueAt <= now)) return;
    d.probeDueAt = now;
    this.version++;
  }

  /** The probe job ended without touching the dependency (nothing to write, shutdown): the next probe is due now. */
  releaseProbe(now: number): void {
    const d = this.data;
    if (d.state !== 'half_open') return;
    d.state = 'open';
    d.probeDueAt = now;
    d.probeStartedAt = null;
    this.version++;
  }

  recordSuccess(now: number): void {
    const d = this.data;
    if (d.state === 'half_open') {
      this.close(now);
    } else if (d.state === 'closed' && d.consecutiveFailures > 0) {
      d.consecutiveFailures = 0;
      this.version++;
    }
    // While open, a late success of a request sent before it opened proves little: the probe decides.
  }

  /**
   * A job failed with `cls`. Classes that do not count for the breaker (not-found, 401, a bad
   * request …) mean the dependency answered: they close a half-open breaker and otherwise change
   * nothing, so they neither trip nor hide an outage.
   */
  recordFailure(now: number, cls: SyncErrorClass): void {
    const d = this.data;
    if (!countsForBreaker(cls)) {
      if (d.state === 'half_open') this.close(now);
      return;
    }
    if (d.state === 'open') return; // late failures of requests already in flight
    d.lastFailureClass = cls;
    if (d.state === 'half_open') {
      this.open(now);
      return;
    }
    d.consecutiveFailures++;
    if (d.consecutiveFailures >= this.options.threshold) {
      this.pushOutage(now);
      this.open(now);
    } else {
      this.version++;
    }
  }

  /** The worker reports how many jobs wait while the breaker is not closed; the outage keeps the most. */
  setJobsWaiting(count: number): void {
    const current = this.currentOutage();
    if (!current || this.data.state === 'closed') return;
    if (current.jobsWaiting === undefined || count > current.jobsWaiting) {
      current.jobsWaiting = count;
      this.version++;
    }
  }

  outages(): readonly Outage[] {
    return structuredClone(this.data.outages);
  }

  /** The wait before the n-th probe since the breaker last closed (n ≥ 1), before jitter. */
  probeDelay(n: number): number {
    const o = this.options;
    return Math.min(o.maxHalfOpenAfterMs, o.halfOpenAfterMs * o.factor ** Math.max(0, n - 1));
  }

  private open(now: number): void {
    const d = this.data;
    d.openings++;
    d.state = 'open';
    d.probeStartedAt = null;
    d.probeDueAt = now + jitterDown(this.probeDelay(d.openings), this.options.jitter, this.random);
    this.version++;
  }

  private close(now: number): void {
    const d = this.data;
    d.state = 'closed';
    d.consecutiveFailures = 0;
    d.openings = 0;
    d.probeDueAt = null;
    d.probeStartedAt = null;
    const current = this.currentOutage();
    if (current) current.end = now;
    this.version++;
  }

  private pushOutage(now: number): void {
    const outages = this.data.outages;
    outages.push({ start: now });
    while (outages.length > this.options.maxOutages) outages.shift();
  }

  private currentOutage(): Outage | undefined {
    const last = this.data.outages[this.data.outages.length - 1];
    return last && last.end === undefined ? last : undefined;
  }
}
