import fs from 'node:fs';
import { dataPaths, type DataPaths } from '../paths';
import { closeAndRecheck, QueueStore, StoreLockedError } from '../queue';
import { ingestInbox } from '../inbox/ingest';
import { StatusWriter, statusSnapshot } from '../status';
import { fileLogger, type Logger } from './filelog';
import { removePidFile } from './pidfile';
import { dlqSummaryLine } from './dlq-note';
import type { EngineExit, EngineInit } from './messages';
import { Config } from './config';
import { Dispatcher } from './dispatch';
import { interpretEvent } from './interpret';
import { handleCommand, type CommandContext } from './commands';
import { Follower, CATCH_UP_MS } from '../follow/follower';
import { addPending } from '../follow/pending';

/** How often the engine looks at the inbox when no file-system event woke it (watchers miss events on network mounts). */
const POLL_MS = 1_000;

export interface EngineHost {
  elected(): void;
  /** Resolves when the supervisor asks us to stop. */
  stopRequested: Promise<void>;
}

/**
 * The engine: the single owner of the queue store. It ingests the inbox, keeps the Stash and Plex
 * configuration current, dispatches ready jobs through the sync pipeline, runs task commands and
 * publishes status.json — until it has been idle for `idleMs` or is asked to stop.
 */
export async function runEngine(init: EngineInit, host: EngineHost): Promise<EngineExit> {
  const paths = dataPaths(init.dataDir);
  for (const dir of [paths.inboxTmp, paths.inboxNew, paths.inboxBad, paths.results]) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  const log = fileLogger(paths.logFile, { debug: init.debug });
  let store: QueueStore;
  try {
    store = await QueueStore.open(paths.store);
  } catch (err) {
    if (err instanceof StoreLockedError) return 'locked';
    throw err;
  }
  host.elected();
  log.info(`worker started (pid ${process.pid}, data in ${paths.root})`);

  let stopping = false;
  void host.stopRequested.then(() => {
    stopping = true;
    wake();
  });

  // Wake-ups: a file renamed into the inbox, a command, a stop request, or the poll timer.
  let wakeResolve: (() => void) | undefined;
  const wake = () => wakeResolve?.();
  let watcher: fs.FSWatcher | undefined;
  try {
    watcher = fs.watch(paths.inboxNew, () => wake());
  } catch {
    log.warn('cannot watch the inbox; polling it every second instead');
  }

  const config = new Config(init, log);
  const status = new StatusWriter(paths.statusFile);
  const dispatcher = new Dispatcher(store, config, log);
  // Mid-round progress reaches status.json about once a second (the writer keeps to that rate itself).
  let lastProgressAt = 0;
  dispatcher.onProgress = () => {
    if (Date.now() - lastProgressAt < 500) return;
    lastProgressAt = Date.now();
    status.update(snapshot(store, config, dispatcher, paths));
  };
  await dispatcher.restore();
  // Renames, deletions and changes that fire no hook (issue 17); PLEXCOURIER_CATCHUP_MS is for tests.
  const follower = new Follower(store, config, log, Number(process.env.PLEXCOURIER_CATCHUP_MS) || CATCH_UP_MS);
  await startupReport(store, config, log);

  const commandContext: CommandContext = { store, paths, config, dispatcher, log, wake };
  let lastActivity = Date.now();
  try {
    while (!stopping) {
      // A large backlog is taken in slices so that dispatch is never starved by ingestion.
      const ingested = await ingestInbox(
        store,
        paths,
        {
          interpret: (name, bytes) => interpretEvent(name, bytes, config),
          onCommand: (_name, cmd) => handleCommand(cmd, commandContext),
          onChanges: (changes) => addPending(store, changes),
        },
        { maxFiles: 2_000 },
      );
      if (ingested.bad > 0) log.warn(`${ingested.bad} inbox file(s) were invalid and moved to ${paths.inboxBad}`);
      if (ingested.ingested + ingested.commands > 0) lastActivity = Date.now();

      await config.refresh();
      if ((await follower.tick()) > 0) lastActivity = Date.now();
      const worked = await dispatcher.runOnce();
      if (worked) lastActivity = Date.now();

      status.update(snapshot(store, config, dispatcher, paths));

      if (worked) continue;
      const counts = store.counts();
      const busy = counts.ready + counts.delayed + counts.active > 0;
      if (!busy && Date.now() - lastActivity >= config.idleMs()) {
        log.info('nothing to do for a while');
        return await closeAndLeave('idle');
      }
      await new Promise<void>((resolve) => {
        wakeResolve = resolve;
        const due = dispatcher.nextWakeAt();
        const wait = Math.max(10, Math.min(POLL_MS, due === undefined ? POLL_MS : due - Date.now()));
        setTimeout(resolve, wait).unref?.();
      });
      wakeResolve = undefined;
    }
    return await closeAndLeave('stopped');
  } finally {
    watcher?.close();
  }

  async function closeAndLeave(reason: 'idle' | 'stopped'): Promise<EngineExit> {
    await dispatcher.shutdown();
    status.update({ ...snapshot(store, config, dispatcher, paths), exiting: true });
    await status.flush();
    if (reason === 'stopped') {
      await store.close();
      log.info('store closed (stop requested)');
      return 'stopped';
    }
    // The exit rule (ARCHITECTURE.md point 2): close, drop the pid file, look at the inbox once more.
    const { pending } = await closeAndRecheck(store, paths, { beforeRecheck: () => removePidFile(paths.pidFile) });
    if (pending > 0) {
      log.info(`${pending} event(s) arrived while leaving; staying on`);
      return 'reopen';
    }
    log.info('store closed (idle)');
    return 'idle';
  }
}

async function startupReport(store: QueueStore, config: Config, log: Logger): Promise<void> {
  const purged = await store.purgeDlq({ olderThanMs: config.dlqRetentionMs(), maxEntries: config.dlqCap() });
  if (purged > 0) log.info(`purged ${purged} dead-lettered job(s) past retention`);
  const byClass = store.dlqCountByClass();
  if (Object.keys(byClass).length > 0) log.warn(dlqSummaryLine(byClass, store.dlqList({ limit: 5 })));
}

function snapshot(store: QueueStore, config: Config, dispatcher: Dispatcher, paths: DataPaths) {
  return statusSnapshot(store, {
    version: 1,
    dlqExamples: store.dlqList({ limit: 5 }),
    config: config.describe(),
    ...dispatcher.describe(),
    dataDir: paths.root,
  });
}
