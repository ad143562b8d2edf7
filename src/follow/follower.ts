import { z } from 'zod';
import type { QueueStore } from '../queue/store';
import type { EnqueueRequest } from '../queue/types';
import type { StashClient } from '../stash/graphql';
import type { Config } from '../worker/config';
import type { Logger } from '../worker/filelog';
import type { Entity, EntityChange } from './events';
import { linkOf, linksAny } from './links';
import { dropPending, readPending } from './pending';

/** Scene ids only: which scenes use a tag, performer, studio or group (validated in test/follow/queries.test.ts). */
export const SCENES_USING_QUERY = `query PlexCourierScenesUsing($filter: FindFilterType, $scene_filter: SceneFilterType) {
  findScenes(filter: $filter, scene_filter: $scene_filter) { count scenes { id } }
}`;

/** Scenes are queued behind the user's own edits: a rename touching thousands of scenes is bulk work. */
const BULK = 2;
const PAGE = 1_000;
/** Entities per findScenes query: a bulk edit of 300 tags costs a handful of queries, not 300. */
const IDS_PER_QUERY = 100;
/** While Stash cannot be read, pending changes and the catch-up wait this long. */
const STASH_RETRY_MS = 30_000;
/** How often a running worker asks Stash for scenes changed without a hook. */
export const CATCH_UP_MS = 5 * 60_000;

const idsPageSchema = z.object({ findScenes: z.object({ count: z.number().int(), scenes: z.array(z.object({ id: z.string() })) }) });

/** The newest `updated_at` seen, and the scenes that had it (the filter has second resolution: they are seen again). */
const markSchema = z.object({ at: z.string(), ids: z.array(z.string()) });
type Mark = z.infer<typeof markSchema>;
const MARK_KEY = 'follow.seen';

/** The scene filter for scenes using any of `ids` (reference/stash-graphql-schema/types/filters.graphql, SceneFilterType). */
export function usingFilter(entity: Entity, ids: string[]): Record<string, unknown> {
  switch (entity) {
    case 'tag':
      return { tags: { value: ids, modifier: 'INCLUDES', depth: 0 } };
    case 'performer':
      return { performers: { value: ids, modifier: 'INCLUDES' } };
    case 'studio':
      // Depth 1: a child studio's scenes show the parent's name with studio 'parent' or parent collections.
      return { studios: { value: ids, modifier: 'INCLUDES', depth: 1 } };
    case 'group':
      return { groups: { value: ids, modifier: 'INCLUDES', depth: 0 } };
  }
}

/**
 * Follows the Stash changes that fire no Scene hook (issue 17):
 * - entity changes spooled by the hook (src/follow/pending.ts) are fanned out to the synced scenes they
 *   touch: renames and merges by asking Stash which scenes use the entity, deletions from the sync
 *   records (the joins are gone when Destroy fires, §4.1);
 * - at start and every `catchUpMs`, scenes updated since the newest `updated_at` seen (a scene merge,
 *   generated covers) are queued; the unchanged-hash check skips those with nothing new for Plex.
 * Only scenes that were synced before are queued: the rest never reached Plex, and a rename must not
 * cost Plex requests for them. Everything goes in at bulk priority, behind the user's own edits.
 */
export class Follower {
  private nextCatchUpAt = 0;
  private nextFanOutAt = 0;

  constructor(
    private readonly store: QueueStore,
    private readonly config: Config,
    private readonly log: Logger,
    private readonly catchUpMs = CATCH_UP_MS,
  ) {}

  /** Does what is due; returns the number of scenes queued. */
  async tick(now = Date.now()): Promise<number> {
    if (!this.config.ready()) return 0;
    let queued = 0;
    if (now >= this.nextFanOutAt) {
      const pending = await readPending(this.store);
      if (pending.length > 0) queued += await this.fanOut(pending);
    }
    if (now >= this.nextCatchUpAt) queued += await this.catchUp();
    return queued;
  }

