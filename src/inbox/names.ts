import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import type { DataPaths } from '../paths';

/** What an inbox file carries: a hook event (Stash's stdin bytes) or a command from a task. */
export type InboxKind = 'event' | 'cmd';

export interface InboxFileName {
  /** Epoch milliseconds when the writer named the file (the sh launcher writes seconds * 1000). */
  ms: number;
  pid: number;
  nonce: string;
  kind: InboxKind;
}

/** `<ms13>-<pid>-<nonce>.<kind>`; fixed-width ms so that names sort by time. */
const NAME = /^(\d{13})-(\d+)-([0-9a-z]+)\.(event|cmd)$/;

let counter = 0;

/** A fresh, unique, time-sortable inbox file name. */
export function inboxFileName(kind: InboxKind, now: number = Date.now()): string {
  if (!Number.isSafeInteger(now) || now < 0 || now > 9_999_999_999_999) {
    throw new RangeError(`inbox file time ${now} is outside 0..9999999999999 ms`);
  }
  counter = (counter + 1) % 1_679_616; // 36^4
  // A fixed-width counter first, so that one process's files in the same ms sort in write order; random
  // bits after it keep names unique even if a pid is reused within the same ms.
  const nonce = counter.toString(36).padStart(4, '0') + randomBytes(4).readUInt32BE(0).toString(36);
  return `${String(now).padStart(13, '0')}-${process.pid}-${nonce}.${kind}`;
}

/** How many complete inbox files are waiting in inbox/new. */
export async function pendingInboxFiles(paths: DataPaths): Promise<number> {
  try {
    return (await fsp.readdir(paths.inboxNew)).filter(isInboxFileName).length;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}

export function isInboxFileName(name: string): boolean {
  return NAME.test(name);
}

/** Parses an inbox file name; undefined for anything that is not one (litter, reason files, foreign files). */
export function parseInboxFileName(name: string): InboxFileName | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  return { ms: Number(m[1]), pid: Number(m[2]), nonce: m[3] as string, kind: m[4] as InboxKind };
}
