import { createHash } from 'node:crypto';

/**
 * Stash's plugin log protocol on stderr and the single JSON result on stdout
 * (reference/stash-plugin-protocol.md §3).
 */

export type LogLevel = 'trace' | 'debug' | 'info' | 'warning' | 'error';

// SOH + level char + STX (§3.2).
const PREFIX: Record<LogLevel | 'progress', string> = {
  trace: '\x01t\x02',
  debug: '\x01d\x02',
  info: '\x01i\x02',
  warning: '\x01w\x02',
  error: '\x01e\x02',
  progress: '\x01p\x02',
};

/**
 * Stash reads stderr with a 64 KiB line scanner and closes the pipe on a longer line (§3.4);
 * 8 KiB keeps every line far below that and the log readable.
 */
export const MAX_LOG_LINE_BYTES = 8 * 1024;

export interface StashLoggerOptions {
  /** Where lines go; `process.stderr` by default. */
  stream?: NodeJS.WritableStream;
  /** When on, debug and trace messages are written at info level so Stash's default level shows them. Default false. */
  debug?: boolean;
  /** Replace path segments with short hashes in every message. Default false. */
  obfuscatePaths?: boolean;
  /** Per line, prefix included. Default MAX_LOG_LINE_BYTES. */
  maxLineBytes?: number;
}

export interface StashLogger {
  trace(msg: string): void;
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  /** Task progress as a fraction; clamped to 0–1, non-finite values dropped (§3.3). */
  progress(fraction: number): void;
  /** Strings that must never reach the log (the Plex token, the cookie, the API key): replaced by `***`. */
  addSecret(secret: string | undefined): void;
  readonly debugEnabled: boolean;
}

/** Cuts `text` to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const suffix = ' …[truncated]';
  const budget = Math.max(0, maxBytes - Buffer.byteLength(suffix, 'utf8'));
  let cut = Buffer.from(text, 'utf8').subarray(0, budget).toString('utf8');
  // A split multi-byte character decodes to U+FFFD at the end: drop it.
  while (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  return cut + suffix;
}

/**
 * The stderr bytes for one message: every line prefixed (an unprefixed continuation line would be
 * logged at ERROR, §3.2), empty lines dropped, each line capped.
 */
export function formatLogLines(level: LogLevel | 'progress', msg: string, maxLineBytes = MAX_LOG_LINE_BYTES): string {
  const prefix = PREFIX[level];
  let out = '';
  for (const raw of msg.split(/\r?\n/)) {
    const line = raw.replace(/[\x00-\x08\x0b-\x1f]/g, ' ').trimEnd();
    if (line.trim() === '') continue; // Stash ignores an empty prefixed message anyway
    out += truncateUtf8(prefix + line, maxLineBytes) + '\n';
  }
  return out;
}

// An absolute POSIX or Windows path, not the `//host` of a URL. Folder names may contain spaces (not at
// their end); the last segment may too when it ends in a file extension.
const SEG = `[^\\\\/\\n"'<>|:]*[^\\\\/\\s"'<>|:]`;
const PATH_RE = new RegExp(
  `(?<![\\w:/\\\\.])(?:[A-Za-z]:)?[\\\\/](?:${SEG}[\\\\/])*(?:[^\\\\/\\n"'<>|:]*?\\.[A-Za-z0-9]{2,5}(?=[\\s,;)"']|$)|[^\\\\/\\s"'<>|]+)`,
  'g',
);

function hashSegment(segment: string): string {
  return createHash('sha256').update(segment).digest('hex').slice(0, 6);
}

/**
 * `/media/Studio/scene 01.mp4` → `/f3a9c1/0d4e77/8b21aa.mp4`: stable per segment (the same folder
 * always gives the same hash, so log lines stay comparable), extension kept.
 */
export function obfuscatePaths(msg: string): string {
  return msg.replace(PATH_RE, (match) => {
    const drive = /^[A-Za-z]:/.test(match) ? match.slice(0, 2) : '';
    const sep = match.includes('\\') && !match.includes('/') ? '\\' : '/';
    const segments = match.slice(drive.length).split(/[\\/]/);
    const mapped = segments.map((seg, i) => {
      if (seg === '') return seg;
      const dot = i === segments.length - 1 ? seg.lastIndexOf('.') : -1;
      return dot > 0 ? hashSegment(seg.slice(0, dot)) + seg.slice(dot) : hashSegment(seg);
    });
    return drive + mapped.join(sep);
  });
}

