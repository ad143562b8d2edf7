import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHIPPED_PREBUILDS } from '../../src/native';
import { listFiles, loadScripts, type BuildScript } from './helpers';
import { loadManifest } from '../stash-host/manifest';

const repo = path.resolve(__dirname, '../..');
let tmp: string;
let dist: string;
let build: BuildScript;

beforeAll(async () => {
  ({ build } = await loadScripts());
  tmp = mkdtempSync(path.join(os.tmpdir(), 'plexcourier-build-'));
  // The same function `npm run build` runs, aimed at a private folder so that a test never rewrites the
  // dist/ other suites may be using.
  dist = await build.buildDist({ distDir: path.join(tmp, 'dist') });
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('npm run build', () => {
  it('writes exactly the plugin folder: the bundle, the launcher, its Windows fallback, the manifest, the UI, notices and the shipped prebuilds', () => {
    const prebuilds = SHIPPED_PREBUILDS.flatMap((dir) =>
      listFiles(path.join(repo, 'node_modules', 'classic-level', 'prebuilds', dir)).map((f) => `prebuilds/${dir}/${f}`),
    );
    expect(listFiles(dist)).toEqual(
      ['THIRD-PARTY-NOTICES.txt', 'plexcourier-ui.css', 'plexcourier-ui.js', 'plexcourier.cjs', 'plexcourier.sh', 'plexcourier.yml', 'sh.cmd', ...prebuilds].sort(),
    );
    expect(prebuilds).toContain('prebuilds/linux-x64/classic-level.musl.node');
    expect(prebuilds.some((f) => f.includes('android') || f.includes('ia32'))).toBe(false);
  });

  it('lists one UI script and one stylesheet in the manifest, both built, with no React of its own inside', () => {
    const manifest = loadManifest(path.join(dist, 'plexcourier.yml'));
    expect(manifest.ui).toMatchObject({ javascript: ['plexcourier-ui.js'], css: ['plexcourier-ui.css'] });
    const js = readFileSync(path.join(dist, 'plexcourier-ui.js'), 'utf8');
    // React's own sources carry these; the bundle must take React from window.PluginApi.
    expect(js).not.toMatch(/__SECRET_INTERNALS_DO_NOT_USE_OR_YOU_WILL_BE_FIRED|react\.production\.min/);
    expect(js).toContain('window.PluginApi');
    expect(js).toContain('/plugins/plexcourier');
    expect(readFileSync(path.join(dist, 'plexcourier-ui.css'), 'utf8')).toContain('.plexcourier-page');
  });

  it('copies exactly the prebuild folders loadClassicLevel expects', () => {
    expect([...build.PREBUILDS].sort()).toEqual([...SHIPPED_PREBUILDS].sort());
  });

  it('leaves nothing else Stash would parse as a plugin: one .yml, no node_modules', () => {
    const files = listFiles(dist);
    expect(files.filter((f) => f.endsWith('.yml'))).toEqual(['plexcourier.yml']);
    expect(files.some((f) => f.split('/').includes('node_modules'))).toBe(false);
  });

  it('writes the manifest as dist/plexcourier.yml, with the package version', () => {
    const manifest = readFileSync(path.join(repo, 'plugin.yml'), 'utf8');
    const version = build.packageVersion();
    expect(readFileSync(path.join(dist, 'plexcourier.yml'), 'utf8')).toBe(manifest.replace(/^version:.*$/m, `version: ${version}`));
  });

  it('makes the launcher executable and identical to its source', () => {
    expect(statSync(path.join(dist, 'plexcourier.sh')).mode & 0o777).toBe(0o755);
    expect(readFileSync(path.join(dist, 'plexcourier.sh'), 'utf8')).toBe(readFileSync(path.join(repo, 'src', 'launcher', 'plexcourier.sh'), 'utf8'));
  });

  it('gives sh.cmd the CRLF line endings cmd.exe expects, running the bundle next to it', () => {
    const cmd = readFileSync(path.join(dist, 'sh.cmd'), 'utf8');
    expect(cmd.split('\r\n').length).toBeGreaterThan(5);
    expect(cmd.replace(/\r\n/g, '')).not.toMatch(/\n/);
    expect(cmd).toContain('"%~dp0plexcourier.cjs"');
  });

  it('produces a bundle that starts with no node_modules and reports the package version', () => {
    const run = spawnSync(process.execPath, [path.join(dist, 'plexcourier.cjs'), '--version'], { cwd: '/', encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe(build.packageVersion());
  });

  it('produces a bundle whose `status --json` prints one JSON object for a fresh data directory', () => {
    const run = spawnSync(process.execPath, [path.join(dist, 'plexcourier.cjs'), 'status', '--json'], {
      cwd: '/',
      encoding: 'utf8',
      env: { ...process.env, PLEXCOURIER_DATA_DIR: path.join(tmp, 'data') },
    });
    expect(run.status).toBe(0);
    expect(typeof JSON.parse(run.stdout)).toBe('object');
  });
});
