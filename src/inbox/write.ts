import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { syncDir } from '../atomic-write';
import { inboxFileName, type InboxKind } from './names';

// This module is on the hook path: Node built-ins only, never LevelDB or zod.
export { inboxFileName, isInboxFileName, parseInboxFileName } from './names';
export type { InboxKind, InboxFileName } from './names';

/** Owner-only: event files carry Stash's session cookie (reference/stash-plugin-protocol.md §2). */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/**
 * Writes one inbox file atomically, Maildir style (reference/queue-research.md §6): create
 * `tmp/<name>` exclusively, write, fsync, rename into `new/<name>`, fsync the directory.
 * A process killed at any instant leaves either a complete file in `new/` or litter in `tmp/`.
 * Returns the file name.
 */
export async function writeInboxFile(inboxDir: string, kind: InboxKind, data: Buffer | string): Promise<string> {
  const tmpDir = path.join(inboxDir, 'tmp');
  const newDir = path.join(inboxDir, 'new');
  for (let tries = 0; ; tries++) {
    const name = inboxFileName(kind);
    const tmpPath = path.join(tmpDir, name);
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(tmpPath, 'wx', FILE_MODE);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && tries < 3) {
        // First write into a fresh data directory: create the inbox lazily so the common path pays nothing.
        await fsp.mkdir(tmpDir, { recursive: true, mode: DIR_MODE });
        await fsp.mkdir(newDir, { recursive: true, mode: DIR_MODE });
        continue;
      }
      if (code === 'EEXIST' && tries < 5) continue; // a fresh nonce next time
      throw new Error(`cannot create inbox file in ${tmpDir}: ${(err as Error).message}; check that the data directory is writable`);
    }
    try {
      await handle.writeFile(data);
      await handle.sync();
    } catch (err) {
      await handle.close().catch(() => undefined);
      await fsp.unlink(tmpPath).catch(() => undefined);
      throw new Error(`cannot write inbox file ${tmpPath}: ${(err as Error).message}`);
    }
    await handle.close();
    await fsp.mkdir(newDir, { recursive: true, mode: DIR_MODE });
    await renameWithRetry(tmpPath, path.join(newDir, name));
    await syncDir(newDir);
    return name;
  }
}

/** On Windows an antivirus scanner can hold the fresh file for a moment (reference/queue-research.md §8). */
async function renameWithRetry(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await fsp.rename(from, to);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (attempt >= 5 || !(code === 'EPERM' || code === 'EBUSY' || code === 'EACCES') || process.platform !== 'win32') {
        throw new Error(`cannot move inbox file ${from} into ${path.dirname(to)}: ${(err as Error).message}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20 * (attempt + 1)));
    }
  }
}
