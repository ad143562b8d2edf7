import fs, { promises as fsp } from 'node:fs';
import path from 'node:path';

/**
 * Replacing a file so that a reader sees the old content or the new, never half of it: write a
 * temporary file beside it, then rename it over the target (rename is atomic within a directory).
 *
 * `durable`: also survive a power cut — fsync the file before the rename and the directory after it.
 * Worth its milliseconds where losing the file loses work or identity (the Plex path index, the Plex
 * client id); not for files rewritten every second or read once (status.json, command results, the
 * pid file). Inbox files have their own writer (src/inbox/write.ts): they move between directories.
 */
export interface AtomicWriteOptions {
  durable?: boolean;
  /** Defaults to 0o600: everything in the data directory is private to the user. */
  mode?: number;
}

/** The content, or a function that streams it into the open temporary file (for large files). */
export type AtomicContent = string | Buffer | ((fh: fsp.FileHandle) => Promise<void>);

let counter = 0;
function tmpName(file: string): string {
  counter = (counter + 1) % 1_000_000;
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${counter}.tmp`);
}

export async function writeFileAtomic(file: string, content: AtomicContent, opts: AtomicWriteOptions = {}): Promise<void> {
  const tmp = tmpName(file);
  const fh = await fsp.open(tmp, 'w', opts.mode ?? 0o600);
  try {
    if (typeof content === 'function') await content(fh);
    else await fh.writeFile(content);
    if (opts.durable) await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await fsp.unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  try {
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.unlink(tmp).catch(() => undefined);
    throw err;
  }
  if (opts.durable) await syncDir(path.dirname(file));
}

export function writeFileAtomicSync(file: string, content: string | Buffer, opts: AtomicWriteOptions = {}): void {
  const tmp = tmpName(file);
  try {
    const fd = fs.openSync(tmp, 'w', opts.mode ?? 0o600);
    try {
      fs.writeFileSync(fd, content);
      if (opts.durable) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  if (opts.durable) syncDirSync(path.dirname(file));
}

/** Makes a rename in `dir` durable against power loss; directories cannot be opened for fsync on Windows. */
export async function syncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch {
    // Some file systems (network mounts) refuse a directory fsync; the rename is still atomic.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

function syncDirSync(dir: string): void {
  if (process.platform === 'win32') return;
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // As above: the rename is still atomic.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