const guarded = new WeakSet<NodeJS.WritableStream>();

/**
 * Stash closes stderr after an over-long line (§3.4); an unhandled EPIPE would then crash Node and
 * lose the final JSON. Swallow stream errors: losing a log line is better than losing the result.
 */
export function guardStream(stream: NodeJS.WritableStream): void {
  if (guarded.has(stream)) return;
  guarded.add(stream);
  stream.on('error', () => undefined);
}

function isWritable(stream: NodeJS.WritableStream): boolean {
  const s = stream as NodeJS.WritableStream & { destroyed?: boolean; writableEnded?: boolean };
  return !s.destroyed && !s.writableEnded;
}

export function createStashLogger(opts: StashLoggerOptions = {}): StashLogger {
  const stream = opts.stream ?? process.stderr;
  const maxLineBytes = opts.maxLineBytes ?? MAX_LOG_LINE_BYTES;
  const debugEnabled = opts.debug ?? false;
  const secrets = new Set<string>();
  guardStream(stream);

  const clean = (msg: string): string => {
    let text = String(msg);
    for (const secret of secrets) text = text.split(secret).join('***');
    return opts.obfuscatePaths ? obfuscatePaths(text) : text;
  };
  const write = (level: LogLevel | 'progress', msg: string): void => {
    if (!isWritable(stream)) return;
    const bytes = formatLogLines(level, clean(msg), maxLineBytes);
    if (bytes === '') return;
    try {
      stream.write(bytes);
    } catch {
      // A synchronously thrown EPIPE/ERR_STREAM_DESTROYED: same reasoning as guardStream.
    }
  };

  return {
    debugEnabled,
    trace: (msg) => {
      if (debugEnabled) write('info', msg);
    },
    debug: (msg) => {
      if (debugEnabled) write('info', msg);
    },
    info: (msg) => write('info', msg),
    warn: (msg) => write('warning', msg),
    error: (msg) => write('error', msg),
    progress: (fraction) => {
      if (!Number.isFinite(fraction)) return;
      const clamped = Math.min(1, Math.max(0, fraction));
      write('progress', String(Math.round(clamped * 10_000) / 10_000));
    },
    addSecret: (secret) => {
      // Very short strings would blank out ordinary words; real tokens and cookies are long.
      if (secret && secret.length >= 6) secrets.add(secret);
    },
  };
}

/**
 * Sends everything written through `console` to the logger: stdout must carry only the final JSON
 * object (§3.1). Returns a function that restores the originals.
 */
export function redirectConsole(logger: StashLogger): () => void {
  const saved = { log: console.log, info: console.info, debug: console.debug, warn: console.warn, error: console.error, trace: console.trace };
  const fmt = (args: unknown[]): string =>
    args.map((a) => (typeof a === 'string' ? a : a instanceof Error ? a.message : safeJson(a))).join(' ');
  console.log = (...args: unknown[]) => logger.info(fmt(args));
  console.info = (...args: unknown[]) => logger.info(fmt(args));
  console.debug = (...args: unknown[]) => logger.debug(fmt(args));
  console.trace = (...args: unknown[]) => logger.debug(fmt(args));
  console.warn = (...args: unknown[]) => logger.warn(fmt(args));
  console.error = (...args: unknown[]) => logger.error(fmt(args));
  return () => Object.assign(console, saved);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** What a plugin run hands back to Stash. `error` present only on failure (`""` would count as one, §3.1). */
export interface PluginResult {
  output?: unknown;
  error?: string;
}

/** The exact stdout bytes for a result: one JSON object, `error` only when it is a non-empty failure. */
export function formatResult(result: PluginResult): string {
  const body: Record<string, unknown> = { output: result.output ?? null };
  if (result.error !== undefined) body.error = result.error === '' ? 'failed' : result.error;
  return JSON.stringify(body) + '\n';
}

/**
 * Writes the one JSON object to stdout and sets `process.exitCode` (1 on error). Never calls
 * `process.exit()`: pipes may be asynchronous and the bytes would be lost (§3.4). Write the logs
 * before calling this: Stash may stop reading stderr once stdout ends (§3.4).
 */
export function writeResult(result: PluginResult, stdout: NodeJS.WritableStream = process.stdout): void {
  guardStream(stdout);
  process.exitCode = result.error !== undefined ? 1 : 0;
  try {
    stdout.write(formatResult(result));
  } catch {
    // stdout closed: Stash is gone (killed or cancelled); nothing left to tell it.
  }
}
