import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { inflateRawSync } from 'node:zlib';

export interface StashRun {
  pid: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a plugin command the way Stash does (reference/stash-plugin-protocol.md §2.1, §3.1, §11): all three
 * stdio piped, the JSON written without a trailing newline and stdin closed, stdout read to EOF, then the
 * exit awaited.
 */
export function runLikeStash(argv: string[], stdin: string | Buffer, env: NodeJS.ProcessEnv, cwd = '/'): Promise<StashRun> {
  return new Promise((resolve, reject) => {
    const [program, ...args] = argv;
    const child = spawn(program as string, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.stdin.on('error', () => undefined); // a command that never reads stdin may close it first
    child.stdin.end(stdin);
    let stdoutEnded = false;
    let exit: number | null | undefined;
    const finish = () => {
      if (!stdoutEnded || exit === undefined) return;
      resolve({ pid: child.pid as number, code: exit, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    };
    child.stdout.on('end', () => {
      stdoutEnded = true;
      finish();
    });
    child.on('exit', (code) => {
      exit = code;
      // stderr may still be draining; give it the same chance Stash does (none), but keep what arrived.
      setImmediate(finish);
    });
  });
}

/** A Scene.Update.Post hook's stdin as Stash writes it (§2.2, example A). */
export function hookInput(pluginDir: string, sceneId = 45): string {
  return JSON.stringify({
    server_connection: {
      Scheme: 'http',
      Host: '0.0.0.0',
      Port: 9999,
      SessionCookie: {
        Name: 'session', Value: 'MTc2MzgwMDAwMHxEdi1CQkFFQ180SUFBUkFCRUFBQV8=', Quoted: false, Path: '', Domain: '',
        Expires: '0001-01-01T00:00:00Z', RawExpires: '', MaxAge: 0, Secure: false, HttpOnly: false, SameSite: 0,
        Partitioned: false, Raw: '', Unparsed: null,
      },
      Dir: '/root/.stash',
      PluginDir: pluginDir,
    },
    args: {
      hookContext: {
        id: sceneId,
        type: 'Scene.Update.Post',
        input: { id: String(sceneId), title: 'Zoë \u003cnew\u003e', tag_ids: ['21'], details: 'línea 1\nline 2' },
        inputFields: ['id', 'tag_ids', 'title', 'details'],
      },
      mode: 'hook',
    },
  });
}

/** Fields of /proc/<pid>/stat after the command name: [0] is the state, [19] the start time (field 22). */
export function procFields(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return raw.slice(raw.lastIndexOf(')') + 2).trim().split(' ');
  } catch {
    return undefined;
  }
}

/** The POSIX shells on this machine that the launcher must run under: sh, dash, busybox sh. */
export function availableShells(): { name: string; argv: string[] }[] {
  const has = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
  const shells: { name: string; argv: string[] }[] = [{ name: 'sh', argv: ['sh'] }];
  if (has('dash', ['-c', 'true'])) shells.push({ name: 'dash', argv: ['dash'] });
  if (has('busybox', ['sh', '-c', 'true'])) shells.push({ name: 'busybox sh', argv: ['busybox', 'sh'] });
  return shells;
}

export async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface ZipEntry {
  name: string;
  /** Permission bits from the Unix external attributes. */
  mode: number;
  isDirectory: boolean;
  data: Buffer;
}

/** Reads a zip through its central directory, as Go's archive/zip (Stash's package installer) does. */
export function readZip(zip: Buffer): ZipEntry[] {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new Error('no end of central directory record');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`bad central directory entry ${i}`);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const compressedSize = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const external = zip.readUInt32LE(at + 38);
    const localOffset = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    const localNameLength = zip.readUInt16LE(localOffset + 26);
    const localExtraLength = zip.readUInt16LE(localOffset + 28);
    const start = localOffset + 30 + localNameLength + localExtraLength;
    const body = zip.subarray(start, start + compressedSize);
    const data = method === 0 ? Buffer.from(body) : method === 8 ? inflateRawSync(body) : undefined;
    if (!data) throw new Error(`${name}: unsupported method ${method}`);
    if (data.length !== size || crc32(data) !== crc) throw new Error(`${name}: size or CRC-32 mismatch`);
    const unixMode = external >>> 16;
    entries.push({ name, mode: unixMode & 0o777, isDirectory: (unixMode & 0o170000) === 0o040000 || name.endsWith('/'), data });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** Every file under `dir`, as sorted `/`-separated relative paths. */
export function listFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const relPath = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listFiles(dir, relPath));
    else out.push(relPath);
  }
  return out.sort();
}

export interface BuildScript {
  root: string;
  PREBUILDS: string[];
  buildDist(options: { distDir?: string; entry?: string; manifestFile?: string }): Promise<string>;
  bundleOptions(entry: string, outfile: string): import('esbuild').BuildOptions;
  packageVersion(): string;
}

export interface PackageScript {
  packageDist(options: { distDir?: string; outDir?: string; env?: NodeJS.ProcessEnv }): {
    zipFile: string;
    indexFile: string;
    size: number;
    sha256: string;
  };
}

const scriptsDir = path.resolve(__dirname, '../../scripts');

/** The build and package scripts themselves (plain .mjs, loaded at run time). */
export async function loadScripts(): Promise<{ build: BuildScript; pack: PackageScript }> {
  const build = (await import(pathToFileURL(path.join(scriptsDir, 'build.mjs')).href)) as BuildScript;
  const pack = (await import(pathToFileURL(path.join(scriptsDir, 'package.mjs')).href)) as PackageScript;
  return { build, pack };
}
