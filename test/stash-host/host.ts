/**
 * A Stash plugin host for tests and benchmarks: runs a raw plugin exactly the way Stash does, per
 * reference/stash-plugin-protocol.md §11.
 *
 *   import { runHook, runTask, runBulkHooks, startTask } from '../stash-host/host';
 *
 *   const conn = fake.connection;                          // from startFakeStash(), or { Port, ... } by hand
 *   const r = await runHook('dist/plexcourier.yml', { type: 'Scene.Update.Post', id: 45,
 *                            input: { id: '45', tag_ids: ['21'] }, inputFields: ['id', 'tag_ids'] }, conn);
 *   r.output; r.error; r.logs /* {level, msg}[] *\/; r.exitCode; r.signal; r.wallMs;
 *
 *   const t = await runTask('dist/plexcourier.yml', 'Process Queue', {}, conn);   // t.progress: number[] (0–1)
 *   const running = startTask('dist/plexcourier.yml', 'Sync All Scenes', {}, conn); running.cancel(); await running.result;
 *   const op = await runOperation('dist/plexcourier.yml', { mode: 'status' }, conn);   // runPluginOperation: op.output
 *   const all = await runBulkHooks('dist/plexcourier.yml', { type: 'Scene.Update.Post', ids: [1, 2, 3],
 *                                   input: { ids: ['1','2','3'], tag_ids: { ids: ['7'], mode: 'ADD' } },
 *                                   inputFields: ['ids', 'tag_ids'] }, conn);   // one process after another
 *
 * What it does, as Stash does:
 * - loads the manifest strictly (manifest.ts; unknown or duplicate key = error, id from the file name);
 * - argv = exec + the operation's execArgs (an operation, runPluginOperation, has none: exec alone, the
 *   caller's args only, no defaultArgs, no progress); argv[0] looked up on PATH (a name with "/" relative to the
 *   cwd), else `<pluginDir>/<argv[0]>`; `{pluginDir}` replaced in argv[1..] only (§1.3);
 * - spawns with cwd "/" (Stash's cwd in Docker; `opts.cwd` to change), the environment inherited
 *   (`opts.env` to replace it), all three stdio piped (§2.1);
 * - writes stdin as Go's json.Marshal would (Go field names, sorted args keys, `<>&` escaped, no trailing
 *   newline), then closes it;
 * - decodes stderr per §3.2: `\x01<c>\x02` prefixes, unprefixed lines at the manifest's errLog level
 *   (default error, `none` drops), progress parsed and clamped to [0, 1] for tasks only (ignored for
 *   hooks); a line of 64 KiB or more makes it stop reading and close the pipe (`stderrClosed: true`);
 * - reads stdout to EOF, waits for the exit, parses the result per §3.1 (`error`/`output` keys matched
 *   case-insensitively; anything else → the whole stdout is `output`; a non-zero exit or a signal without
 *   a parsed error gives `exit status N` / `signal: killed`);
 * - cancels with SIGKILL to the direct child only, no signal first (§4.5).
 * There is no timeout, as in Stash; `opts.killAfterMs` exists only as a test safety net.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { loadManifest, type LogLevelName, type Manifest } from './manifest';

export { loadManifest, parseManifest, ManifestError, type Manifest } from './manifest';

/** What Stash puts in `server_connection`; Go field names, as Stash sends them. */
export interface StashConnection {
  Scheme?: 'http' | 'https';
  /** Stash's configured host; default "0.0.0.0" as in a default Stash config. */
  Host?: string;
  Port: number;
  /** The session cookie value; null sends `SessionCookie: null`. */
  sessionCookie?: string | null;
  /** Stash's config dir; default: the plugin dir's parent. */
  Dir?: string;
}

export interface HookCall {
  type: string;
  /** Scene id; omitted from stdin when 0 or absent (omitempty). */
  id?: number;
  input?: unknown;
  inputFields?: string[];
}

export interface HostOptions {
  /** Stash's cwd; default "/" (the official Docker image). */
  cwd?: string;
  /** Stash's environment; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Test safety net only: SIGKILL after this long. Stash has no timeout (§4.5). */
  killAfterMs?: number;
}

