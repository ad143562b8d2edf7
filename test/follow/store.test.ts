import { putSyncRecord } from '../queue/helpers';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { QueueStore } from '../../src/queue';
import { addPending, dropPending, readPending } from '../../src/follow/pending';
import type { EntityChange } from '../../src/follow/events';
import { useTempDirs } from '../queue/helpers';

const tempDir = useTempDirs();
const open = (dir = path.join(tempDir(), 'queue')) => QueueStore.open(dir);

const rename = (id: string): EntityChange => ({ entity: 'tag', op: 'update', id, trigger: 'Tag.Update.Post' });

describe('entity changes waiting to be fanned out', () => {
  it('survive a restart, coalesce per entity and operation, and only those fanned out are dropped', async () => {
    const dir = path.join(tempDir(), 'queue');
    let store = await open(dir);
    await addPending(store, [rename('1'), rename('1'), { ...rename('1'), op: 'destroy', trigger: 'Tag.Destroy.Post' }]);
    await addPending(store, [rename('1'), rename('2')]);
    await store.close();

    store = await open(dir);
    const pending = await readPending(store);
    expect(pending.map((c) => `${c.op}:${c.id}`)).toEqual(['update:1', 'destroy:1', 'update:2']);
    // A change that arrives while the first ones are being fanned out stays.
    await addPending(store, [rename('3')]);
    await dropPending(store, pending);
    expect(await readPending(store)).toEqual([rename('3')]);
    await store.close();
  });
});

describe("the store's sync records, read in pages", () => {
  it('yields every record with its scene id, across page boundaries, skipping none', async () => {
    const store = await open();
    const ids = Array.from({ length: 7 }, (_, i) => String(i + 1));
    for (const id of ids) await putSyncRecord(store, id, { stateHash: `h${id}`, ratingKeys: [id], syncedAt: 1, links: `t${id}` });
    const seen: string[] = [];
    for await (const [sceneId, record] of store.syncRecordEntries(3)) {
      expect(record.links).toBe(`t${sceneId}`);
      seen.push(sceneId);
    }
    expect(seen.sort()).toEqual(ids.sort());
    await store.close();
  });
});
