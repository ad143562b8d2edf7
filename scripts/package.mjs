#!/usr/bin/env node
// `npm run package`: plexcourier.zip (the contents of dist/, at the zip's root) and index.yml, a Stash plugin
// source index with that one package (reference/stash-plugin-protocol.md §9.1), both at the repository root.
// Deterministic: entries sorted, fixed timestamps, and the index date taken from the last git commit, so the
// same commit always gives the same bytes and the same sha256. No zip library: a small writer over node:zlib.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// --- zip ---------------------------------------------------------------------------------------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(data) {
  if (typeof zlib.crc32 === 'function') return zlib.crc32(data) >>> 0; // Node >= 20.15
  let crc = 0xffffffff;
  for (const byte of data) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

// 1980-01-01 00:00:00, the earliest DOS time: a fixed stamp keeps the zip identical across builds.
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const UNIX_CREATOR = 3 << 8; // "made by Unix": Go's archive/zip then honours the mode bits (§9.2 keeps them)
const VERSION = 20;

/**
 * A zip of `entries` ({ name, data, mode }), in the given order. Each is deflated unless that does not
 * make it smaller. Unix modes go into the external attributes, so the launcher stays executable.
 */
export function zipEntries(entries) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const { name, data, mode } of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const deflated = zlib.deflateRawSync(data, { level: 9 });
    const stored = deflated.length >= data.length;
    const body = stored ? data : deflated;
    const crc = crc32(data);
    const flags = /[^\x20-\x7e]/.test(name) ? 0x0800 : 0; // UTF-8 names only when needed

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(VERSION, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(stored ? 0 : 8, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, nameBytes, body);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(UNIX_CREATOR | VERSION, 4);
    central.writeUInt16LE(VERSION, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(stored ? 0 : 8, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt16LE(0, 30); // extra
    central.writeUInt16LE(0, 32); // comment
    central.writeUInt16LE(0, 34); // disk
    central.writeUInt16LE(0, 36); // internal attributes
    central.writeUInt32LE(((0o100000 | mode) << 16) >>> 0, 38); // S_IFREG | permission bits
    central.writeUInt32LE(offset, 42);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + body.length;
  }
  const centralSize = centrals.reduce((sum, b) => sum + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}

/** Every file under `dir`, as zip entries with `/` paths, sorted; modes normalised to 0755 or 0644. */
export function collectEntries(dir) {
  const files = [];
  const walk = (rel) => {
    for (const name of readdirSync(path.join(dir, rel))) {
      const relPath = rel ? `${rel}/${name}` : name;
      const stat = statSync(path.join(dir, relPath));
      if (stat.isDirectory()) walk(relPath);
      else if (stat.isFile()) files.push({ name: relPath, mode: stat.mode & 0o111 ? 0o755 : 0o644 });
    }
  };
  walk('');
  files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return files.map((f) => ({ ...f, data: readFileSync(path.join(dir, f.name)) }));
}

// --- index.yml ---------------------------------------------------------------------------------------

function git(args) {
  return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

/** The time and short hash the package is stamped with: SOURCE_DATE_EPOCH if set, else the last commit. */
export function sourceStamp(env = process.env) {
  let hash = '';
  try {
    hash = git(['log', '-1', '--format=%h']);
  } catch {
    // Not a checkout (a source tarball): the version goes without a hash.
  }
  let epoch;
  if (/^\d+$/.test(env.SOURCE_DATE_EPOCH ?? '')) epoch = Number(env.SOURCE_DATE_EPOCH);
  else {
    try {
      epoch = Number(git(['log', '-1', '--format=%ct']));
    } catch {
      throw new Error('package: no git history to date the package from; run inside the git checkout or set SOURCE_DATE_EPOCH');
    }
  }
  // Stash's index date: "YYYY-MM-DD HH:MM:SS" in UTC; upgrades are detected by it alone (§9.1).
  const date = new Date(epoch * 1000).toISOString().replace('T', ' ').slice(0, 19);
  return { date, hash };
}

/** A top-level `key: value` of the manifest, unquoted. */
function manifestField(manifest, key) {
  const m = new RegExp(`^${key}:[ \\t]*(.*)$`, 'm').exec(manifest);
  if (!m) return undefined;
  const value = m[1].trim();
  if (value === '' || value.startsWith('>') || value.startsWith('|')) return undefined; // block scalars: not worth parsing here
  return /^(['"]).*\1$/.test(value) ? value.slice(1, -1) : value;
}

const yamlString = (s) => JSON.stringify(s); // a JSON string is a valid double-quoted YAML scalar

export function renderIndex({ name, description, version, date, zipName, sha256 }) {
  return [
    '- id: plexcourier',
    `  name: ${yamlString(name)}`,
    `  version: ${yamlString(version)}`,
    `  date: ${yamlString(date)}`,
    `  path: ${yamlString(zipName)}`,
    `  sha256: ${sha256}`,
    '  metadata:',
    `    description: ${yamlString(description)}`,
    '',
  ].join('\n');
}

export function packageDist({ distDir = path.join(root, 'dist'), outDir = root, env = process.env } = {}) {
  const manifestFile = path.join(distDir, 'plexcourier.yml');
  if (!existsSync(manifestFile)) throw new Error(`package: ${manifestFile} is missing; run \`npm run build\` first`);
  const manifest = readFileSync(manifestFile, 'utf8');
  const zip = zipEntries(collectEntries(distDir));
  const zipName = 'plexcourier.zip';
  writeFileSync(path.join(outDir, zipName), zip);
  const sha256 = createHash('sha256').update(zip).digest('hex');
  const { date, hash } = sourceStamp(env);
  const baseVersion = manifestField(manifest, 'version') ?? JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version;
  const index = renderIndex({
    name: manifestField(manifest, 'name') ?? 'PlexCourier',
    description: manifestField(manifest, 'description') ?? 'Keeps Plex Media Server metadata in step with Stash',
    version: hash ? `${baseVersion}-${hash}` : baseVersion,
    date,
    zipName,
    sha256,
  });
  writeFileSync(path.join(outDir, 'index.yml'), index);
  return { zipFile: path.join(outDir, zipName), indexFile: path.join(outDir, 'index.yml'), size: zip.length, sha256 };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const { zipFile, indexFile, size, sha256 } = packageDist();
    console.log(`package: ${path.relative(root, zipFile)} ${(size / 1024).toFixed(1)} KiB, sha256 ${sha256}`);
    console.log(`package: ${path.relative(root, indexFile)}`);
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  }
}
