import type { QueueStore } from './store';

/**
 * The exit rule of a worker, so no event is stranded between an old worker exiting and a new one
 * failing the lock (ARCHITECTURE.md point 2):
 *
 *   1. close the store (release the lock);
 *   2. `beforeRecheck`: remove the pid file, so a hook that writes after this point sees no live
 *      worker and starts one (hooks write their file first, then check the pid file);
 *   3. look at the inbox once more (`pendingInbox`: how many events wait in inbox/new).
 *
 * A file written before step 2 is seen by step 3; one written after it makes its hook start a worker.
 * If `mustReopen`, the caller opens the store again (QueueStore.open); a StoreLockedError then means a
 * newer worker already took over, and the caller may exit.
 */
export async function closeAndRecheck(
  store: QueueStore,
  pendingInbox: () => Promise<number>,
  opts: { beforeRecheck?: () => void | Promise<void> } = {},
): Promise<{ pending: number; mustReopen: boolean }> {
  await store.close();
  await opts.beforeRecheck?.();
  const pending = await pendingInbox();
  return { pending, mustReopen: pending > 0 };
}
