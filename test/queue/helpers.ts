import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import type { QueueStore } from '../../src/queue';
import { PRIORITY, type DoneRecord, type Job, type SyncRecord } from '../../src/queue/types';

/** A fresh temp directory, removed after the test. */
export function useTempDirs(): () => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'plexcourier-queue-'));
    dirs.push(dir);
    return dir;
  };
}

/** A clock the test moves by hand. */
export class Clock {
  constructor(public t = 1_800_000_000_000) {}
  now = (): number => this.t;
  advance(ms: number): number {
    this.t += ms;
    return this.t;
  }
}

/** Every job (copies): ready ones in dispatch order, then delayed by run time, then active. */
export function listJobs(store: QueueStore): Job[] {
  const q = store.state;
  const out: Job[] = [];
  for (const [, id] of q.ready.entries()) out.push(structuredClone(q.mustJob(id)));
  for (const [, id] of q.delayed.entries()) out.push(structuredClone(q.mustJob(id)));
  for (const id of q.active) out.push(structuredClone(q.mustJob(id)));
  return out;
}

/** Completed-job records, oldest first. */
export function doneList(store: QueueStore): DoneRecord[] {
  return [...store.state.done.entries()].map(([, record]) => ({ ...record }));
}

/** A scene's sync record as the worker leaves one: its job queued, taken and completed with the record. */
export async function putSyncRecord(store: QueueStore, sceneId: string, record: SyncRecord): Promise<void> {
  await store.enqueue([{ sceneId, priority: PRIORITY.bulk, trigger: 'test', runAt: 0 }]);
  for (const job of await store.take(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)) {
    if (job.sceneId === sceneId) await store.complete(job, { summary: 'synced (test)', record });
    else await store.release(job);
  }
}
