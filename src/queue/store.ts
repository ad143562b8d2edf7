import { promises as fsp } from 'node:fs';
import type { ClassicLevel } from 'classic-level';
import { loadClassicLevel } from '../native';
import { StoreBrokenError, StoreLockedError } from './errors';
import * as K from './keys';
import { MetaStore } from './meta';
import { safeJson, SyncRecords, type StoreIo } from './records';
import { SeenMarkers } from './seen';
import { QueueState, type Op, type Transition } from './state';
import { clearDlq, clearQueue, removeDlq } from './transitions/clear';
import { complete } from './transitions/complete';
import { deadLetter } from './transitions/dead-letter';
import { enqueue } from './transitions/enqueue';
import { promoteAll } from './transitions/promote';
import { purgeDlq, selectDlq } from './transitions/purge';
import { recover } from './transitions/recover';
import { redrive } from './transitions/redrive';
import { release } from './transitions/release';
import { defer, retry } from './transitions/retry';
import { take } from './transitions/take';
import {
  DlqEntrySchema,
  DoneRecordSchema,
  JobSchema,
  SyncRecordSchema,
  type DlqEntry,
  type DlqFilter,
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
  /**
   * DLQ entries older than this are purged on each dead-letter and recovery. It comes from the
   * `dlq_retention_days` setting (see setDlqRetention); until the worker has read the settings it is
   * unknown, and nothing is purged by age, so a user who keeps entries longer than the default never
   * loses one to a worker that has not yet asked Stash.
   */
  dlqMaxAgeMs?: number;
  /** The DLQ keeps at most this many entries (oldest purged first). Defaults to DLQ_MAX_ENTRIES, the documented cap. */
  dlqMaxEntries?: number;
  /** Ingest markers older than this are swept; longer than the inbox tmp GC age. Defaults to 7 days. */
  seenTtlMs?: number;
  /** Compact the queue ranges after this many deleted keys (tombstones slow the head, research §3.6). Defaults to 10,000. */
  compactEvery?: number;
  /** The clock; tests pass their own. */
  now?: () => number;
}

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
/** The documented cap on DLQ entries (README, "DLQ retention"); the oldest go first beyond it. */
export const DLQ_MAX_ENTRIES = 10_000;

/**
 * The durable queue: one LevelDB store owned by one worker (opening it is the election). This file
 * opens it, loads the in-memory indexes (QueueState) with one scan, and commits. What each move of a
 * job does is in `transitions/`, one file per move; each changes the state in memory and returns its
 * writes, which are committed here as one atomic batch. A scene is in at most one of: a job, the DLQ.
 *
 *   enqueue ─▶ ready ─take─▶ active ─complete─▶ (done record; a fresh run if an event came meanwhile)
 *               ▲  ▲             ├─retry / defer─▶ delayed ─(due, take)─▶ ready
 *               │  └─release─────┤
 *               │                └─dead-letter─▶ DLQ ─redrive─▶ ready
 *               └─recover (at open: jobs a dead worker left active; poison after 3 crashes → DLQ)
 *
 * Done records: 24 h / 1,000 by default, swept on each completion. DLQ: the retention the settings give
 * (setDlqRetention) and at most 10,000 entries, trimmed on each dead-letter and recovery.
 */
export class QueueStore {
  /** The queue in memory. Read it freely; only the transitions change it. */
  readonly state: QueueState;
  /** Per-scene sync records. */
  readonly records: SyncRecords;
  /** The breaker's and the auth pause's persisted state. */
  readonly meta: MetaStore;
  /** Which inbox files were already ingested. */
  readonly seen: SeenMarkers;
  /** Records that failed validation at open, one line each (they are left in place, untouched). */
  readonly loadProblems: string[] = [];
  private seqWritten = 0;
  private deletions = 0;
  private broken: StoreBrokenError | undefined;
  private pendingGroup: { ops: Op[]; sync: boolean; waiters: { resolve: () => void; reject: (err: unknown) => void }[] } | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;
  private readonly compactEvery: number;
  private readonly now: () => number;

