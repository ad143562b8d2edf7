#!/usr/bin/env node
// `npm run build`: writes the installable plugin folder dist/ (ARCHITECTURE.md "Interfaces that are fixed").
//   plexcourier.cjs   the Node entry, one CommonJS file; nothing from node_modules is needed at run time
//   plexcourier.sh    the hook launcher (Stash runs `sh {pluginDir}/plexcourier.sh`)
//   sh.cmd         what Stash runs on Windows when no sh is on its PATH (reference/stash-plugin-protocol.md §1.3)
//   plexcourier.yml   the manifest; Stash takes the plugin id from this file name (§1.1)
//   prebuilds/     classic-level's LevelDB binaries, found by the bundled node-gyp-build next to plexcourier.cjs
//   plexcourier-ui.js, plexcourier-ui.css   the page, scene badge and settings panel Stash's web UI loads
//                  (the manifest's `ui:` section; reference/stash-ui-plugins.md)
// Stash parses every .yml under its plugins folder as a plugin (§1.1), so dist/ holds no other .yml and no
// node_modules.
import { build } from 'esbuild';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The classic-level prebuild folders shipped: linux x64 (glibc and musl), linux arm64, linux arm (v6, v7),
 * macOS (universal) and Windows x64. Not android, not ia32. Keep in step with SHIPPED_PREBUILDS in src/native.ts.
 */
export const PREBUILDS = ['linux-x64', 'linux-arm64', 'linux-arm', 'darwin-x64+arm64', 'win32-x64'];

/**
 * zod's `z` namespace re-exports every message locale (about 260 KB of the bundle); PlexCourier speaks
 * English only, so the locale index resolves to English alone.
 */
const englishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /[\\/]locales[\\/]index\.js$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer) ? { path: path.join(path.dirname(args.importer), '..', 'locales', 'index.js'), namespace: 'zod-locales' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: 'export { default as en } from "./en.js";',
      resolveDir: path.dirname(args.path),
      loader: 'js',
    }));
  },
};

/** The esbuild options for a Node entry; the dist test bundles its probe with the same ones. */
export function bundleOptions(entry, outfile, version = packageVersion()) {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // Smaller source parses faster, and start-up is paid on every task.
    minify: true,
    legalComments: 'eof',
    logLevel: 'error',
    // src/main.ts reports it (`--version`, status).
    define: { PLEXCOURIER_VERSION: JSON.stringify(version) },
    plugins: [englishOnly],
  };
}

/**
 * React, ReactDOM and the router are Stash's own, taken from window.PluginApi at run time: a second React
 * in the page breaks hooks. A UI module that imports one by value fails the build.
 */
const noSecondReact = {
  name: 'no-second-react',
  setup(b) {
    b.onResolve({ filter: /^(react|react-dom|react-router-dom|react-bootstrap)(\/.*)?$/ }, (args) => ({
      errors: [{ text: `${args.path} is imported by ${path.relative(root, args.importer)}: take it from window.PluginApi instead (src/ui/api.ts)` }],
    }));
  },
};

/** The esbuild options for the UI bundle: one JS file and one CSS file, for the browsers Stash supports. */
export function uiBundleOptions(distDir, version = packageVersion()) {
  return {
    entryPoints: { 'plexcourier-ui': path.join(root, 'src', 'ui', 'index.tsx') },
    outdir: distDir,
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: ['es2019', 'chrome80', 'firefox78', 'safari13'],
    minify: true,
    legalComments: 'none',
    logLevel: 'error',
    jsx: 'transform',
    jsxFactory: 'React.createElement',
    jsxFragment: 'React.Fragment',
    banner: { js: `/* PlexCourier ${version}: UI for Stash (window.PluginApi) */` },
    plugins: [noSecondReact],
  };
}

