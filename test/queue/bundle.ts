import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Bundles a child-process script from its TypeScript source into one CommonJS file, as the product is
 * shipped, so a child starts in tens of milliseconds instead of paying for tsx on every spawn.
 * classic-level stays external; the bundle is written under node_modules/.cache so that `import('classic-level')`
 * resolves from it.
 */
export async function bundleScript(entry: string): Promise<string> {
  const outDir = path.join(root, 'node_modules', '.cache', 'plexsync-queue-tests', String(process.pid));
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${path.basename(entry, '.ts')}.cjs`);
  process.on('exit', () => rmSync(outDir, { recursive: true, force: true }));
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
