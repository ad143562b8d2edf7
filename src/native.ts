import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ClassicLevel as ClassicLevelType } from 'classic-level';

/** What decides which LevelDB binary can load: Node's platform, CPU and C library. */
export interface NativeTarget {
  platform: string;
  arch: string;
  /** Only meaningful on Linux; null elsewhere. */
  libc: 'glibc' | 'musl' | null;
}

/**
 * The classic-level prebuild folders the build ships in dist/prebuilds (scripts/build.mjs copies exactly
 * these). classic-level 3 has no musl build for arm64 or arm: reference/queue-research.md §3.1.
 */
export const SHIPPED_PREBUILDS = ['linux-x64', 'linux-arm64', 'linux-arm', 'darwin-x64+arm64', 'win32-x64'] as const;

const HOW_TO_BUILD =
  'Build the binary yourself in the same environment (with a C++ toolchain and Python: `npm install classic-level@3 --build-from-source`) ' +
  'and copy node_modules/classic-level/build/Release/classic-level.node to build/Release/classic-level.node in the plugin folder, ' +
  'or run Stash from a glibc-based image (Debian, Ubuntu) on this machine.';

export function describeTarget(target: NativeTarget): string {
  const libc = target.libc ? ` (${target.libc})` : '';
  return `${target.platform}-${target.arch}${libc}`;
}

/** Null when a shipped prebuild fits the target; otherwise the one-line error to show the user. */
export function unsupportedTargetError(target: NativeTarget): string | null {
  const { platform, arch, libc } = target;
  const fits =
    (platform === 'linux' && arch === 'x64') ||
    (platform === 'linux' && (arch === 'arm64' || arch === 'arm') && libc !== 'musl') ||
    (platform === 'darwin' && (arch === 'x64' || arch === 'arm64')) ||
    (platform === 'win32' && arch === 'x64');
  if (fits) return null;
  // node-gyp-build would pick the untagged glibc armv8 file on Alpine and fail in dlopen with a cryptic
  // message, so say it plainly before trying.
  const why =
    platform === 'linux' && libc === 'musl'
      ? `no LevelDB binary exists for ${describeTarget(target)} (Alpine on ARM, e.g. the official Stash Docker image on a Raspberry Pi)`
      : `no LevelDB binary is shipped for ${describeTarget(target)}`;
  return `PlexCourier cannot open its queue: ${why}. ${HOW_TO_BUILD}`;
}

/** The C library Node itself runs on: a glibc Node reports the glibc version it was loaded with. */
export function detectLibc(): 'glibc' | 'musl' | null {
  if (process.platform !== 'linux') return null;
  const report = readReport();
  if (report?.header?.glibcVersionRuntime) return 'glibc';
  if (report?.header) return 'musl';
  // No report available: fall back to what ldd says it is, as detect-libc does.
  try {
    return readFileSync('/usr/bin/ldd', 'utf8').includes('musl') ? 'musl' : 'glibc';
  } catch {
    return 'glibc';
  }
}

function readReport(): { header?: { glibcVersionRuntime?: string } } | undefined {
  const reporter = process.report as (NodeJS.ProcessReport & { excludeNetwork?: boolean }) | undefined;
  if (!reporter) return undefined;
  // Resolving network interfaces is the slow part of a report and says nothing about libc.
  const excluded = reporter.excludeNetwork;
  reporter.excludeNetwork = true;
  try {
    return reporter.getReport() as { header?: { glibcVersionRuntime?: string } };
  } finally {
    reporter.excludeNetwork = excluded;
  }
}

export function currentTarget(): NativeTarget {
  return { platform: process.platform, arch: process.arch, libc: detectLibc() };
}

/** The folder holding plexcourier.cjs in the bundle (CommonJS); undefined when run from source as ESM. */
function bundleDir(): string | undefined {
  return typeof __dirname === 'string' ? __dirname : undefined;
}

let loaded: typeof ClassicLevelType | undefined;

/**
 * The LevelDB binding, loaded on first use so that nothing on the hook path pays for it (a dynamic import
 * stays lazy in the esbuild bundle). In the bundle, classic-level's node-gyp-build looks next to
 * plexcourier.cjs: first build/Release/ (a binary the user built, for a platform we ship none for), then
 * prebuilds/<platform>-<arch>/. Throws one clear error naming the platform and what to do when none fits.
 */
export async function loadClassicLevel(): Promise<typeof ClassicLevelType> {
  if (loaded) return loaded;
  const target = currentTarget();
  const dir = bundleDir();
  const ownBuild = dir !== undefined && existsSync(path.join(dir, 'build', 'Release', 'classic-level.node'));
  const unsupported = ownBuild ? null : unsupportedTargetError(target);
  if (unsupported) throw new Error(unsupported);
  // node-gyp-build recognises musl only by /etc/alpine-release; tell it what Node actually runs on.
  if (target.libc === 'musl' && !process.env.LIBC) process.env.LIBC = 'musl';
  try {
    const mod = await import('classic-level');
    loaded = mod.ClassicLevel;
    return loaded;
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new Error(
      `PlexCourier cannot open its queue: the LevelDB binary for ${describeTarget(target)} did not load (${reason}). ` +
        `Reinstall the plugin so that its prebuilds/ folder is complete, or: ${HOW_TO_BUILD}`,
      { cause: err },
    );
  }
}