export type HostLogLevel = 'trace' | 'debug' | 'info' | 'warning' | 'error';

export interface HostRunResult {
  output: unknown;
  error: string | null;
  logs: { level: HostLogLevel; msg: string }[];
  /** Task progress values after clamping; always empty for hooks. */
  progress: number[];
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  wallMs: number;
  /** The raw stdout text. */
  stdout: string;
  /** True when a ≥ 64 KiB stderr line made the host close the pipe, as Stash does (§3.4). */
  stderrClosed: boolean;
  argv: string[];
  /** The exact stdin bytes written. */
  stdin: string;
}

export interface RunningOperation {
  pid: number | undefined;
  /** SIGKILL the direct child, as Stash's cancel does. */
  cancel(): void;
  result: Promise<HostRunResult>;
}

/** bufio.Scanner's default maximum token size: a line this long or longer stops the scanner (§3.4). */
export const STDERR_LINE_LIMIT = 64 * 1024;

// Go's json.Marshal escapes these inside strings (§2.2); they can only occur inside JSON strings.
function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

function sortKeys(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(obj).sort().map((k) => [k, obj[k]]));
}

/** The exact stdin Stash writes for an operation (§2.2, §11.3). */
export function buildStdin(manifest: Manifest, conn: StashConnection, args: Record<string, unknown>): string {
  const cookie =
    conn.sessionCookie === null || conn.sessionCookie === undefined
      ? null
      : {
          Name: 'session',
          Value: conn.sessionCookie,
          Quoted: false,
          Path: '',
          Domain: '',
          Expires: '0001-01-01T00:00:00Z',
          RawExpires: '',
          MaxAge: 0,
          Secure: false,
          HttpOnly: false,
          SameSite: 0,
          Partitioned: false,
          Raw: '',
          Unparsed: null,
        };
  return goJson({
    server_connection: {
      Scheme: conn.Scheme ?? 'http',
      Host: conn.Host ?? '0.0.0.0',
      Port: conn.Port,
      SessionCookie: cookie,
      Dir: conn.Dir ?? path.dirname(path.resolve(manifest.pluginDir)),
      PluginDir: manifest.pluginDir,
    },
    args: sortKeys(args),
  });
}

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// Go's exec.LookPath: a name with a separator is checked as is (relative to the cwd); otherwise PATH.
function lookPath(name: string, env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  if (name.includes('/')) return isExecutableFile(path.resolve(cwd, name)) ? name : undefined;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir === '' ? '.' : dir, name);
    if (isExecutableFile(path.resolve(cwd, candidate))) return candidate;
  }
  return undefined;
}

/** argv for an operation (§1.3); python's special case is out of scope for us. */
export function buildArgv(manifest: Manifest, execArgs: string[], env: NodeJS.ProcessEnv, cwd: string): string[] {
  const argv = [...manifest.exec, ...execArgs];
  if (argv.length === 0) throw new Error(`plugin ${manifest.id} has no exec`);
  const first = argv[0]!;
  argv[0] = lookPath(first, env, cwd) ?? path.join(manifest.pluginDir, first);
  for (let i = 1; i < argv.length; i++) argv[i] = argv[i]!.split('{pluginDir}').join(manifest.pluginDir);
  return argv;
}

const LEVEL_CHARS: Record<string, HostLogLevel | 'progress'> = { t: 'trace', d: 'debug', i: 'info', w: 'warning', e: 'error', p: 'progress' };

/** One stderr line as Stash's plugin logger reads it (§3.2). */
export function decodeStderrLine(line: string, errLog: LogLevelName): { level: HostLogLevel | 'progress'; msg: string } | null {
  if (line.length >= 4 && line.charCodeAt(0) === 1 && line.charCodeAt(2) === 2) {
    const level = LEVEL_CHARS[line[1]!];
    if (level) return { level, msg: line.slice(3).trim() };
  }
  if (errLog === 'none') return null;
  return { level: errLog, msg: line.trim() };
}

const SIGNAL_TEXT: Partial<Record<NodeJS.Signals, string>> = {
  SIGKILL: 'killed',
  SIGTERM: 'terminated',
  SIGINT: 'interrupt',
  SIGSEGV: 'segmentation fault',
  SIGABRT: 'aborted',
  SIGPIPE: 'broken pipe',
};

