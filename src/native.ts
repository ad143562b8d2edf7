import type { ClassicLevel as ClassicLevelType } from 'classic-level';

/**
 * The LevelDB binding, loaded on first use so that nothing on the hook path pays for it.
 * In the bundle, classic-level finds its native binary under `dist/prebuilds/` (scripts/build.mjs
 * copies them); a platform without one gets a clear error instead of a dlopen trace.
 */
export function loadClassicLevel(): typeof ClassicLevelType {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('classic-level') as { ClassicLevel: typeof ClassicLevelType }).ClassicLevel;
}