  private constructor(
    private readonly db: Db,
    readonly dir: string,
    opts: QueueStoreOptions,
  ) {
    this.state = new QueueState({
      maxCrashes: opts.maxCrashes ?? 3,
      doneTtlMs: opts.doneTtlMs ?? DAY,
      doneMaxEntries: opts.doneMaxEntries ?? 1000,
      dlqMaxAgeMs: opts.dlqMaxAgeMs,
      dlqMaxEntries: opts.dlqMaxEntries ?? DLQ_MAX_ENTRIES,
    });
    this.compactEvery = opts.compactEvery ?? 10_000;
    this.now = opts.now ?? Date.now;
    const io: StoreIo = {
      get: (key) => this.db.get(key),
      getMany: (keys) => this.db.getMany(keys),
      keys: (range) => this.db.keys(range),
      commit: (ops, sync) => this.commit(ops, sync),
      usable: () => this.usable(),
    };
    this.records = new SyncRecords(io);
    this.meta = new MetaStore(io);
    this.seen = new SeenMarkers(io, opts.seenTtlMs ?? 7 * DAY, this.now);
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
      await store.run(() => recover(store.state, store.now()));
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

  // ---------------------------------------------------------------- transitions (one file each in transitions/)

  /** Adds or updates one job per scene (latest wins) and records the inbox files as ingested, in one synced batch. */
  enqueue(requests: EnqueueRequest[], ingestedIds: string[] = []): Promise<EnqueueSummary> {
    return this.applyEvents(requests.map((request) => ({ kind: 'enqueue', request })), ingestedIds);
  }

  /** A destroyed scene: drops its waiting job, sync record and DLQ entry; an active job is dropped when it finishes. */
  async removeScene(sceneId: string): Promise<void> {
    await this.applyEvents([{ kind: 'remove', sceneId }], []);
  }

  /** Enqueues and removals in arrival order, plus the ingest markers, in one synced batch. */
  applyEvents(events: SceneEvent[], ingestedIds: string[]): Promise<EnqueueSummary> {
    return this.run(() => enqueue(this.live(), events, ingestedIds, this.now()));
  }

  take(limit: number, now: number = this.now()): Promise<Job[]> {
    return this.run(() => take(this.live(), limit, now));
  }

  /** Process Queue: jobs waiting for their retry time become ready now; returns how many. */
  promoteAll(): Promise<number> {
    return this.run(() => promoteAll(this.live(), this.now()));
  }

  complete(ref: JobRef, outcome: { summary: string; record?: SyncRecord }): Promise<void> {
    return this.run(() => complete(this.live(), ref, outcome, this.now()));
  }

  retry(ref: JobRef, at: number, error: ErrorInfo): Promise<void> {
    return this.run(() => retry(this.live(), ref, at, error, this.now()));
  }

  defer(ref: JobRef, at: number, reason: string): Promise<void> {
    return this.run(() => defer(this.live(), ref, at, reason, this.now()));
  }

  release(ref: JobRef): Promise<void> {
    return this.run(() => release(this.live(), ref, this.now()));
  }

  deadLetter(ref: JobRef, error: ErrorInfo): Promise<void> {
    return this.run(() => deadLetter(this.live(), ref, error, this.now()));
  }

  redrive(filter: DlqFilter & { priority?: Priority } = {}): Promise<number> {
    return this.run(() => redrive(this.live(), filter, this.now()));
  }

  purgeDlq(opts: { olderThanMs?: number; maxEntries?: number } = {}): Promise<number> {
    return this.run(() => purgeDlq(this.live(), opts, this.now()));
  }

  clearDlq(): Promise<number> {
    return this.run(() => clearDlq(this.live()));
  }

  clearQueue(): Promise<number> {
    return this.run(() => clearQueue(this.live()));
  }

  /** Deletes these scenes' DLQ entries without retrying them; returns how many. */
  removeDlq(sceneIds: readonly string[]): Promise<number> {
    return this.run(() => removeDlq(this.live(), sceneIds));
  }

  /** The DLQ retention from the settings (`dlq_retention_days`); every later trim uses it. */
  setDlqRetention(maxAgeMs: number): void {
    if (!(maxAgeMs > 0)) throw new RangeError(`DLQ retention ${maxAgeMs} ms is not a positive duration`);
    this.state.limits.dlqMaxAgeMs = maxAgeMs;
  }

  /** The retention trims use now (undefined: not known yet, nothing is purged by age). */
  dlqRetentionMs(): number | undefined {
    return this.state.limits.dlqMaxAgeMs;
  }

  /**
   * A key space of its own in this LevelDB (`!<name>!…`, apart from every queue range), for a module
   * that keeps durable records beside the queue — the plays journal (src/plays/journal.ts).
   */
  sublevel(name: string) {
    this.usable();
    return this.db.sublevel<string, string>(name, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  }

  // ---------------------------------------------------------------- inspection

  counts(): QueueCounts {
    const q = this.state;
    return { ready: q.ready.size, delayed: q.delayed.size, active: q.active.size, dlq: q.dlq.size, done: q.done.size };
  }

  /** The earliest run time among delayed jobs, for the worker's sleep. */
  nextDueAt(): number | undefined {
    const head = this.state.delayed.first();
    return head ? K.decodePart(head[0])[0] : undefined;
  }

  /** DLQ entries, oldest first. */
  dlqList(filter: DlqFilter = {}): DlqEntry[] {
    return selectDlq(this.state, filter).map(([, entry]) => ({ ...entry }));
  }

  dlqCountByClass(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const [, entry] of this.state.dlq.entries()) counts[entry.errorClass] = (counts[entry.errorClass] ?? 0) + 1;
    return counts;
  }

  /** The waiting (ready or delayed) job created longest ago. */
  oldestWaiting(): OldestWaiting | undefined {
    let best: Job | undefined;
    for (const job of this.state.jobs.values()) {
      if (job.state === 'active') continue;
      if (!best || job.createdAt < best.createdAt) best = job;
    }
    return best && { jobId: best.id, sceneId: best.sceneId, state: best.state as 'ready' | 'delayed', since: best.createdAt };
  }

  /** The scene's current job (a copy), if any. */
  jobForScene(sceneId: string): Job | undefined {
    const id = this.state.byScene.get(sceneId);
    const job = id === undefined ? undefined : this.state.jobs.get(id);
    return job && structuredClone(job);
  }

  /** The latest completed-job record of a scene, while within the done TTL and cap. */
  lastDone(sceneId: string): LastDone | undefined {
    const part = this.state.doneByScene.get(sceneId);
    const record = part === undefined ? undefined : this.state.done.get(part);
    if (!record) return undefined;
    return { finishedAt: record.finishedAt, summary: record.summary, trigger: record.trigger, attempts: record.attempts };
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

  // ---------------------------------------------------------------- earlier names

  /** @deprecated use `records.getOne`: kept while other branches still call it. */
  getSyncRecord(sceneId: string): Promise<SyncRecord | undefined> {
    return this.records.getOne(sceneId);
  }

  /** @deprecated use `records.get`: kept while other branches still call it. */
  /** Every scene's sync record, in key order, read in pages (src/follow/ looks for the scenes that used a deleted tag). */
  async *syncRecordEntries(pageSize = 1_000): AsyncGenerator<[string, SyncRecord]> {
    const r = K.range('rec');
    let gt: string | undefined;
    for (;;) {
      this.usable();
      const page = await this.db.iterator({ ...(gt ? { gt } : { gte: r.gte }), lt: r.lt, limit: pageSize }).all();
      for (const [key, raw] of page) {
        const parsed = SyncRecordSchema.safeParse(safeJson(raw));
        if (parsed.success) yield [key.slice(r.gte.length), parsed.data];
      }
      if (page.length < pageSize) return;
      gt = page[page.length - 1]![0];
    }
  }

  getSyncRecords(sceneIds: readonly string[]): Promise<(SyncRecord | undefined)[]> {
    return this.records.get(sceneIds);
  }

  /** @deprecated use `meta.get`: kept while other branches still call it. */
  async getMeta<T>(key: string): Promise<T | undefined> {
    return (await this.meta.get(key)) as T | undefined;
  }

  /** @deprecated use `meta.put`: kept while other branches still call it. */
  putMeta(key: string, value: unknown): Promise<void> {
    return this.meta.put(key, value);
  }

  // ---------------------------------------------------------------- commit

  /** The state, once the store is known to be usable. */
  private live(): QueueState {
    this.usable();
    return this.state;
  }

  /** Runs a transition and commits its writes; a refused transition rejects, like a failed write. */
  private run<R>(transition: () => Transition<R>): Promise<R> {
    let t: Transition<R>;
    try {
      t = transition();
    } catch (err) {
      return Promise.reject(err);
    }
    // Resolved with the result by the commit itself: no extra promise per transition on the hot path.
    return this.commit(t.ops, t.sync, t.result);
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
  private commit<R = void>(ops: Op[], sync: boolean, result?: R): Promise<R> {
    if (this.state.seq !== this.seqWritten) {
      ops.push({ type: 'put', key: K.SEQ_KEY, value: String(this.state.seq) });
      this.seqWritten = this.state.seq;
    }
    if (ops.length === 0) return Promise.resolve(result as R);
    return new Promise<R>((resolve, reject) => {
      const group = (this.pendingGroup ??= { ops: [], sync: false, waiters: [] });
      for (const op of ops) group.ops.push(op);
      group.sync ||= sync;
      group.waiters.push({ resolve: () => resolve(result as R), reject });
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
        if (this.deletions >= this.compactEvery) await this.compact();
        for (const w of group.waiters) w.resolve();
      } catch (err) {
        this.broken ??= err instanceof StoreBrokenError ? err : new StoreBrokenError(this.dir, err);
        for (const w of group.waiters) w.reject(this.broken);
      }
    }
    this.flushing = undefined;
  }

  // ---------------------------------------------------------------- load

  /** One scan rebuilds the in-memory indexes (about 0.2 s per 100k keys, research §3.6). */
  private async load(): Promise<void> {
    const q = this.state;
    const seqRaw = await this.db.get(K.SEQ_KEY);
    let maxSeq = seqRaw === undefined ? 0 : Number(seqRaw) || 0;
    for await (const [key, value] of this.db.iterator(K.range('job'))) {
      const parsed = JobSchema.safeParse(safeJson(value));
      if (!parsed.success) {
        this.loadProblems.push(`${key}: not a valid job record (${parsed.error.issues[0]?.message ?? 'unreadable'}); left in place`);
        continue;
      }
      const job = parsed.data;
      q.jobs.set(job.id, job);
      q.byScene.set(job.sceneId, job.id);
      maxSeq = Math.max(maxSeq, job.seq, K.unhex(job.id));
      if (job.state === 'ready') q.ready.insert(K.readyPart(job.priority, job.seq), job.id);
      else if (job.state === 'delayed') q.delayed.insert(K.timedPart(job.nextRunAt, job.seq), job.id);
      else q.active.add(job.id);
    }
    for await (const [key, value] of this.db.iterator(K.range('dlq'))) {
      const parsed = DlqEntrySchema.safeParse(safeJson(value));
      if (!parsed.success) {
        this.loadProblems.push(`${key}: not a valid DLQ entry; left in place`);
        continue;
      }
      const part = key.slice(K.prefix('dlq').length);
      q.dlq.insert(part, parsed.data);
      q.dlqByScene.set(parsed.data.sceneId, part);
      maxSeq = Math.max(maxSeq, K.decodePart(part)[1]);
    }
    for await (const [key, value] of this.db.iterator(K.range('done'))) {
      const parsed = DoneRecordSchema.safeParse(safeJson(value));
      if (!parsed.success) {
        this.loadProblems.push(`${key}: not a valid done record; left in place`);
        continue;
      }
      const part = key.slice(K.prefix('done').length);
      q.done.insert(part, parsed.data);
      q.doneByScene.set(parsed.data.sceneId, part);
      maxSeq = Math.max(maxSeq, K.decodePart(part)[1]);
    }
    q.seq = maxSeq;
    this.seqWritten = maxSeq;
  }
}
