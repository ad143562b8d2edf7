import path from 'node:path';
import type { DataPaths } from '../paths';

/** Where the page's read-only queries go (src/worker/queries.ts); its own module, so asking costs no schemas. */
export function queryDir(paths: DataPaths): string {
  return path.join(paths.root, 'queries');
}
