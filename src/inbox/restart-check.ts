import type { DataPaths } from '../paths';
import type { QueueStore } from '../queue/store';
import { PRIORITY } from '../queue/types';
import type { StashClient } from '../stash/graphql';
import { bootTimeMs, describeRestart, readLastEvent, writeLastEvent, type LastEventRecord } from './boot';
import type { IngestResult } from './ingest';

/** What the check needs from the worker: its log, and Stash once the worker knows where it is. */
interface Log {
  info(msg: string): void;
  warn(msg: string): void;
}
interface StashSource {
  /** Undefined until the worker knows where Stash is. */
  stash(): Pick<StashClient, 'sceneIdsPage'> | undefined;
}

/** Stash's updated_at has whole seconds, and our event names come from the launcher's clock. */
const MARGIN_MS = 5_000;
const PAGE = 1_000;
/** More than this many changed scenes are not worth listing one by one; they are all queued anyway. */
const MAX_PAGES = 100;
const RECORD_EVERY_MS = 2_000;
const RETRY_MS = 30_000;

/**
 * The worker's side of spool durability (src/inbox/boot.ts): remembers the newest event taken in, and on the
 * first run after a restart asks Stash which scenes changed between that event and the restart, queues them
 * and says whether events could have been lost. The record keeps the old boot id until the check has been
 * done, so a second crash before it does not skip it.
 */
export class RestartCheck {
  private pending: { lastEventAt: number; cutShort: number } | undefined;
  private dirty: boolean;
  private lastWrite = 0;
  private nextTry = 0;

  private constructor(
    private readonly store: QueueStore,
    private readonly paths: DataPaths,
    private readonly log: Log,
    private readonly bootId: string | undefined,
    private lastEventAt: number | undefined,
    previous: LastEventRecord | undefined,
  ) {
    const restarted = bootId !== undefined && previous !== undefined && previous.bootId !== bootId;
    if (restarted && previous.lastEventAt !== undefined) this.pending = { lastEventAt: previous.lastEventAt, cutShort: 0 };
    this.dirty = bootId !== undefined && (previous === undefined || previous.bootId !== bootId);
  }

  /** `bootId`: currentBootId(), undefined where there is none (then the check never runs). */
  static async start(store: QueueStore, paths: DataPaths, log: Log, bootId: string | undefined): Promise<RestartCheck> {
    const previous = bootId === undefined ? undefined : await readLastEvent(paths.inbox);
    return new RestartCheck(store, paths, log, bootId, previous?.lastEventAt, previous);
  }

  /** After each ingestion: counts files the restart cut short, notes the newest event, runs the check when Stash can answer. */
  async afterIngest(result: IngestResult, stash: StashSource, now = Date.now()): Promise<void> {
    if (this.bootId === undefined) return;
    if (this.pending) this.pending.cutShort += result.badFiles.filter((b) => b.reason.startsWith('incomplete')).length;
    if (result.newestEventAt !== undefined && (this.lastEventAt === undefined || result.newestEventAt > this.lastEventAt)) {
      this.lastEventAt = result.newestEventAt;
      this.dirty = true;
    }
    const client = this.pending && now >= this.nextTry ? stash.stash() : undefined;
    if (this.pending && client) {
      try {
        await this.check(this.pending, client, now);
        this.pending = undefined;
        this.dirty = true;
      } catch (err) {
        this.nextTry = now + RETRY_MS;
        this.log.info(`restart check: cannot ask Stash yet (${(err as Error).message}); trying again in ${RETRY_MS / 1000} s`);
      }
    }
    if (this.dirty && now - this.lastWrite >= RECORD_EVERY_MS) await this.flush(now);
  }

  /** Writes the record if it changed (never while the restart check is still owed). */
  async flush(now = Date.now()): Promise<void> {
    if (!this.dirty || this.pending || this.bootId === undefined) return;
    try {
      await writeLastEvent(this.paths.inbox, { bootId: this.bootId, ...(this.lastEventAt !== undefined ? { lastEventAt: this.lastEventAt } : {}) });
      this.dirty = false;
      this.lastWrite = now;
    } catch {
      // A full disk: the record stays as it was, which only widens the next check's window.
    }
  }

  private async check(pending: { lastEventAt: number; cutShort: number }, client: Pick<StashClient, 'sceneIdsPage'>, now: number): Promise<void> {
    const bootAt = bootTimeMs(now);
    const changed: string[] = [];
    for (let page = 1; page <= MAX_PAGES; page++) {
      const res = await client.sceneIdsPage({ page, perPage: PAGE, sort: 'updated_at', direction: 'ASC', updatedSince: new Date(pending.lastEventAt - MARGIN_MS) });
      let past = false;
      for (const s of res.scenes) {
        const at = Date.parse(s.updated_at);
        if (at > bootAt + MARGIN_MS) past = true;
        else changed.push(s.id);
      }
      if (past || res.scenes.length < PAGE) break;
    }
    if (changed.length > 0) {
      await this.store.enqueue(changed.map((sceneId) => ({ sceneId, priority: PRIORITY.bulk, trigger: 'restart check', runAt: now })));
    }
    const { level, line } = describeRestart({ lastEventAt: pending.lastEventAt, bootAt, changedSceneIds: changed, cutShort: pending.cutShort });
    this.log[level](line);
  }
}
