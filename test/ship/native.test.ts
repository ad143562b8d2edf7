import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { currentTarget, describeTarget, loadClassicLevel, SHIPPED_PREBUILDS, unsupportedTargetError } from '../../src/native';

describe('which platforms have a LevelDB binary', () => {
  it.each([
    ['linux', 'x64', 'glibc'],
    ['linux', 'x64', 'musl'],
    ['linux', 'arm64', 'glibc'],
    ['linux', 'arm', 'glibc'],
    ['darwin', 'x64', null],
    ['darwin', 'arm64', null],
    ['win32', 'x64', null],
  ] as const)('%s-%s (%s) is served by a shipped prebuild', (platform, arch, libc) => {
    expect(unsupportedTargetError({ platform, arch, libc })).toBeNull();
  });

  it('names Alpine on arm64, the official Stash image on ARM, and says what to do', () => {
    const message = unsupportedTargetError({ platform: 'linux', arch: 'arm64', libc: 'musl' });
    expect(message).toMatch(/linux-arm64 \(musl\)/);
    expect(message).toMatch(/Alpine/);
    expect(message).toMatch(/build\/Release\/classic-level\.node/);
    expect(message).toMatch(/glibc-based image/);
    expect(message?.includes('\n')).toBe(false);
  });

  it.each([
    ['linux', 'arm', 'musl'],
    ['win32', 'ia32', null],
    ['win32', 'arm64', null],
    ['freebsd', 'x64', null],
    ['android', 'arm64', null],
  ] as const)('%s-%s (%s) gets one clear line naming the platform', (platform, arch, libc) => {
    const message = unsupportedTargetError({ platform, arch, libc });
    expect(message).toContain(describeTarget({ platform, arch, libc }));
    expect(message?.includes('\n')).toBe(false);
  });

  it('ships a prebuild folder for every supported platform and no other', () => {
    expect([...SHIPPED_PREBUILDS].sort()).toEqual(['darwin-x64+arm64', 'linux-arm', 'linux-arm64', 'linux-x64', 'win32-x64']);
  });

  it('sees this machine as a supported target', () => {
    const target = currentTarget();
    expect(target.platform).toBe(process.platform);
    expect(unsupportedTargetError(target)).toBeNull();
  });
});

describe('loadClassicLevel', () => {
  it('opens a real LevelDB store that keeps what was written across a reopen', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'plexcourier-native-'));
    try {
      const ClassicLevel = await loadClassicLevel();
      const location = path.join(dir, 'queue');
      const db = new ClassicLevel<string, string>(location);
      await db.put('job:45', 'ready');
      await db.close();
      const again = new (await loadClassicLevel())<string, string>(location);
      expect(await again.get('job:45')).toBe('ready');
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
