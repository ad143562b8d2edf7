import { mkdirSync, rmdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bundleDir = () => path.join(root, 'node_modules', '.cache', 'plexcourier-queue-tests', String(process.pid));

/** Registers the removal of this test file's bundles; call at the top level of a test file that bundles. */
export function cleanBundlesAfterAll(): void {
  afterAll(() => {
    rmSync(bundleDir(), { recursive: true, force: true });
    try {
      rmdirSync(path.dirname(bundleDir())); // only when no other test process still has bundles there
    } catch {
      // not empty: another test file is running
    }
  });
}

/**
 * Bundles a child-process script from its TypeScript source into one CommonJS file, as the product is
 * shipped, so a child starts in tens of milliseconds instead of paying for tsx on every spawn.
 * classic-level stays external; the bundle is written under node_modules/.cache so that `import('classic-level')`
 * resolves from it.
 */
export async function bundleScript(entry: string): Promise<string> {
  const outDir = bundleDir();
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${path.basename(entry, '.ts')}.cjs`);
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: file,
    external: ['classic-level'],
    logLevel: 'silent',
  });
  return file;
}
