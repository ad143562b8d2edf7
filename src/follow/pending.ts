import { z } from 'zod';
import type { QueueStore } from '../queue/store';
import { EntityChangeSchema, type EntityChange } from './events';

/**
 * Entity changes waiting to be fanned out, kept in the store's meta so that a change ingested from the
 * inbox survives a crash before the worker has asked Stash which scenes it touches. Written before
 * the inbox file is marked ingested: a crash in between re-reads the file, and the duplicate coalesces.
 */
const KEY = 'follow.pending';
const listSchema = z.array(EntityChangeSchema);

function keyOf(c: EntityChange): string {
  return `${c.entity}:${c.op}:${c.id}`;
}

export async function readPending(store: QueueStore): Promise<EntityChange[]> {
  const parsed = listSchema.safeParse((await store.getMeta<unknown>(KEY)) ?? []);
  return parsed.success ? parsed.data : [];
}

/** Adds changes, one per entity and operation: ten renames of one tag in a row fan out once. */
export async function addPending(store: QueueStore, changes: EntityChange[]): Promise<void> {
  if (changes.length === 0) return;
  const list = await readPending(store);
  const have = new Set(list.map(keyOf));
  for (const c of changes) {
    if (have.has(keyOf(c))) continue;
    have.add(keyOf(c));
    list.push(c);
  }
  await store.putMeta(KEY, list);
}

/** Removes the changes that were fanned out (others may have arrived meanwhile and stay). */
export async function dropPending(store: QueueStore, done: EntityChange[]): Promise<void> {
  const gone = new Set(done.map(keyOf));
  const list = (await readPending(store)).filter((c) => !gone.has(keyOf(c)));
  await store.putMeta(KEY, list);
}
