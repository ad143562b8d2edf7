import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Repository root. */
export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const PLUGIN_YML = path.join(REPO, 'plugin.yml');
/** tsx's loader as an absolute URL, so a child started with cwd "/" (as Stash does) still finds it. */
export const TSX_LOADER = pathToFileURL(path.join(REPO, 'node_modules/tsx/dist/loader.mjs')).href;

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), `plexcourier-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Writes a manifest into `dir` whose exec runs a TypeScript entry through Node + tsx, with one hook
 * entry and one task entry; returns the .yml path.
 */
export function writeNodeManifest(dir: string, id: string, entry: string, extra = ''): string {
  const yml = path.join(dir, `${id}.yml`);
  writeFileSync(
    yml,
    [
      `name: ${id}`,
      'exec:',
      '  - node',
      `  - "--import=${TSX_LOADER}"`,
      `  - "${entry}"`,
      'interface: raw',
      extra,
      'hooks:',
      '  - name: Hook',
      '    triggeredBy: [Scene.Update.Post, Scene.Create.Post, Scene.Destroy.Post]',
      '    execArgs: [hook]',
      'tasks:',
      '  - name: Run',
      '    execArgs: [task]',
      '    defaultArgs: {mode: run}',
      '',
    ].join('\n'),
  );
  return yml;
}
