import path from 'node:path';

/**
 * Where PlexCourier keeps its state. One data directory holds everything; the `sh` launcher
 * (src/launcher/plexcourier.sh) computes the same paths without Node, so keep the two in step.
 *
 * Default: `<pluginDir>/data`. Stash's package manager deletes only the files listed in the
 * package manifest on update or uninstall (reference/stash-plugin-protocol.md §9.2), so a
 * folder we create there survives both. It must never hold a `.yml` file: Stash parses every
 * `.yml` under its plugins path as a plugin (§1.1).
 */
export interface DataPaths {
  root: string;
  /** LevelDB store; opening it is the worker election. */
  store: string;
  inbox: string;
  /** Files Node is writing (renamed into `new/` when complete), and operations' stdin while the launcher looks at it. */
  inboxTmp: string;
  /**
   * Event and command files waiting for the worker. The sh launcher's hook writes straight in here: an event
   * that is not yet a whole JSON object is still being written (src/inbox/ingest.ts).
   */
  inboxNew: string;
  /** Files the worker could not read or validate, each with a `.reason` file beside it. */
  inboxBad: string;
  /** Results of command files, one `<commandId>.json` each, written by the worker. */
  results: string;
  /** `<pid> <starttime>`: the live worker, for the launcher's liveness check. */
  pidFile: string;
  /**
   * Made by the launcher (an atomic mkdir) when it starts a worker, so a burst of hooks starts one
   * worker rather than many; the worker removes it once elected, and the launcher ignores it after 10 s.
   */
  workerStarting: string;
  /** The launcher's cached boot time, so it can name files in milliseconds without forking `date`. */
  launcherClock: string;
  /** Written atomically by the worker at most about once a second. */
  statusFile: string;
  /** The worker's log, size-capped and rotated to `plexcourier.log.1`. */
  logFile: string;
  /** The stable X-Plex-Client-Identifier of this installation. */
  clientIdFile: string;
  /** The persisted Plex path index. */
  plexIndexFile: string;
}

export function dataPaths(root: string): DataPaths {
  const inbox = path.join(root, 'inbox');
  return {
    root,
    store: path.join(root, 'queue'),
    inbox,
    inboxTmp: path.join(inbox, 'tmp'),
    inboxNew: path.join(inbox, 'new'),
    inboxBad: path.join(inbox, 'bad'),
    results: path.join(root, 'results'),
    pidFile: path.join(root, 'worker.pid'),
    workerStarting: path.join(root, 'worker.starting'),
    launcherClock: path.join(inbox, 'launcher-clock'),
    statusFile: path.join(root, 'status.json'),
    logFile: path.join(root, 'plexcourier.log'),
    clientIdFile: path.join(root, 'client-id'),
    plexIndexFile: path.join(root, 'plex-index.json'),
  };
}

/** `PLEXCOURIER_DATA_DIR` when set, else `<pluginDir>/data`. */
export function resolveDataDir(pluginDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.PLEXCOURIER_DATA_DIR?.trim();
  return path.resolve(fromEnv ? fromEnv : path.join(pluginDir, 'data'));
}
