import type { ClassicLevel as ClassicLevelType } from 'classic-level';

/**
 * The LevelDB binding, loaded on first use so that nothing on the hook path pays for it
 * (a dynamic import stays lazy in the esbuild bundle). In the bundle, classic-level finds its
 * native binary under `dist/prebuilds/` (scripts/build.mjs copies them there).
 */
export async function loadClassicLevel(): Promise<typeof ClassicLevelType> {
  const mod = await import('classic-level');
  return mod.ClassicLevel;
}
