import { promises as fsp } from 'node:fs';
import type { ClassicLevel } from 'classic-level';
import { loadClassicLevel } from '../native';
import { JobStateError, StoreBrokenError, StoreLockedError } from './errors';
import * as K from './keys';
import { SortedIndex } from './sortedIndex';
import {
  DlqEntrySchema,
  DoneRecordSchema,
  JobSchema,
  SyncRecordSchema,
  type DlqEntry,
  type DlqFilter,
  type DoneRecord,
  type EnqueueRequest,
  type EnqueueSummary,
  type ErrorInfo,
  type Job,
  type Priority,
  type QueueCounts,
  type SceneEvent,
  type SyncRecord,
} from './types';

export interface QueueStoreOptions {
  /** Crashes while in flight before a job is dead-lettered as poison. Defaults to 3 (BullMQ's maxStalledCount idea, research §6.1). */
  maxCrashes?: number;
  /** Completed-job records older than this are swept. Defaults to 24 h (research §7). */
  doneTtlMs?: number;
  /** At most this many completed-job records are kept. Defaults to 1,000. */
  doneMaxEntries?: number;
  /** DLQ entries older than this are purged on each dead-letter. Defaults to 30 days (issue 2 §8). */
  dlqMaxAgeMs?: number;
  /** The DLQ keeps at most this many entries (oldest purged first). Defaults to 5,000 (research §7). */
  dlqMaxEntries?: number;
  /** Ingest markers older than this are swept; longer than the inbox tmp GC age. Defaults to 7 days. */
  seenTtlMs?: number;
  /** Compact the queue ranges after this many deleted keys (tombstones slow the head, research §3.6). Defaults to 10,000. */
  compactEvery?: number;
  /** The clock; tests pass their own. */
  now?: () => number;
}

type Op = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };
type Db = ClassicLevel<string, string>;

/** A job reference: the id is all a transition needs. */
export type JobRef = Pick<Job, 'id'>;

export interface LastDone {
  finishedAt: number;
  summary: string;
  trigger: string;
  attempts: number;
}

export interface OldestWaiting {
  jobId: string;
  sceneId: string;
  state: 'ready' | 'delayed';
  since: number;
}

const DAY = 86_400_000;
const MAX_TIME = 0xffff_ffff_ffff;
const POISON = 'poison';

/**
 * The durable queue: one LevelDB store owned by one worker (opening it is the election). Every
 * transition is one atomic batch; the worker is the single writer, so in-memory indexes mirror the
 * ordered keys and are rebuilt by one scan at open.
 *
 * Rules (one job per scene, latest wins; a scene is in at most one of: a job, the DLQ):
 * - enqueue, scene waiting: higher priority kept, newest trigger, force OR-ed. A ready job stays ready
 *   (it moves to the tail of its new priority if raised). A delayed job that failed or was deferred
 *   keeps its run time; one that was merely scheduled (runAt) takes the earlier time.
 * - enqueue, scene active: `rerun` is set (merged the same way); after complete it runs once more as a
 *   fresh job; after retry/defer/release/crash the rerun is folded into the job, which keeps its time.
 * - enqueue, scene in the DLQ: the DLQ entry is removed and a fresh job starts (attempts 0).
 * - deadLetter of a job with a pending rerun: a fresh ready job instead of a DLQ entry, carrying the
 *   error as lastError (the newer event wins).
 * - release and crash recovery put the job back at its old place in the ready order.
 * - poison (maxCrashes crashes in flight): DLQ class 'poison'; a pending rerun is dropped with it.
 * - removeScene: waiting job, DLQ entry and sync record go; an active job is dropped when it finishes.
 * - Done records: 24 h / 1,000 by default, swept on each completion. DLQ: 30 days / 5,000, purged on
 *   each dead-letter and at open.
 */
export class QueueStore {
  private readonly jobs = new Map<string, Job>();
  private readonly byScene = new Map<string, string>();
  private readonly ready = new SortedIndex<string>();
  private readonly delayed = new SortedIndex<string>();
  private readonly active = new Set<string>();
  private readonly dlq = new SortedIndex<DlqEntry>();
  private readonly dlqByScene = new Map<string, string>();
  private readonly done = new SortedIndex<DoneRecord>();
  private readonly doneByScene = new Map<string, string>();
  private seq = 0;
  private seqWritten = 0;
  private deletions = 0;
  private broken: StoreBrokenError | undefined;
  private pendingGroup: { ops: Op[]; sync: boolean; waiters: { resolve: () => void; reject: (err: unknown) => void }[] } | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;
  private readonly opts: Required<Omit<QueueStoreOptions, 'now'>>;
  private readonly now: () => number;
  /** Records that failed validation at open, one line each (they are left in place, untouched). */
  readonly loadProblems: string[] = [];