  private async fanOut(changes: EntityChange[]): Promise<number> {
    const t0 = Date.now();
    const triggers = new Map<string, string>();
    const fromStash = new Set<string>();
    try {
      const stash = this.config.stash();
      for (const entity of ['tag', 'performer', 'studio', 'group'] as const) {
        const ids = changes.filter((c) => c.entity === entity && c.op !== 'destroy').map((c) => c.id);
        const trigger = changes.find((c) => c.entity === entity && c.op !== 'destroy')?.trigger ?? '';
        for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
          for (const id of await scenesUsing(stash, usingFilter(entity, ids.slice(i, i + IDS_PER_QUERY)))) {
            fromStash.add(id);
            if (!triggers.has(id)) triggers.set(id, trigger);
          }
        }
      }
    } catch (err) {
      this.nextFanOutAt = Date.now() + STASH_RETRY_MS;
      this.log.warn(`cannot ask Stash which scenes ${describe(changes)} touch (${(err as Error).message}); trying again in ${STASH_RETRY_MS / 1000} s, nothing is lost`);
      return 0;
    }
    const sceneIds = await this.synced([...fromStash]);
    const destroyed = changes.filter((c) => c.op === 'destroy');
    if (destroyed.length > 0) {
      const tokens = new Map(destroyed.map((c) => [linkOf(c.entity, c.id), c.trigger]));
      const set = new Set(tokens.keys());
      for await (const [sceneId, record] of this.store.syncRecordEntries()) {
        // A record written before links were kept cannot say: that scene is checked (no Plex request
        // unless it changed) and learns its links, so this happens once per scene.
        if (record.links !== undefined && !linksAny(record.links, set)) continue;
        sceneIds.push(sceneId);
        if (!triggers.has(sceneId)) triggers.set(sceneId, destroyed[0]!.trigger);
      }
    }
    const unique = [...new Set(sceneIds)];
    await this.enqueue(unique.map((sceneId) => ({ sceneId, priority: BULK, trigger: triggers.get(sceneId) ?? 'follow' })));
    await dropPending(this.store, changes);
    const line = `${describe(changes)}: ${unique.length ? `${unique.length} synced scene(s) queued` : 'touches no synced scene; nothing to send'} (${Date.now() - t0} ms)`;
    this.log.info(line);
    return unique.length;
  }

  private async catchUp(): Promise<number> {
    let stash: StashClient;
    let mark: Mark | undefined;
    try {
      stash = this.config.stash();
      const saved = markSchema.safeParse(await this.store.getMeta<unknown>(MARK_KEY));
      mark = saved.success ? saved.data : undefined;
      if (!mark) {
        // The first start knows nothing older: it begins from now, and Sync All remains the full check.
        const newest = await stash.sceneIdsPage({ page: 1, perPage: 1, sort: 'updated_at', direction: 'DESC' });
        const top = newest.scenes[0];
        await this.store.putMeta(MARK_KEY, top ? { at: top.updated_at, ids: [top.id] } : { at: new Date(0).toISOString(), ids: [] });
        this.nextCatchUpAt = Date.now() + this.catchUpMs;
        return 0;
      }
      const since = new Date(Date.parse(mark.at) - 1_000);
      const seen: { id: string; updated_at: string }[] = [];
      for (let page = 1; ; page++) {
        const res = await stash.sceneIdsPage({ page, perPage: PAGE, sort: 'id', direction: 'ASC', updatedSince: since });
        seen.push(...res.scenes);
        if (res.scenes.length < PAGE || seen.length >= res.count) break;
      }
      const markMs = Date.parse(mark.at);
      const already = new Set(mark.ids);
      const fresh = seen.filter((s) => !(already.has(s.id) && Date.parse(s.updated_at) === markMs));
      // The newest stamp seen becomes the mark; the scenes sharing it are remembered so they are not queued again.
      let top = mark;
      for (const s of seen) {
        const ms = Date.parse(s.updated_at);
        const topMs = Date.parse(top.at);
        if (ms > topMs) top = { at: s.updated_at, ids: [s.id] };
        else if (ms === topMs && !top.ids.includes(s.id)) top = { at: top.at, ids: [...top.ids, s.id] };
      }
      const queued = await this.queueChanged(fresh);
      await this.store.putMeta(MARK_KEY, top);
      this.nextCatchUpAt = Date.now() + this.catchUpMs;
      if (queued > 0) this.log.info(`${queued} scene(s) changed in Stash without a hook (a merge, generated covers...) were queued`);
      return queued;
    } catch (err) {
      this.nextCatchUpAt = Date.now() + STASH_RETRY_MS;
      this.log.warn(`cannot ask Stash for recently changed scenes (${(err as Error).message}); trying again in ${STASH_RETRY_MS / 1000} s`);
      return 0;
    }
  }

  /** Queues the synced scenes among `scenes` whose last sync is older than their change, unless already queued. */
  private async queueChanged(scenes: { id: string; updated_at: string }[]): Promise<number> {
    const waiting = scenes.filter((s) => !this.store.jobForScene(s.id));
    const requests: EnqueueRequest[] = [];
    for (let i = 0; i < waiting.length; i += PAGE) {
      const slice = waiting.slice(i, i + PAGE);
      const records = await this.store.getSyncRecords(slice.map((s) => s.id));
      slice.forEach((s, j) => {
        const record = records[j];
        // Synced after this change (a hook already brought it): nothing new. Stash's stamps have whole seconds.
        if (record && record.syncedAt < Date.parse(s.updated_at) + 1_000) requests.push({ sceneId: s.id, priority: BULK, trigger: 'catch-up' });
      });
    }
    await this.enqueue(requests);
    return requests.length;
  }

  /** The ids among `sceneIds` that have a sync record. */
  private async synced(sceneIds: string[]): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < sceneIds.length; i += PAGE) {
      const slice = sceneIds.slice(i, i + PAGE);
      const records = await this.store.getSyncRecords(slice);
      slice.forEach((id, j) => {
        if (records[j]) out.push(id);
      });
    }
    return out;
  }

  private async enqueue(requests: EnqueueRequest[]): Promise<void> {
    for (let i = 0; i < requests.length; i += PAGE) await this.store.enqueue(requests.slice(i, i + PAGE));
  }
}

/** Every scene id matching `sceneFilter`, paged by id. */
async function scenesUsing(stash: StashClient, sceneFilter: Record<string, unknown>): Promise<string[]> {
  const out: string[] = [];
  for (let page = 1; ; page++) {
    const data = await stash.request(SCENES_USING_QUERY, { filter: { page, per_page: PAGE, sort: 'id', direction: 'ASC' }, scene_filter: sceneFilter });
    const parsed = idsPageSchema.safeParse(data);
    if (!parsed.success) throw new Error('Stash answered the scene list in an unexpected shape');
    out.push(...parsed.data.findScenes.scenes.map((s) => s.id));
    if (parsed.data.findScenes.scenes.length < PAGE || out.length >= parsed.data.findScenes.count) return out;
  }
}

function describe(changes: EntityChange[]): string {
  const first = changes[0]!;
  const what = `${first.trigger} ${first.entity} ${first.id}`;
  return changes.length === 1 ? what : `${what} and ${changes.length - 1} other change(s)`;
}
