import { spawn } from 'node:child_process';
import { dataPaths } from '../paths';
import { workerAlive } from './pidfile';

/**
 * Starts a detached worker unless one is alive. Its stdio goes nowhere: a child holding Stash's
 * stdout pipe would keep Stash waiting for EOF (reference/stash-plugin-protocol.md §3.1).
 * Several callers racing here start several processes; the LevelDB lock lets exactly one stay.
 */
export function ensureWorker(dataDir: string, entryFile: string): { started: boolean; pid?: number } {
  const alive = workerAlive(dataPaths(dataDir).pidFile);
  if (alive) return { started: false, pid: alive };
  const child = spawn(process.execPath, [entryFile, 'worker', '--background'], {
    detached: true,
    stdio: 'ignore',
    windowsHide: true,
    env: { ...process.env, PLEXCOURIER_DATA_DIR: dataDir },
  });
  child.unref();
  return { started: true, pid: child.pid };
}
