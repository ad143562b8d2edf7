import fs from 'node:fs';
import { obfuscatePaths } from '../stash/log';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  /** The settings' debug and obfuscate_paths switches, applied from the next line on. */
  configure(opts: { debug?: boolean; obfuscatePaths?: boolean }): void;
}

export interface FileLoggerOptions {
  /** Rotate to `<file>.1` past this size. Defaults to 5 MiB: a week of busy syncing, small enough to attach to a bug report. */
  maxBytes?: number;
  debug?: boolean;
  /** Also echo every line here (the foreground worker echoes to stderr). */
  echo?: (line: string) => void;
}

/**
 * The worker's log: a size-capped file in the data directory, rotated once (`plexcourier.log.1`).
 * The worker is detached from Stash (its stdio is /dev/null), so this file is where its story is told.
 * Appends are synchronous: both worker threads write here, and a line must survive a SIGKILL right after.
 */
export function fileLogger(file: string, opts: FileLoggerOptions = {}): Logger {
  const maxBytes = opts.maxBytes ?? 5 * 1024 * 1024;
  let size = safeSize(file);
  let debug = opts.debug ?? false;
  let hidePaths = false;
  const write = (level: LogLevel, msg: string) => {
    if (level === 'debug' && !debug) return;
    const text = oneLine(hidePaths ? obfuscatePaths(msg) : msg);
    const line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} [${process.pid}] ${text}\n`;
    try {
      if (size + line.length > maxBytes) {
        fs.renameSync(file, `${file}.1`);
        size = 0;
      }
      fs.appendFileSync(file, line, { mode: 0o600 });
      size += Buffer.byteLength(line);
    } catch {
      // A full or read-only disk must not take the worker down; the status file still tells the story.
    }
    opts.echo?.(line);
  };
  return {
    debug: (m) => write('debug', m),
    info: (m) => write('info', m),
    warn: (m) => write('warn', m),
    error: (m) => write('error', m),
    configure: (o) => {
      if (o.debug !== undefined) debug = o.debug || (opts.debug ?? false);
      if (o.obfuscatePaths !== undefined) hidePaths = o.obfuscatePaths;
    },
  };
}

function safeSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** One log record per line, never longer than 8 KiB. */
export function oneLine(msg: string): string {
  const flat = msg.replace(/\r?\n/g, ' ⏎ ');
  return flat.length > 8192 ? `${flat.slice(0, 8180)}… (cut)` : flat;
}