/** stdout → {output, error} as Stash's json.Unmarshal into PluginOutput does (§3.1). */
export function parsePluginStdout(stdout: string): { output: unknown; error: string | null } {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    return { output: stdout, error: null };
  }
  if (json === null) return { output: null, error: null };
  if (typeof json !== 'object' || Array.isArray(json)) return { output: stdout, error: null };
  const obj = json as Record<string, unknown>;
  const find = (name: string): unknown => {
    if (Object.hasOwn(obj, name)) return obj[name];
    const key = Object.keys(obj).find((k) => k.toLowerCase() === name);
    return key === undefined ? undefined : obj[key];
  };
  const error = find('error');
  if (error !== undefined && error !== null && typeof error !== 'string') return { output: stdout, error: null };
  const output = find('output');
  return { output: output === undefined ? null : output, error: typeof error === 'string' ? error : null };
}

function start(manifest: Manifest, execArgs: string[], args: Record<string, unknown>, conn: StashConnection, isTask: boolean, opts: HostOptions): RunningOperation {
  const cwd = opts.cwd ?? '/';
  const env = opts.env ?? process.env;
  const argv = buildArgv(manifest, execArgs, env, cwd);
  const stdin = buildStdin(manifest, conn, args);
  const began = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });

  const logs: HostRunResult['logs'] = [];
  const progress: number[] = [];
  let stderrClosed = false;
  let pending: Buffer = Buffer.alloc(0);
  const stdoutChunks: Buffer[] = [];

  const handleLine = (raw: Buffer): void => {
    const line = raw.toString('utf8').replace(/\r$/, '');
    if (line === '') return;
    const decoded = decodeStderrLine(line, manifest.errLog);
    if (!decoded) return;
    if (decoded.level !== 'progress') {
      logs.push({ level: decoded.level, msg: decoded.msg });
      return;
    }
    if (!isTask) return; // hooks have no progress receiver (§3.3)
    const value = Number(decoded.msg);
    if (decoded.msg === '' || Number.isNaN(value)) {
      logs.push({ level: 'error', msg: `Error parsing progress value "${decoded.msg}"` });
      return;
    }
    progress.push(Math.min(1, Math.max(0, value)));
  };

  child.stderr.on('data', (chunk: Buffer) => {
    if (stderrClosed) return;
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    for (;;) {
      const nl = pending.indexOf(0x0a);
      if (nl < 0) break;
      if (nl >= STDERR_LINE_LIMIT) break;
      handleLine(pending.subarray(0, nl));
      pending = pending.subarray(nl + 1);
    }
    if (pending.length >= STDERR_LINE_LIMIT) {
      // Stash's scanner gives up and the read end is closed; the plugin's next write gets EPIPE (§3.4).
      stderrClosed = true;
      pending = Buffer.alloc(0);
      child.stderr.destroy();
    }
  });
  child.stdout.on('data', (chunk: Buffer) => stdoutChunks.push(chunk));
  child.stdin.on('error', () => undefined); // a plugin that never reads: harmless (§2.1)
  child.stdin.end(stdin);

  let killTimer: NodeJS.Timeout | undefined;
  if (opts.killAfterMs !== undefined) killTimer = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs);

  const result = new Promise<HostRunResult>((resolve) => {
    let spawnError: Error | undefined;
    child.on('error', (err) => {
      spawnError = err;
    });
    child.on('close', (code, signal) => {
      if (killTimer) clearTimeout(killTimer);
      if (!stderrClosed && pending.length > 0) handleLine(pending);
      const stdout = Buffer.concat(stdoutChunks).toString('utf8');
      const parsed = spawnError ? { output: null, error: null } : parsePluginStdout(stdout);
      let error = parsed.error;
      // Stash fails the operation before it starts (§4.3, §5); there is no exit status.
      if (error === null && spawnError) error = `fork/exec ${argv[0]}: ${(spawnError as NodeJS.ErrnoException).code ?? spawnError.message}`;
      if (error === null && signal) error = `signal: ${SIGNAL_TEXT[signal] ?? signal.toLowerCase()}`;
      if (error === null && code !== null && code !== 0) error = `exit status ${code}`;
      resolve({
        output: parsed.output,
        error,
        logs,
        progress,
        exitCode: spawnError ? null : code,
        signal,
        wallMs: performance.now() - began,
        stdout,
        stderrClosed,
        argv,
        stdin,
      });
    });
  });

  return { pid: child.pid, cancel: () => child.kill('SIGKILL'), result };
}