  private constructor(
    private readonly db: Db,
    readonly dir: string,
    opts: QueueStoreOptions,
  ) {
    this.opts = {
      maxCrashes: opts.maxCrashes ?? 3,
      doneTtlMs: opts.doneTtlMs ?? DAY,
      doneMaxEntries: opts.doneMaxEntries ?? 1000,
      dlqMaxAgeMs: opts.dlqMaxAgeMs ?? 30 * DAY,
      dlqMaxEntries: opts.dlqMaxEntries ?? 5000,
      seenTtlMs: opts.seenTtlMs ?? 7 * DAY,
      compactEvery: opts.compactEvery ?? 10_000,
    };
    this.now = opts.now ?? Date.now;
  }

  /**
   * Opens the store and recovers jobs left active by a dead worker. Rejects with StoreLockedError
   * when another process holds the lock: that process is the worker.
   */
  static async open(dir: string, opts: QueueStoreOptions = {}): Promise<QueueStore> {
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    const ClassicLevelCtor = await loadClassicLevel();
    const db = new ClassicLevelCtor<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    try {
      await db.open();
    } catch (err) {
      // classic-level reports a held lock as LEVEL_DATABASE_NOT_OPEN with cause LEVEL_LOCKED (research §0.3, §3.2).
      const e = err as { code?: string; cause?: { code?: string } };
      if (e.code === 'LEVEL_LOCKED' || e.cause?.code === 'LEVEL_LOCKED') throw new StoreLockedError(dir);
      const detail = (e.cause as Error | undefined)?.message ?? (err as Error).message;
      throw new Error(`cannot open the queue store at ${dir}: ${detail}`);
    }
    const store = new QueueStore(db, dir, opts);
    try {
      await store.load();
      await store.recover();
    } catch (err) {
      await db.close().catch(() => undefined);
      throw err;
    }
    return store;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing) await this.flushing;
    await this.db.close();
  }

  // ---------------------------------------------------------------- enqueue and removal

  /** Adds or updates one job per scene (latest wins) and records the inbox files as ingested, in one synced batch. */
  enqueue(requests: EnqueueRequest[], ingestedIds: string[] = []): Promise<EnqueueSummary> {
    return this.applyEvents(
      requests.map((request) => ({ kind: 'enqueue', request })),
      ingestedIds,
    );
  }

  /** A destroyed scene: drops its waiting job, sync record and DLQ entry; an active job is dropped when it finishes. */
  async removeScene(sceneId: string): Promise<void> {
    await this.applyEvents([{ kind: 'remove', sceneId }], []);
  }

  /** Enqueues and removals in arrival order, plus the ingest markers, in one synced batch. */
  async applyEvents(events: SceneEvent[], ingestedIds: string[]): Promise<EnqueueSummary> {
    this.usable();
    const now = this.now();
    const ops: Op[] = [];
    const summary: EnqueueSummary = { created: 0, updated: 0, rerun: 0, revived: 0, removed: 0 };
    for (const event of events) {
      if (event.kind === 'enqueue') this.applyEnqueue(event.request, now, ops, summary);
      else this.applyRemove(event.sceneId, ops, summary);
    }
    for (const name of ingestedIds) ops.push({ type: 'put', key: K.seenKey(name), value: String(now) });
    await this.write(ops, true);
    return summary;
  }

  /** Which of these inbox file names were already ingested. */
  async seen(names: string[]): Promise<boolean[]> {
    this.usable();
    if (names.length === 0) return [];
    const values = await this.db.getMany(names.map(K.seenKey));
    return values.map((v) => v !== undefined);
  }

  /** Forgets ingest markers older than the seen TTL; call after the inbox has been drained. */
  async sweepSeen(): Promise<number> {
    this.usable();
    const cutoff = this.now() - this.opts.seenTtlMs;
    if (cutoff <= 0) return 0;
    const ops: Op[] = [];
    // Inbox names start with 13-digit ms, so the markers sort by time.
    for await (const key of this.db.keys({ gte: K.prefix('seen'), lt: K.seenKey(String(cutoff).padStart(13, '0')) })) {
      ops.push({ type: 'del', key });
    }
    await this.write(ops, false);
    return ops.length;
  }

  // ---------------------------------------------------------------- dispatch

  /** Promotes due delayed jobs, then marks up to `limit` ready jobs active and returns them in order. */
  async take(limit: number, now: number = this.now()): Promise<Job[]> {
    this.usable();
    const ops: Op[] = [];
    this.promoteDue(now, ops);
    const taken: Job[] = [];
    while (taken.length < limit) {
      const head = this.ready.first();
      if (!head) break;
      const job = this.mustJob(head[1]);
      this.unplace(job, ops);
      job.state = 'active';
      job.updatedAt = now;
      this.active.add(job.id);
      ops.push({ type: 'put', key: K.activeKey(job.id), value: String(now) });
      this.putJob(job, ops);
      taken.push(structuredClone(job));
    }
    // ready→active need not be synced: a process crash loses nothing, and after power loss the job merely reruns (research §7).
    await this.write(ops, false);
    return taken;
  }

  /**
   * Makes every job waiting for its retry time ready now, keeping its attempts: the user pressed
   * Process Queue. Returns how many were promoted.
   */
  async promoteAll(): Promise<number> {
    this.usable();
    const ops: Op[] = [];
    const now = this.now();
    let promoted = 0;
    for (let head = this.delayed.first(); head; head = this.delayed.first()) {
      const job = this.mustJob(head[1]);
      this.unplace(job, ops);
      this.placeReady(job, now, ops);
      this.putJob(job, ops);
      promoted++;
    }
    await this.write(ops, true);
    return promoted;
  }

  /** The job take() would return first, without taking it (due delayed jobs not yet promoted are not considered). */
  peekReady(): Job | undefined {
    const head = this.ready.first();
    return head && structuredClone(this.mustJob(head[1]));
  }

  /** The earliest run time among delayed jobs, for the worker's sleep. */
  nextDueAt(): number | undefined {
    const head = this.delayed.first();
    return head ? K.decodePart(head[0])[0] : undefined;
  }

  // ---------------------------------------------------------------- transitions of an active job

  /** The job ran: keep a done record (and the scene's sync record); re-queue it if an event arrived meanwhile. */
  async complete(ref: JobRef, outcome: { summary: string; record?: SyncRecord }): Promise<void> {
    const job = this.mustActive(ref, 'complete');
    const now = this.now();
    const ops: Op[] = [];
    this.unplace(job, ops);
    const part = K.timedPart(now, this.nextSeq());
    const record: DoneRecord = {
      sceneId: job.sceneId,
      jobId: job.id,
      finishedAt: now,
      summary: outcome.summary,
      trigger: job.trigger,
      attempts: job.attempts,
    };
    this.done.insert(part, record);
    this.doneByScene.set(job.sceneId, part);
    ops.push({ type: 'put', key: K.doneKey(part), value: JSON.stringify(record) });
    if (outcome.record && !job.removed) {
      ops.push({ type: 'put', key: K.recKey(job.sceneId), value: JSON.stringify(outcome.record) });
    }
    if (job.rerun && !job.removed) {
      const rerun = job.rerun;
      Object.assign(job, { priority: rerun.priority, trigger: rerun.trigger, force: rerun.force, attempts: 0, crashCount: 0 });
      job.createdAt = now;
      delete job.rerun;
      delete job.firstFailureAt;
      delete job.lastError;
      delete job.deferredReason;
      this.placeReady(job, now, ops);
      this.putJob(job, ops);
    } else {
      this.dropJob(job, ops);
    }
    this.sweepDone(now, ops);
    // Not fsynced: a process crash loses no LevelDB write (research §3.3), and after a power loss the job
    // is still active on disk, so it merely runs again — the writes it made are idempotent. Everything
    // that could lose an event (ingest, DLQ moves, retries) stays synced.
    await this.write(ops, false);
  }

  /** A failed attempt: run again at `at`, consuming one attempt. */
  async retry(ref: JobRef, at: number, error: ErrorInfo): Promise<void> {
    const job = this.mustActive(ref, 'retry');
    const now = this.now();
    const ops: Op[] = [];
    job.attempts += 1;
    job.firstFailureAt ??= now;
    job.lastError = { class: error.class, message: error.message };
    delete job.deferredReason;
    this.requeueAfterRun(job, now, at, ops);
    await this.write(ops, true);
  }

  /** Wait until `at` without consuming an attempt (an open breaker, research §6.4). */
  async defer(ref: JobRef, at: number, reason: string): Promise<void> {
    const job = this.mustActive(ref, 'defer');
    const now = this.now();
    const ops: Op[] = [];
    job.deferredReason = reason;
    this.requeueAfterRun(job, now, at, ops);
    await this.write(ops, true);
  }

  /** Put an active job back at its place in the ready order, no attempt consumed (a worker shutting down). */
  async release(ref: JobRef): Promise<void> {
    const job = this.mustActive(ref, 'release');
    const now = this.now();
    const ops: Op[] = [];
    this.requeueAfterRun(job, now, undefined, ops);
    await this.write(ops, true);
  }

  /**
   * Move to the DLQ now. `attempts` in the entry counts this failure too. If an event arrived while the
   * job ran, the scene gets a fresh job instead (an event for a dead-lettered scene starts a fresh job),
   * carrying this error as its lastError.
   */
  async deadLetter(ref: JobRef, error: ErrorInfo): Promise<void> {
    const job = this.mustActive(ref, 'dead-letter');
    const now = this.now();
    const ops: Op[] = [];
    this.deadLetterJob(job, error, job.attempts + 1, now, ops);
    this.purgeDlqOps({ olderThanMs: this.opts.dlqMaxAgeMs, maxEntries: this.opts.dlqMaxEntries }, now, ops);
    await this.write(ops, true);
  }

  // ---------------------------------------------------------------- DLQ

  /** DLQ entries, oldest first. */
  dlqList(filter: DlqFilter = {}): DlqEntry[] {
    return this.selectDlq(filter).map(([, entry]) => ({ ...entry }));
  }

  dlqCountByClass(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const [, entry] of this.dlq.entries()) counts[entry.errorClass] = (counts[entry.errorClass] ?? 0) + 1;
    return counts;
  }

  /** Fresh jobs for the selected DLQ entries (attempts reset, priority 0 by default); returns how many. */
  async redrive(filter: DlqFilter & { priority?: Priority } = {}): Promise<number> {
    this.usable();
    const now = this.now();
    const ops: Op[] = [];
    const selected = this.selectDlq(filter);
    const summary: EnqueueSummary = { created: 0, updated: 0, rerun: 0, revived: 0, removed: 0 };
    for (const [part, entry] of selected) {
      this.deleteDlq(part, entry.sceneId, ops);
      this.applyEnqueue(
        { sceneId: entry.sceneId, priority: filter.priority ?? 0, trigger: 'dlq-redrive', force: entry.force },
        now,
        ops,
        summary,
      );
    }
    await this.write(ops, true);
    return selected.length;
  }

  /** Drops DLQ entries that failed more than `olderThanMs` ago, then the oldest beyond `maxEntries`; returns how many. */
  async purgeDlq(opts: { olderThanMs?: number; maxEntries?: number } = {}): Promise<number> {
    this.usable();
    const ops: Op[] = [];
    const n = this.purgeDlqOps(
      { olderThanMs: opts.olderThanMs ?? this.opts.dlqMaxAgeMs, maxEntries: opts.maxEntries ?? this.opts.dlqMaxEntries },
      this.now(),
      ops,
    );
    await this.write(ops, true);
    return n;
  }

  async clearDlq(): Promise<number> {
    this.usable();
    const ops: Op[] = [];
    const entries = [...this.dlq.entries()];
    for (const [part, entry] of entries) this.deleteDlq(part, entry.sceneId, ops);
    await this.write(ops, true);
    return entries.length;
  }

  /** Drops every ready and delayed job (active ones finish, without a rerun); returns how many were dropped. */
  async clearQueue(): Promise<number> {
    this.usable();
    const ops: Op[] = [];
    let dropped = 0;
    for (const job of [...this.jobs.values()]) {
      if (job.state === 'active') {
        if (job.rerun) {
          delete job.rerun;
          this.putJob(job, ops);
        }
        continue;
      }
      this.dropJob(job, ops);
      dropped++;
    }
    await this.write(ops, true);
    return dropped;
  }

  // ---------------------------------------------------------------- records

  async getSyncRecord(sceneId: string): Promise<SyncRecord | undefined> {
    const [record] = await this.getSyncRecords([sceneId]);
    return record;
  }

  /** Several scenes' records in one read (a round's worth), in the order asked. */
  async getSyncRecords(sceneIds: readonly string[]): Promise<(SyncRecord | undefined)[]> {
    this.usable();
    const raws = await this.db.getMany(sceneIds.map((id) => K.recKey(id)));
    return raws.map((raw) => {
      if (raw === undefined) return undefined;
      const parsed = SyncRecordSchema.safeParse(safeJson(raw));
      // A record that no longer validates only costs a full re-sync of that scene.
      return parsed.success ? parsed.data : undefined;
    });
  }

  async putSyncRecord(sceneId: string, record: SyncRecord): Promise<void> {
    this.usable();
    await this.write([{ type: 'put', key: K.recKey(sceneId), value: JSON.stringify(SyncRecordSchema.parse(record)) }], true);
  }

  /** Every scene's sync record, in key order, read in pages (src/follow/ looks for the scenes that used a deleted tag). */
  async *syncRecordEntries(pageSize = 1_000): AsyncGenerator<[string, SyncRecord]> {
    this.usable();
    const r = K.range('rec');
    let gt: string | undefined;
    for (;;) {
      const page = await this.db.iterator({ ...(gt ? { gt } : { gte: r.gte }), lt: r.lt, limit: pageSize }).all();
      for (const [key, raw] of page) {
        const parsed = SyncRecordSchema.safeParse(safeJson(raw));
        if (parsed.success) yield [key.slice(r.gte.length), parsed.data];
      }
      if (page.length < pageSize) return;
      gt = page[page.length - 1]![0];
    }
  }

  /** The latest completed-job record of a scene, while within the done TTL and cap. */
  lastDone(sceneId: string): LastDone | undefined {
    const part = this.doneByScene.get(sceneId);
    const record = part === undefined ? undefined : this.done.get(part);
    if (!record) return undefined;
    return { finishedAt: record.finishedAt, summary: record.summary, trigger: record.trigger, attempts: record.attempts };
  }

  /** Completed-job records, oldest first. */
  doneList(limit = Infinity): DoneRecord[] {
    const out: DoneRecord[] = [];
    for (const [, record] of this.done.entries()) {
      if (out.length >= limit) break;
      out.push({ ...record });
    }
    return out;
  }

  /** A value stored by another module (the breaker, the outage log). Unchecked: validate it with your schema. */
  async getMeta<T>(key: string): Promise<T | undefined> {
    this.usable();
    const raw = await this.db.get(K.metaKey(key));
    return raw === undefined ? undefined : (safeJson(raw) as T | undefined);
  }

  async putMeta(key: string, value: unknown): Promise<void> {
    this.usable();
    await this.write([{ type: 'put', key: K.metaKey(key), value: JSON.stringify(value) }], true);
  }

  // ---------------------------------------------------------------- inspection

  counts(): QueueCounts {
    return { ready: this.ready.size, delayed: this.delayed.size, active: this.active.size, dlq: this.dlq.size, done: this.done.size };
  }

  /** The waiting (ready or delayed) job created longest ago. */
  oldestWaiting(): OldestWaiting | undefined {
    let best: Job | undefined;
    for (const job of this.jobs.values()) {
      if (job.state === 'active') continue;
      if (!best || job.createdAt < best.createdAt) best = job;
    }
    return best && { jobId: best.id, sceneId: best.sceneId, state: best.state as 'ready' | 'delayed', since: best.createdAt };
  }

  /** The scene's current job (a copy), if any. */
  jobForScene(sceneId: string): Job | undefined {
    const id = this.byScene.get(sceneId);
    const job = id === undefined ? undefined : this.jobs.get(id);
    return job && structuredClone(job);
  }

  /** Every job (copies), ready ones in dispatch order first, then delayed by run time, then active. */
  listJobs(): Job[] {
    const out: Job[] = [];
    for (const [, id] of this.ready.entries()) out.push(structuredClone(this.mustJob(id)));
    for (const [, id] of this.delayed.entries()) out.push(structuredClone(this.mustJob(id)));
    for (const id of this.active) out.push(structuredClone(this.mustJob(id)));
    return out;
  }

  /** Compacts the queue ranges so deleted keys stop slowing reads (research §3.6). */
  async compact(): Promise<void> {
    if (this.broken) throw this.broken;
    this.deletions = 0;
    for (const p of ['ready', 'delayed', 'active', 'job', 'scene', 'done', 'dlq', 'seen'] as const) {
      const r = K.range(p);
      await this.db.compactRange(r.gte, r.lt);
    }
  }

  /** The first ready key read from LevelDB itself (not the in-memory index); for benchmarks and checks. */
  async firstReadyKeyOnDisk(): Promise<string | undefined> {
    this.usable();
    const r = K.range('ready');
    const keys = await this.db.keys({ gte: r.gte, lt: r.lt, limit: 1 }).all();
    return keys[0];
  }

  // ---------------------------------------------------------------- internals

  private applyEnqueue(req: EnqueueRequest, now: number, ops: Op[], summary: EnqueueSummary): void {
    const runAt = clampTime(req.runAt ?? now);
    const force = req.force ?? false;
    const existingId = this.byScene.get(req.sceneId);
    const existing = existingId === undefined ? undefined : this.jobs.get(existingId);
    if (existing) {
      if (existing.state === 'active') {
        const prev = existing.rerun;
        existing.rerun = {
          priority: prev ? minPriority(prev.priority, req.priority) : req.priority,
          trigger: req.trigger,
          force: (prev?.force ?? false) || force,
        };
        delete existing.removed;
        summary.rerun++;
      } else {
        const priority = minPriority(existing.priority, req.priority);
        existing.trigger = req.trigger;
        existing.force = existing.force || force;
        // A job waiting out a failure or an open breaker keeps its time; a merely scheduled one runs at the earlier time.
        const failed = existing.attempts > 0 || existing.deferredReason !== undefined || existing.crashCount > 0;
        if (existing.state === 'ready') {
          if (priority !== existing.priority) {
            this.unplace(existing, ops);
            existing.priority = priority;
            this.placeReady(existing, now, ops);
          }
        } else if (!failed && runAt < existing.nextRunAt) {
          this.unplace(existing, ops);
          existing.priority = priority;
          if (runAt <= now) this.placeReady(existing, now, ops);
          else this.placeDelayed(existing, runAt, ops);
        } else {
          existing.priority = priority;
        }
        summary.updated++;
      }
      existing.updatedAt = now;
      this.putJob(existing, ops);
      return;
    }
    const dlqPart = this.dlqByScene.get(req.sceneId);
    if (dlqPart !== undefined) {
      this.deleteDlq(dlqPart, req.sceneId, ops);
      summary.revived++;
    }
    const seq = this.nextSeq();
    const job: Job = {
      id: K.jobIdOf(seq),
      sceneId: req.sceneId,
      priority: req.priority,
      trigger: req.trigger,
      force,
      attempts: 0,
      crashCount: 0,
      nextRunAt: runAt,
      createdAt: now,
      updatedAt: now,
      state: 'ready',
      seq,
    };
    this.jobs.set(job.id, job);
    this.byScene.set(job.sceneId, job.id);
    ops.push({ type: 'put', key: K.sceneKey(job.sceneId), value: job.id });
    if (runAt <= now) this.placeReady(job, now, ops, seq);
    else this.placeDelayed(job, runAt, ops, seq);
    this.putJob(job, ops);
    summary.created++;
  }

  private applyRemove(sceneId: string, ops: Op[], summary: EnqueueSummary): void {
    const id = this.byScene.get(sceneId);
    const job = id === undefined ? undefined : this.jobs.get(id);
    if (job?.state === 'active') {
      job.removed = true;
      delete job.rerun;
      this.putJob(job, ops);
    } else if (job) {
      this.dropJob(job, ops);
    }
    const dlqPart = this.dlqByScene.get(sceneId);
    if (dlqPart !== undefined) this.deleteDlq(dlqPart, sceneId, ops);
    ops.push({ type: 'del', key: K.recKey(sceneId) });
    summary.removed++;
  }

  /** After a run (retry, defer, release, crash): fold in a pending rerun, then wait until `at` (or ready at its old place). */
  private requeueAfterRun(job: Job, now: number, at: number | undefined, ops: Op[]): void {
    this.unplace(job, ops);
    if (job.removed) {
      this.dropJob(job, ops);
      return;
    }
    if (job.rerun) {
      job.priority = minPriority(job.priority, job.rerun.priority);
      job.trigger = job.rerun.trigger;
      job.force = job.force || job.rerun.force;
      delete job.rerun;
    }
    job.updatedAt = now;
    if (at === undefined) this.placeReady(job, now, ops, job.seq);
    else this.placeDelayed(job, clampTime(at), ops);
    this.putJob(job, ops);
  }

  private deadLetterJob(job: Job, error: ErrorInfo, attempts: number, now: number, ops: Op[]): void {
    this.unplace(job, ops);
    if (job.removed) {
      this.dropJob(job, ops);
      return;
    }
    if (job.rerun) {
      const rerun = job.rerun;
      Object.assign(job, { priority: rerun.priority, trigger: rerun.trigger, force: rerun.force, attempts: 0, crashCount: 0 });
      job.createdAt = now;
      job.updatedAt = now;
      job.lastError = { class: error.class, message: error.message };
      delete job.rerun;
      delete job.firstFailureAt;
      delete job.deferredReason;
      this.placeReady(job, now, ops);
      this.putJob(job, ops);
      return;
    }
    const entry: DlqEntry = {
      sceneId: job.sceneId,
      jobId: job.id,
      errorClass: error.class,
      message: error.message,
      attempts,
      crashCount: job.crashCount,
      priority: job.priority,
      trigger: job.trigger,
      force: job.force,
      createdAt: job.createdAt,
      failedAt: now,
      ...(job.firstFailureAt !== undefined ? { firstFailureAt: job.firstFailureAt } : {}),
    };
    this.dropJob(job, ops);
    const part = K.timedPart(now, this.nextSeq());
    this.dlq.insert(part, entry);
    this.dlqByScene.set(entry.sceneId, part);
    ops.push({ type: 'put', key: K.dlqKey(part), value: JSON.stringify(entry) });
  }

  private selectDlq(filter: DlqFilter): [string, DlqEntry][] {
    const limit = filter.limit ?? Infinity;
    const out: [string, DlqEntry][] = [];
    if (limit <= 0) return out;
    const scenes = filter.sceneIds ? new Set(filter.sceneIds) : undefined;
    for (const [part, entry] of this.dlq.entries()) {
      if (filter.errorClass !== undefined && entry.errorClass !== filter.errorClass) continue;
      if (scenes && !scenes.has(entry.sceneId)) continue;
      out.push([part, entry]);
      if (out.length >= limit) break;
    }
    return out;
  }

  private purgeDlqOps(opts: { olderThanMs: number; maxEntries: number }, now: number, ops: Op[]): number {
    let n = 0;
    const cutoff = now - opts.olderThanMs;
    for (let head = this.dlq.first(); head; head = this.dlq.first()) {
      const [part, entry] = head;
      if (entry.failedAt >= cutoff && this.dlq.size <= opts.maxEntries) break;
      this.deleteDlq(part, entry.sceneId, ops);
      n++;
    }
    return n;
  }

  private deleteDlq(part: string, sceneId: string, ops: Op[]): void {
    this.dlq.delete(part);
    if (this.dlqByScene.get(sceneId) === part) this.dlqByScene.delete(sceneId);
    ops.push({ type: 'del', key: K.dlqKey(part) });
  }

  private sweepDone(now: number, ops: Op[]): void {
    const cutoff = now - this.opts.doneTtlMs;
    for (let head = this.done.first(); head; head = this.done.first()) {
      const [part, record] = head;
      if (record.finishedAt >= cutoff && this.done.size <= this.opts.doneMaxEntries) break;
      this.done.delete(part);
      if (this.doneByScene.get(record.sceneId) === part) this.doneByScene.delete(record.sceneId);
      ops.push({ type: 'del', key: K.doneKey(part) });
    }
  }

  private promoteDue(now: number, ops: Op[]): void {
    for (;;) {
      const head = this.delayed.first();
      if (!head || K.decodePart(head[0])[0] > now) return;
      const job = this.mustJob(head[1]);
      this.unplace(job, ops);
      this.placeReady(job, now, ops);
      this.putJob(job, ops);
    }
  }

  private placeReady(job: Job, now: number, ops: Op[], seq: number = this.nextSeq()): void {
    job.state = 'ready';
    job.seq = seq;
    job.nextRunAt = Math.min(job.nextRunAt, now);
    const part = K.readyPart(job.priority, seq);
    this.ready.insert(part, job.id);
    ops.push({ type: 'put', key: K.readyKey(part), value: job.id });
  }

  private placeDelayed(job: Job, at: number, ops: Op[], seq: number = this.nextSeq()): void {
    job.state = 'delayed';
    job.seq = seq;
    job.nextRunAt = at;
    const part = K.timedPart(at, seq);
    this.delayed.insert(part, job.id);
    ops.push({ type: 'put', key: K.delayedKey(part), value: job.id });
  }

  /** Takes a job out of whichever index holds it. */
  private unplace(job: Job, ops: Op[]): void {
    if (job.state === 'ready') {
      const part = K.readyPart(job.priority, job.seq);
      if (this.ready.delete(part)) ops.push({ type: 'del', key: K.readyKey(part) });
    } else if (job.state === 'delayed') {
      const part = K.timedPart(job.nextRunAt, job.seq);
      if (this.delayed.delete(part)) ops.push({ type: 'del', key: K.delayedKey(part) });
    } else if (this.active.delete(job.id)) {
      ops.push({ type: 'del', key: K.activeKey(job.id) });
    }
  }

  private dropJob(job: Job, ops: Op[]): void {
    this.unplace(job, ops);
    this.jobs.delete(job.id);
    if (this.byScene.get(job.sceneId) === job.id) this.byScene.delete(job.sceneId);
    ops.push({ type: 'del', key: K.jobKey(job.id) }, { type: 'del', key: K.sceneKey(job.sceneId) });
  }

  private putJob(job: Job, ops: Op[]): void {
    ops.push({ type: 'put', key: K.jobKey(job.id), value: JSON.stringify(job) });
  }

  private nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }

  private mustJob(id: string): Job {
    const job = this.jobs.get(id);
    if (!job) throw new Error(`queue index points at missing job ${id}; reopen the store to rebuild its indexes`);
    return job;
  }

  private mustActive(ref: JobRef, wanted: string): Job {
    this.usable();
    const job = this.jobs.get(ref.id);
    if (!job) throw new JobStateError(ref.id, wanted, 'unknown');
    if (job.state !== 'active') throw new JobStateError(ref.id, wanted, job.state);
    return job;
  }

  private usable(): void {
    if (this.broken) throw this.broken;
    if (this.closed) throw new Error(`the queue store at ${this.dir} is closed`);
  }

  /**
   * Group commit: transitions requested while a batch is being written are merged, in call order, into
   * the next batch, so concurrent completions share one fsync. Each transition stays atomic (it lies
   * wholly inside one batch); the merged batch is synced if any of its parts asked for it.
   */
  private write(ops: Op[], sync: boolean): Promise<void> {
    if (this.seq !== this.seqWritten) {
      ops.push({ type: 'put', key: K.SEQ_KEY, value: String(this.seq) });
      this.seqWritten = this.seq;
    }
    if (ops.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const group = (this.pendingGroup ??= { ops: [], sync: false, waiters: [] });
      for (const op of ops) group.ops.push(op);
      group.sync ||= sync;
      group.waiters.push({ resolve, reject });
      if (!this.flushing) this.flushing = this.flushGroups();
    });
  }

  private async flushGroups(): Promise<void> {
    while (this.pendingGroup) {
      const group = this.pendingGroup;
      this.pendingGroup = undefined;
      try {
        if (this.broken) throw this.broken;
        await this.db.batch(group.ops, { sync: group.sync });
        for (const op of group.ops) if (op.type === 'del') this.deletions++;
        if (this.deletions >= this.opts.compactEvery) await this.compact();
        for (const w of group.waiters) w.resolve();
      } catch (err) {
        this.broken ??= err instanceof StoreBrokenError ? err : new StoreBrokenError(this.dir, err);
        for (const w of group.waiters) w.reject(this.broken);
      }
    }
    this.flushing = undefined;
  }

  /** One scan rebuilds the in-memory indexes (about 0.2 s per 100k keys, research §3.6). */
  private async load(): Promise<void> {
    const seqRaw = await this.db.get(K.SEQ_KEY);
    let maxSeq = seqRaw === undefined ? 0 : Number(seqRaw) || 0;
    for await (const [key, value] of this.db.iterator(K.range('job'))) {
      const parsed = JobSchema.safeParse(safeJson(value));
      if (!parsed.success) {
        this.loadProblems.push(`${key}: not a valid job record (${parsed.error.issues[0]?.message ?? 'unreadable'}); left in place`);
        continue;
      }
      const job = parsed.data;
      this.jobs.set(job.id, job);
      this.byScene.set(job.sceneId, job.id);
      maxSeq = Math.max(maxSeq, job.seq, K.unhex(job.id));
      if (job.state === 'ready') this.ready.insert(K.readyPart(job.priority, job.seq), job.id);
      else if (job.state === 'delayed') this.delayed.insert(K.timedPart(job.nextRunAt, job.seq), job.id);
      else this.active.add(job.id);
    }
    for await (const [key, value] of this.db.iterator(K.range('dlq'))) {
      const parsed = DlqEntrySchema.safeParse(safeJson(value));
      if (!parsed.success) {
        this.loadProblems.push(`${key}: not a valid DLQ entry; left in place`);
        continue;
      }
      const part = key.slice(K.prefix('dlq').length);
      this.dlq.insert(part, parsed.data);
      this.dlqByScene.set(parsed.data.sceneId, part);
      maxSeq = Math.max(maxSeq, K.decodePart(part)[1]);
    }
    for await (const [key, value] of this.db.iterator(K.range('done'))) {
      const parsed = DoneRecordSchema.safeParse(safeJson(value));
      if (!parsed.success) {
        this.loadProblems.push(`${key}: not a valid done record; left in place`);
        continue;
      }
      const part = key.slice(K.prefix('done').length);
      this.done.insert(part, parsed.data);
      this.doneByScene.set(parsed.data.sceneId, part);
      maxSeq = Math.max(maxSeq, K.decodePart(part)[1]);
    }
    this.seq = maxSeq;
    this.seqWritten = maxSeq;
  }

  /**
   * Jobs found active belong to a dead worker: the lock is exclusive and released by the kernel, so no
   * lease is needed (research §6.1). Each goes back to its place in the ready order, or to the DLQ as
   * poison once it has been in flight during maxCrashes crashes.
   */
  private async recover(): Promise<void> {
    if (this.active.size === 0) return;
    const now = this.now();
    const ops: Op[] = [];
    for (const id of [...this.active]) {
      const job = this.mustJob(id);
      job.crashCount += 1;
      if (job.crashCount >= this.opts.maxCrashes) {
        const message = `the worker crashed ${job.crashCount} times while syncing scene ${job.sceneId}; check the log for the cause, then redrive it`;
        // A pending rerun would only crash the worker again: the scene waits in the DLQ for a redrive.
        delete job.rerun;
        this.deadLetterJob(job, { class: POISON, message }, job.attempts, now, ops);
      } else {
        this.requeueAfterRun(job, now, undefined, ops);
      }
    }
    this.purgeDlqOps({ olderThanMs: this.opts.dlqMaxAgeMs, maxEntries: this.opts.dlqMaxEntries }, now, ops);
    await this.write(ops, true);
  }
}

function minPriority(a: Priority, b: Priority): Priority {
  return a < b ? a : b;
}

function clampTime(ms: number): number {
  if (!Number.isFinite(ms)) throw new RangeError(`run time ${ms} is not a number of milliseconds`);
  return Math.min(Math.max(0, Math.floor(ms)), MAX_TIME);
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
