import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * End-to-end tests run the built plugin exactly as Stash would, so dist/ must match the sources.
 * `npm test` on a fresh clone builds it here once; CI's `npm run build` beforehand makes this a no-op.
 */
export default function setup(): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const bundle = path.join(root, 'dist', 'plexcourier.cjs');
  const built = fs.existsSync(bundle) ? fs.statSync(bundle).mtimeMs : 0;
  const newest = Math.max(...['src', 'plugin.yml', 'scripts'].flatMap((p) => mtimes(path.join(root, p))));
  if (built >= newest) return;
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
}

function mtimes(p: string): number[] {
  const st = fs.statSync(p);
  if (!st.isDirectory()) return [st.mtimeMs];
  return fs.readdirSync(p).flatMap((name) => mtimes(path.join(p, name)));
}
