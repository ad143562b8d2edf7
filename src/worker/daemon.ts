import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { dataPaths, type DataPaths } from '../paths';
import { fileLogger, type Logger } from './filelog';
import { removePidFile, writePidFile } from './pidfile';
import type { EngineExit, EngineInit, EngineMessage } from './messages';

export interface DaemonOptions {
  dataDir: string;
  /** The bundle file to start the engine thread from (the same plexcourier.cjs). */
  entryFile: string;
  /** Foreground: also log to stderr and never exit when idle. */
  foreground: boolean;
  init: Omit<EngineInit, 'role' | 'dataDir'>;
}

/** No heartbeat for this long means the engine thread's event loop is stuck (requests time out on their own long before). */
const HUNG_AFTER_MS = 60_000;
/** A crash loop gives up after this many restarts in a row; the next hook starts a fresh worker. */
const MAX_RESTARTS = 5;

/**
 * The worker's main thread: it supervises the engine thread (src/worker/engine.ts), which does all
 * the work. Opening the LevelDB store is the election (ARCHITECTURE.md point 2): the engine reports
 * `locked` when another worker holds it, and this process then exits at once.
 *
 * Exit rule (the engine applies it with closeAndRecheck): the store is closed, the pid file goes, and
 * the inbox is looked at once more; anything that arrived meanwhile starts the engine again (`reopen`),
 * so no event is stranded between this worker leaving and a hook deciding whether to start a new one.
 */
export async function runDaemon(opts: DaemonOptions): Promise<number> {
  const paths = dataPaths(opts.dataDir);
  fs.mkdirSync(paths.root, { recursive: true, mode: 0o700 });
  const log = fileLogger(paths.logFile, {
    debug: opts.init.debug,
    echo: opts.foreground ? (line) => process.stderr.write(line) : undefined,
  });

  let stopping = false;
  let current: Worker | undefined;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal} received: finishing in-flight work, the rest stays queued`);
    current?.postMessage({ type: 'stop' });
    // Give the engine time to finish in-flight requests and close the store cleanly.
    setTimeout(() => {
      log.warn('the engine did not stop within 15 s; terminating it (queued work is safe on disk)');
      void current?.terminate();
    }, 15_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => undefined);

  let restarts = 0;
  let elected = false;
  for (;;) {
    const outcome = await runEngineThread(opts, paths, log, (w) => (current = w), () => {
      if (!elected) {
        elected = true;
        writePidFile(paths.pidFile);
        fs.rmSync(paths.workerStarting, { recursive: true, force: true });
      }
    });
    current = undefined;
    if (outcome === 'locked') {
      if (!elected) {
        log.debug('another worker holds the store; exiting');
        return 0;
      }
      // We were the worker and a restart could not re-take our own lock (a terminated thread may keep
      // its handle): leave, so the next hook starts a clean process.
      log.warn('could not re-open the store after restarting the engine; exiting so a fresh worker takes over');
      removePidFile(paths.pidFile);
      return 1;
    }
    if (outcome === 'crashed' || outcome === 'hung') {
      restarts += 1;
      if (restarts > MAX_RESTARTS || stopping) {
        log.error(`the engine failed ${restarts} times in a row; exiting (queued work is safe and resumes with the next worker)`);
        removePidFile(paths.pidFile);
        return 1;
      }
      log.warn(`restarting the engine after it ${outcome === 'hung' ? 'stopped responding' : 'crashed'} (restart ${restarts})`);
      continue;
    }
    restarts = 0;
    // The engine has closed the store; on `reopen` it found events that came in while it was leaving.
    removePidFile(paths.pidFile);
    elected = false;
    if (outcome === 'reopen' && !stopping) continue;
    log.info(outcome === 'stopped' ? 'stopped' : 'idle: exiting until the next event');
    return 0;
  }
}

function runEngineThread(
  opts: DaemonOptions,
  paths: DataPaths,
  log: Logger,
  onStart: (w: Worker) => void,
  onElected: () => void,
): Promise<EngineExit | 'crashed' | 'hung'> {
  return new Promise((resolve) => {
    const init: EngineInit = { ...opts.init, role: 'plexcourier-engine', dataDir: paths.root };
    // A small young generation keeps the worker's peak memory down while it indexes a large library.
    const worker = new Worker(opts.entryFile, { workerData: init, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
    onStart(worker);
    let lastBeat = Date.now();
    let result: EngineExit | 'crashed' | 'hung' | undefined;
    const watchdog = setInterval(() => {
      if (Date.now() - lastBeat > HUNG_AFTER_MS) {
        result = 'hung';
        void worker.terminate();
      }
    }, 10_000);
    worker.on('message', (msg: EngineMessage) => {
      lastBeat = Date.now();
      if (msg.type === 'elected') onElected();
      if (msg.type === 'exit') result = msg.reason;
    });
    worker.on('error', (err) => {
      log.error(`engine crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      result ??= 'crashed';
    });
    worker.on('exit', (code) => {
      clearInterval(watchdog);
      resolve(result ?? (code === 0 ? 'stopped' : 'crashed'));
    });
  });
}
