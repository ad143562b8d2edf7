import { promises as fsp } from 'node:fs';
import type { DataPaths } from '../paths';
import { isInboxFileName } from '../inbox/names';
import type { QueueStore } from './store';

/** How many complete inbox files are waiting in inbox/new. */
export async function pendingInboxFiles(paths: DataPaths): Promise<number> {
  try {
    return (await fsp.readdir(paths.inboxNew)).filter(isInboxFileName).length;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}

/**
 * The exit rule of a worker, so no event is stranded between an old worker exiting and a new one
 * failing the lock (ARCHITECTURE.md point 2):
 *
 *   1. close the store (release the lock);
 *   2. `beforeRecheck`: remove the pid file, so a hook that writes after this point sees no live
 *      worker and starts one (hooks write their file first, then check the pid file);
 *   3. look at inbox/new once more.
 *
 * A file written before step 2 is seen by step 3; one written after it makes its hook start a worker.
 * If `mustReopen`, the caller opens the store again (QueueStore.open); a StoreLockedError then means a
 * newer worker already took over, and the caller may exit.
 */
export async function closeAndRecheck(
  store: QueueStore,
  paths: DataPaths,
  opts: { beforeRecheck?: () => void | Promise<void> } = {},
): Promise<{ pending: number; mustReopen: boolean }> {
  await store.close();
  await opts.beforeRecheck?.();
  const pending = await pendingInboxFiles(paths);
  return { pending, mustReopen: pending > 0 };
}
