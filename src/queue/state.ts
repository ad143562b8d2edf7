import { JobStateError } from './errors';
import * as K from './keys';
import { SortedIndex } from './sortedIndex';
import type { DlqEntry, DoneRecord, ErrorInfo, Job, Priority, Rerun } from './types';

/** One LevelDB write of a transition; the store commits a transition's writes as one atomic batch. */
export type Op = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

/**
 * What a transition did: the writes that make it durable, whether they must be fsynced before the
 * caller goes on (anything that could lose an event is), and its answer.
 */
export interface Transition<R = void> {
  ops: Op[];
  sync: boolean;
  result: R;
}

/** The limits the transitions apply (the store fills in the defaults). */
export interface QueueLimits {
  /** Crashes while in flight before a job is dead-lettered as poison. */
  maxCrashes: number;
  doneTtlMs: number;
  doneMaxEntries: number;
  /** Undefined until the settings are known: nothing is purged by age before. */
  dlqMaxAgeMs: number | undefined;
  dlqMaxEntries: number;
}

const MAX_TIME = 0xffff_ffff_ffff;

/**
 * The queue in memory: every job and the ordered indexes that mirror the LevelDB keys (the worker is
 * the single writer, so memory and disk agree after each committed batch). The transitions in
 * `transitions/` change it through the placement steps below, each of which also returns its write.
 */
export class QueueState {
  readonly jobs = new Map<string, Job>();
  readonly byScene = new Map<string, string>();
  readonly ready = new SortedIndex<string>();
  readonly delayed = new SortedIndex<string>();
  readonly active = new Set<string>();
  readonly dlq = new SortedIndex<DlqEntry>();
  readonly dlqByScene = new Map<string, string>();
  readonly done = new SortedIndex<DoneRecord>();
  readonly doneByScene = new Map<string, string>();
  seq = 0;

  constructor(readonly limits: QueueLimits) {}

  nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }

  mustJob(id: string): Job {
    const job = this.jobs.get(id);
    if (!job) throw new Error(`queue index points at missing job ${id}; reopen the store to rebuild its indexes`);
    return job;
  }

  /** The job a transition of an active job is about: it must exist and be active. */
  mustActive(ref: Pick<Job, 'id'>, wanted: string): Job {
    const job = this.jobs.get(ref.id);
    if (!job) throw new JobStateError(ref.id, wanted, 'unknown');
    if (job.state !== 'active') throw new JobStateError(ref.id, wanted, job.state);
    return job;
  }

  placeReady(job: Job, now: number, ops: Op[], seq: number = this.nextSeq()): void {
    job.state = 'ready';
    job.seq = seq;
    job.nextRunAt = Math.min(job.nextRunAt, now);
    const part = K.readyPart(job.priority, seq);
    this.ready.insert(part, job.id);
    ops.push({ type: 'put', key: K.readyKey(part), value: job.id });
  }

  placeDelayed(job: Job, at: number, ops: Op[], seq: number = this.nextSeq()): void {
    job.state = 'delayed';
    job.seq = seq;
    job.nextRunAt = at;
    const part = K.timedPart(at, seq);
    this.delayed.insert(part, job.id);
    ops.push({ type: 'put', key: K.delayedKey(part), value: job.id });
  }

  placeActive(job: Job, now: number, ops: Op[]): void {
    job.state = 'active';
    job.updatedAt = now;
    this.active.add(job.id);
    ops.push({ type: 'put', key: K.activeKey(job.id), value: String(now) });
  }

  /** Takes a job out of whichever index holds it. */
  unplace(job: Job, ops: Op[]): void {
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

  /** A new job record and its scene pointer (the caller places it). */
  addJob(job: Job, ops: Op[]): void {
    this.jobs.set(job.id, job);
    this.byScene.set(job.sceneId, job.id);
    ops.push({ type: 'put', key: K.sceneKey(job.sceneId), value: job.id });
  }

  dropJob(job: Job, ops: Op[]): void {
    this.unplace(job, ops);
    this.jobs.delete(job.id);
    if (this.byScene.get(job.sceneId) === job.id) this.byScene.delete(job.sceneId);
    ops.push({ type: 'del', key: K.jobKey(job.id) }, { type: 'del', key: K.sceneKey(job.sceneId) });
  }

  putJob(job: Job, ops: Op[]): void {
    ops.push({ type: 'put', key: K.jobKey(job.id), value: JSON.stringify(job) });
  }

  /**
   * The job starts over as a fresh run of its pending rerun (attempts 0, ready now): after a
   * completion, and instead of a dead-letter when an event arrived while it ran. `lastError` is the
   * failure it replaces, if any.
   */
  startFreshRun(job: Job, rerun: Rerun, now: number, ops: Op[], lastError?: ErrorInfo): void {
    Object.assign(job, { priority: rerun.priority, trigger: rerun.trigger, force: rerun.force, attempts: 0, crashCount: 0 });
    job.createdAt = now;
    job.updatedAt = now;
    delete job.rerun;
    delete job.firstFailureAt;
    delete job.deferredReason;
    if (lastError) job.lastError = { class: lastError.class, message: lastError.message };
    else delete job.lastError;
    this.placeReady(job, now, ops);
    this.putJob(job, ops);
  }

  /**
   * After a run that did not finish (retry, defer, release, crash): fold in a pending rerun, then wait
   * until `at`, or, without `at`, go back to the job's old place in the ready order.
   */
  requeueAfterRun(job: Job, now: number, at: number | undefined, ops: Op[]): void {
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

  insertDlq(entry: DlqEntry, now: number, ops: Op[]): void {
    const part = K.timedPart(now, this.nextSeq());
    this.dlq.insert(part, entry);
    this.dlqByScene.set(entry.sceneId, part);
    ops.push({ type: 'put', key: K.dlqKey(part), value: JSON.stringify(entry) });
  }

  deleteDlq(part: string, sceneId: string, ops: Op[]): void {
    this.dlq.delete(part);
    if (this.dlqByScene.get(sceneId) === part) this.dlqByScene.delete(sceneId);
    ops.push({ type: 'del', key: K.dlqKey(part) });
  }

  insertDone(record: DoneRecord, now: number, ops: Op[]): void {
    const part = K.timedPart(now, this.nextSeq());
    this.done.insert(part, record);
    this.doneByScene.set(record.sceneId, part);
    ops.push({ type: 'put', key: K.doneKey(part), value: JSON.stringify(record) });
  }

  deleteDone(part: string, sceneId: string, ops: Op[]): void {
    this.done.delete(part);
    if (this.doneByScene.get(sceneId) === part) this.doneByScene.delete(sceneId);
    ops.push({ type: 'del', key: K.doneKey(part) });
  }
}

export function minPriority(a: Priority, b: Priority): Priority {
  return a < b ? a : b;
}

/** A run time as a whole number of ms that fits the keys' 12 hex digits. */
export function clampTime(ms: number): number {
  if (!Number.isFinite(ms)) throw new RangeError(`run time ${ms} is not a number of milliseconds`);
  return Math.min(Math.max(0, Math.floor(ms)), MAX_TIME);
}
