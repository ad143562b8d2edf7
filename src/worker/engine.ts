import fs from 'node:fs';
import { dataPaths, type DataPaths } from '../paths';
import { closeAndRecheck, QueueStore, StoreLockedError } from '../queue';
import { ingestInbox } from '../inbox/ingest';
import { pendingInboxFiles } from '../inbox/names';
import { currentBootId } from '../inbox/boot';
import { RestartCheck } from '../inbox/restart-check';
import { readStatus, StatusWriter, statusSnapshot } from '../status';
import { fileLogger, type Logger } from './filelog';
import { removePidFile } from './pidfile';
import { dlqSummaryLine } from './dlq-note';
import type { EngineExit, EngineInit } from './messages';
import { Config } from './config';
import { Dispatcher } from './dispatch';
import { interpretEvent } from './interpret';
import { handleCommand, type CommandContext } from './commands';
import { applyDlqRetention } from './retention';
import { MinuteHistory } from './history';
import { startQueryResponder } from './queries';
import { PlaysSync } from '../plays/scheduler';
import { Follower, CATCH_UP_MS } from '../follow/follower';
import { addPending } from '../follow/pending';

/** How often the engine looks at the inbox when no file-system event woke it (watchers miss events on network mounts). */
const POLL_MS = 1_000;
/** How soon to look again at an event file that a hook is still writing (src/inbox/ingest.ts). */
const INCOMPLETE_POLL_MS = 25;
/** Plex's library list is checked this often for libraries created or changed since (one small request). */
const SECTIONS_CHECK_MS = 5 * 60_000;

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
  const history = new MinuteHistory();
  history.seed((await readStatus(paths.statusFile))?.history);
  const status = new StatusWriter(paths.statusFile);
  const dispatcher = new Dispatcher(store, config, log);
  // Plays from Plex: a check at start-up and every few minutes, beside the sync (src/plays/).
  const plays = new PlaysSync(store, config, log);
  // Mid-round progress reaches status.json about once a second (the writer keeps to that rate itself).
  let lastProgressAt = 0;
  dispatcher.onProgress = () => {
    if (Date.now() - lastProgressAt < 500) return;
    lastProgressAt = Date.now();
    status.update({ ...snapshot(store, config, dispatcher, paths, history), plays: plays.describe() });
  };
  await dispatcher.restore();
  // Renames, deletions and changes that fire no hook (issue 17); PLEXCOURIER_CATCHUP_MS is for tests.
  const follower = new Follower(store, config, log, Number(process.env.PLEXCOURIER_CATCHUP_MS) || CATCH_UP_MS);
  startupReport(store, log);

  const commandContext: CommandContext = { store, paths, config, dispatcher, log, wake, plays };
  const restart = await RestartCheck.start(store, paths, log, currentBootId());
  const stashIfKnown = () => {
    try {
      return config.stash();
    } catch {
      return undefined; // no hook or task has said where Stash is yet
    }
  };
  const stopQueries = startQueryResponder(commandContext);
  let lastActivity = Date.now();
  let sectionsCheckedAt = Date.now();
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
      if (ingested.ingested > 0) dispatcher.noteEvents();

      await config.refresh(false, ingested.ingested > 0);
      await applyDlqRetention(store, config, log);
      await restart.afterIngest(ingested, { stash: stashIfKnown });
      if ((await follower.tick()) > 0) lastActivity = Date.now();
      const worked = await dispatcher.runOnce();
      if (worked) lastActivity = Date.now();
      plays.tick();

      if (config.ready() && Date.now() - sectionsCheckedAt >= SECTIONS_CHECK_MS && dispatcher.describe().breaker.state === 'closed') {
        sectionsCheckedAt = Date.now();
        await checkPlexLibraries(store, config, log);
      }

      status.update({ ...snapshot(store, config, dispatcher, paths, history), plays: plays.describe() });

      if (worked) continue;
      // Stash gone for longer than the idle time (quit on a desktop, or a wrong address): work that waits on it
      // stays queued, and the next hook or task starts a worker. A foreground worker's idle time is endless.
      const stashDownSince = config.stashUnreachableSince();
      if (stashDownSince !== undefined && Date.now() - stashDownSince >= config.idleMs()) {
        log.warn(`Stash has not answered since ${new Date(stashDownSince).toISOString()}; the worker exits and the queued work waits (the next scene edit or task starts a worker)`);
        return await closeAndLeave('idle');
      }
      const counts = store.counts();
      const busy = counts.ready + counts.delayed + counts.active > 0 || plays.busy();
      if (!busy && Date.now() - lastActivity >= config.idleMs()) {
        log.info('nothing to do for a while');
        return await closeAndLeave('idle');
      }
      await new Promise<void>((resolve) => {
        wakeResolve = resolve;
        const due = dispatcher.nextWakeAt();
        // A hook still writing its file: its last write may have woken us while we were reading it.
        const poll = ingested.incompleteRecent ? INCOMPLETE_POLL_MS : POLL_MS;
        const wait = Math.max(10, Math.min(poll, due === undefined ? poll : due - Date.now()));
        setTimeout(resolve, wait).unref?.();
      });
      wakeResolve = undefined;
    }
    return await closeAndLeave('stopped');
  } finally {
    watcher?.close();
    stopQueries();
  }

  async function closeAndLeave(reason: 'idle' | 'stopped'): Promise<EngineExit> {
    stopQueries();
    await dispatcher.shutdown();
    await restart.flush();
    await plays.stop();
    status.update({ ...snapshot(store, config, dispatcher, paths, history), plays: plays.describe(), exiting: true });
    await status.flush();
    if (reason === 'stopped') {
      await store.close();
      log.info('store closed (stop requested)');
      return 'stopped';
    }
    // The exit rule (ARCHITECTURE.md point 2): close, drop the pid file, look at the inbox once more.
    const { pending } = await closeAndRecheck(store, () => pendingInboxFiles(paths), { beforeRecheck: () => removePidFile(paths.pidFile) });
    if (pending > 0) {
      log.info(`${pending} event(s) arrived while leaving; staying on`);
      return 'reopen';
    }
    log.info('store closed (idle)');
    return 'idle';
  }
}

