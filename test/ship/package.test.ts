import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listFiles, loadScripts, readZip, type PackageScript } from './helpers';

let tmp: string;
let dist: string;
let pack: PackageScript;
let zip: Buffer;
let index: string;

beforeAll(async () => {
  const scripts = await loadScripts();
  pack = scripts.pack;
  tmp = mkdtempSync(path.join(os.tmpdir(), 'plexcourier-package-'));
  dist = await scripts.build.buildDist({ distDir: path.join(tmp, 'dist') });
  mkdirSync(path.join(tmp, 'out'));
  const result = pack.packageDist({ distDir: dist, outDir: path.join(tmp, 'out') });
  zip = readFileSync(result.zipFile);
  index = readFileSync(result.indexFile, 'utf8');
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('npm run package', () => {
  it('zips exactly the files of dist/, at the zip root, byte for byte, with no directory entries', () => {
    const entries = readZip(zip);
    expect(entries.map((e) => e.name)).toEqual(listFiles(dist));
    expect(entries.some((e) => e.isDirectory)).toBe(false);
    for (const entry of entries) expect(entry.data.equals(readFileSync(path.join(dist, entry.name))), entry.name).toBe(true);
  });

  it('keeps the launcher executable and every other file plain', () => {
    const modes = Object.fromEntries(readZip(zip).map((e) => [e.name, e.mode]));
    expect(modes['plexcourier.sh']).toBe(0o755);
    expect(Object.entries(modes).filter(([name, mode]) => name !== 'plexcourier.sh' && mode !== 0o644)).toEqual([]);
  });

  it('stays small enough for Stash’s 10-second download (under 3 MB)', () => {
    expect(zip.length).toBeLessThan(3 * 1024 * 1024);
  });

  it('writes an index entry whose sha256 is the zip’s, in Stash’s source index format', () => {
    const sha256 = createHash('sha256').update(zip).digest('hex');
    expect(index).toMatch(/^- id: plexcourier$/m);
    expect(index).toMatch(/^ {2}name: "PlexCourier"$/m);
    expect(index).toMatch(/^ {2}version: "\d+\.\d+\.\d+(-[0-9a-f]+)?"$/m);
    expect(index).toMatch(/^ {2}date: "\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"$/m);
    expect(index).toMatch(/^ {2}path: "plexcourier\.zip"$/m);
    expect(index).toContain(`  sha256: ${sha256}\n`);
    expect(index).toMatch(/^ {2}metadata:\n {4}description: ".+"$/m);
  });

  it('gives the same bytes and the same index when run again on the same commit', () => {
    const again = path.join(tmp, 'again');
    mkdirSync(again);
    const result = pack.packageDist({ distDir: dist, outDir: again });
    expect(readFileSync(result.zipFile).equals(zip)).toBe(true);
    expect(readFileSync(result.indexFile, 'utf8')).toBe(index);
  });

  it('dates the package from SOURCE_DATE_EPOCH when it is set', () => {
    const dated = path.join(tmp, 'dated');
    mkdirSync(dated);
    const result = pack.packageDist({ distDir: dist, outDir: dated, env: { SOURCE_DATE_EPOCH: '1767225600' } });
    expect(readFileSync(result.indexFile, 'utf8')).toContain('  date: "2026-01-01 00:00:00"\n');
    expect(statSync(result.zipFile).size).toBe(zip.length);
  });
});