function hookContext(call: HookCall): Record<string, unknown> {
  // Field order of Stash's HookContext struct; id and inputFields are omitempty (§2.2).
  const ctx: Record<string, unknown> = {};
  if (call.id) ctx.id = call.id;
  ctx.type = call.type;
  ctx.input = call.input ?? null;
  if (call.inputFields && call.inputFields.length > 0) ctx.inputFields = call.inputFields;
  return ctx;
}

/** Starts the hook entry subscribed to `call.type`. Throws if none or several are. */
export function startHook(pluginYmlPath: string, call: HookCall, conn: StashConnection, opts: HostOptions = {}): RunningOperation {
  const manifest = loadManifest(pluginYmlPath);
  const hooks = manifest.hooks.filter((h) => h.triggeredBy.includes(call.type));
  if (hooks.length !== 1) throw new Error(`plugin ${manifest.id} has ${hooks.length} hook entries for ${call.type}; the host runs exactly one`);
  const hook = hooks[0]!;
  return start(manifest, hook.execArgs, { ...hook.defaultArgs, hookContext: hookContext(call) }, conn, false, opts);
}

export function runHook(pluginYmlPath: string, call: HookCall, conn: StashConnection, opts: HostOptions = {}): Promise<HostRunResult> {
  return startHook(pluginYmlPath, call, conn, opts).result;
}

/**
 * Runs a task by name: args = caller args plus the task's defaultArgs for missing keys (§5).
 * Stash's UI button passes no args.
 */
export function startTask(pluginYmlPath: string, taskName: string, args: Record<string, unknown>, conn: StashConnection, opts: HostOptions = {}): RunningOperation {
  const manifest = loadManifest(pluginYmlPath);
  const task = manifest.tasks.find((t) => t.name === taskName);
  if (!task) throw new Error(`plugin ${manifest.id} has no task named "${taskName}"`);
  return start(manifest, task.execArgs, { ...task.defaultArgs, ...args }, conn, true, opts);
}

export function runTask(pluginYmlPath: string, taskName: string, args: Record<string, unknown>, conn: StashConnection, opts: HostOptions = {}): Promise<HostRunResult> {
  return startTask(pluginYmlPath, taskName, args, conn, opts).result;
}

/**
 * A bulk mutation (bulkSceneUpdate, scenesDestroy): one hook process per id, each started only after
 * the previous one exited, all with the same input (§4.2, §4.3).
 */
export async function runBulkHooks(
  pluginYmlPath: string,
  call: { type: string; ids: number[]; input: unknown; inputFields?: string[] },
  conn: StashConnection,
  opts: HostOptions = {},
): Promise<HostRunResult[]> {
  const results: HostRunResult[] = [];
  for (const id of call.ids) {
    results.push(await runHook(pluginYmlPath, { type: call.type, id, input: call.input, ...(call.inputFields ? { inputFields: call.inputFields } : {}) }, conn, opts));
  }
  return results;
}

/**
 * `runPluginOperation(plugin_id, args)`: exec alone, with no execArgs and no defaultArgs of any task or hook,
 * the caller's args on stdin, no progress receiver (§1.3 point 1, §5). The caller gets `output`, or `error`
 * as a GraphQL error (§3.1).
 */
export function startOperation(pluginYmlPath: string, args: Record<string, unknown>, conn: StashConnection, opts: HostOptions = {}): RunningOperation {
  const manifest = loadManifest(pluginYmlPath);
  return start(manifest, [], args, conn, false, opts);
}

export function runOperation(pluginYmlPath: string, args: Record<string, unknown>, conn: StashConnection, opts: HostOptions = {}): Promise<HostRunResult> {
  return startOperation(pluginYmlPath, args, conn, opts).result;
}