function startupReport(store: QueueStore, log: Logger): void {
  const byClass = store.dlqCountByClass();
  if (Object.keys(byClass).length > 0) log.warn(dlqSummaryLine(byClass, store.dlqList({ limit: 5 })));
}

/** A new (or re-foldered) Plex library: index it, and let scenes waiting for Plex to have their file try again now. */
async function checkPlexLibraries(store: QueueStore, config: Config, log: Logger): Promise<void> {
  try {
    const c = await config.plex().checkSections();
    if (c.changed === 0) return;
    const promoted = c.items > 0 ? await store.promoteAll() : 0;
    log.info(`Plex's libraries changed (${c.changed}); indexed ${c.items} item(s)${promoted ? `, ${promoted} waiting job(s) try again now` : ''}`);
  } catch (err) {
    // Plex down or refusing: the jobs' own errors open the breaker or pause the queue; this waits for the next check.
    log.debug(`could not check Plex's libraries: ${(err as Error).message}`);
  }
}

/** The failed list published for the PlexCourier page: at most this many entries (the counts stay exact). */
const PUBLISHED_DLQ = 200;

function snapshot(store: QueueStore, config: Config, dispatcher: Dispatcher, paths: DataPaths, history: MinuteHistory) {
  const described = dispatcher.describe();
  history.record(described.session);
  return statusSnapshot(store, {
    version: 1,
    dlqExamples: store.dlqList({ limit: 5 }),
    config: config.describe(),
    ...described,
    dataDir: paths.root,
    // For the page in Stash (src/ops/ui-status.ts): the next retry, the chart, the failed list.
    nextRetryAt: store.counts().delayed > 0 ? (store.nextDueAt() ?? null) : null,
    history: history.list(),
    dlq: store.dlqList({ limit: PUBLISHED_DLQ }),
  });
}
