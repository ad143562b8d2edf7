import type { QueueStore } from '../queue/store';
import type { StashClient } from '../stash/graphql';

const ID_PAGE = 1_000;

/**
 * ratingKey → the scenes whose last sync wrote that Plex item, from the per-scene sync records. The
 * records are keyed by scene, so the scene ids come from Stash a page at a time and their records are
 * read in one LevelDB call per page. Only synced scenes can match: a play of an item PlexCourier never
 * wrote is not guessed from titles or paths.
 */
export async function sceneIdsByRatingKey(stash: StashClient, store: QueueStore): Promise<Map<string, string[]>> {
  const map = new Map<string, string[]>();
  for (let page = 1; ; page++) {
    const res = await stash.sceneIdsPage({ page, perPage: ID_PAGE, sort: 'id', direction: 'ASC' });
    const ids = res.scenes.map((s) => s.id);
    const records = await store.getSyncRecords(ids);
    records.forEach((record, i) => {
      for (const rk of record?.ratingKeys ?? []) {
        const list = map.get(rk);
        if (list) list.push(ids[i]!);
        else map.set(rk, [ids[i]!]);
      }
    });
    if (res.scenes.length < ID_PAGE || page * ID_PAGE >= res.count) break;
  }
  return map;
}