async function buildUi(distDir, version) {
  await build(uiBundleOptions(distDir, version));
  await build({
    entryPoints: { 'plexcourier-ui': path.join(root, 'src', 'ui', 'plexcourier.css') },
    outdir: distDir,
    bundle: true,
    minify: true,
    logLevel: 'error',
  });
}

export function packageVersion() {
  return JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version;
}

/** The manifest with the package version substituted when it carries a `version:` line. */
export function renderManifest(manifest, version) {
  return manifest.replace(/^version:.*$/m, `version: ${version}`);
}

function copyPrebuilds(distDir) {
  const from = path.join(root, 'node_modules', 'classic-level', 'prebuilds');
  for (const dir of PREBUILDS) {
    const source = path.join(from, dir);
    if (!existsSync(source)) throw new Error(`build: ${source} is missing; run \`npm ci\` to reinstall classic-level`);
    cpSync(source, path.join(distDir, 'prebuilds', dir), { recursive: true });
  }
}

// The prebuilt binaries contain LevelDB and Snappy, whose licenses ask for their notices to travel with them.
function writeNotices(distDir) {
  const level = path.join(root, 'node_modules', 'classic-level');
  const sources = [
    ['classic-level', path.join(level, 'LICENSE')],
    ['LevelDB', path.join(level, 'deps', 'leveldb', 'leveldb-1.20', 'LICENSE')],
    ['Snappy', path.join(level, 'deps', 'snappy', 'snappy', 'COPYING')],
  ];
  const parts = sources
    .filter(([, file]) => existsSync(file))
    .map(([name, file]) => `${name}\n${'='.repeat(name.length)}\n\n${readFileSync(file, 'utf8').trim()}\n`);
  writeFileSync(path.join(distDir, 'THIRD-PARTY-NOTICES.txt'), parts.join('\n'));
}

function sizeOf(file) {
  const stat = statSync(file);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(file).reduce((sum, name) => sum + sizeOf(path.join(file, name)), 0);
}

export async function buildDist({
  distDir = path.join(root, 'dist'),
  entry = path.join(root, 'src', 'main.ts'),
  manifestFile = path.join(root, 'plugin.yml'),
} = {}) {
  if (!existsSync(manifestFile)) throw new Error(`build: ${manifestFile} is missing; it is the plugin manifest dist/plexcourier.yml is made from`);
  if (!existsSync(entry)) throw new Error(`build: ${entry} is missing; it is the Node entry bundled into dist/plexcourier.cjs`);
  const version = packageVersion();

  rmSync(distDir, { recursive: true, force: true });
  mkdirSync(distDir, { recursive: true });
  await build(bundleOptions(entry, path.join(distDir, 'plexcourier.cjs'), version));

  const launcher = path.join(distDir, 'plexcourier.sh');
  cpSync(path.join(root, 'src', 'launcher', 'plexcourier.sh'), launcher);
  chmodSync(launcher, 0o755);
  // cmd.exe wants CRLF line endings.
  const cmd = readFileSync(path.join(root, 'src', 'launcher', 'sh.cmd'), 'utf8');
  writeFileSync(path.join(distDir, 'sh.cmd'), cmd.replace(/\r?\n/g, '\r\n'));
  writeFileSync(path.join(distDir, 'plexcourier.yml'), renderManifest(readFileSync(manifestFile, 'utf8'), version));
  await buildUi(distDir, version);
  copyPrebuilds(distDir);
  writeNotices(distDir);
  return distDir;
}

async function main() {
  const distDir = await buildDist();
  const lines = readdirSync(distDir)
    .sort()
    .map((name) => `  ${name.padEnd(24)} ${(sizeOf(path.join(distDir, name)) / 1024).toFixed(1).padStart(8)} KiB`);
  console.log(`build: ${path.relative(root, distDir) || distDir}/ (plugin version ${packageVersion()})`);
  console.log(lines.join('\n'));
  console.log(`  ${'total'.padEnd(24)} ${(sizeOf(distDir) / 1024).toFixed(1).padStart(8)} KiB`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  });
}
