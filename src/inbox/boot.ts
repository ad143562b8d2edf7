import { promises as fsp, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseInboxFileName } from './names';

/**
 * Spooled events and machine restarts. The sh launcher does not fsync a spool file: `sync FILE DIR` costs a
 * fork plus a journal commit, 1.7–5 ms a scene here (bench/hook.ts), more than the rest of the hook, and Stash
 * makes the Save wait for it. So a power cut can lose an event whose file had not reached the disk yet: one written in the second or
 * so before the worker took it into the store (a synced LevelDB batch). The worker therefore remembers the
 * newest event it took in and the boot it did so in (`inbox/last-event.json`); its first run after the boot
 * id changed asks Stash which scenes changed between that event and the restart, queues them again, and
 * says in its log whether events could have been lost. The record is written without fsync too: a stale
 * one only widens the window that is checked.
 */

export interface LastEventRecord {
  /** /proc/sys/kernel/random/boot_id when the record was written. */
  bootId: string;
  /** Epoch ms of the newest event file taken in (from its name), or undefined before the first one. */
  lastEventAt?: number;
}

export const LAST_EVENT_FILE = 'last-event.json';

/** This boot's id (Linux), or undefined where the kernel has none to give. */
export function currentBootId(file = '/proc/sys/kernel/random/boot_id'): string | undefined {
  try {
    const id = readFileSync(file, 'utf8').trim();
    return id || undefined;
  } catch {
    return undefined;
  }
}

/** When this boot began, in epoch ms. */
export function bootTimeMs(now = Date.now()): number {
  return now - os.uptime() * 1000;
}

export async function readLastEvent(inboxDir: string): Promise<LastEventRecord | undefined> {
  try {
    const raw = JSON.parse(await fsp.readFile(path.join(inboxDir, LAST_EVENT_FILE), 'utf8')) as Partial<LastEventRecord>;
    if (typeof raw.bootId !== 'string' || raw.bootId === '') return undefined;
    return { bootId: raw.bootId, ...(typeof raw.lastEventAt === 'number' ? { lastEventAt: raw.lastEventAt } : {}) };
  } catch {
    return undefined;
  }
}

export async function writeLastEvent(inboxDir: string, record: LastEventRecord): Promise<void> {
  const file = path.join(inboxDir, LAST_EVENT_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  await fsp.writeFile(tmp, JSON.stringify(record), { mode: 0o600 });
  await fsp.rename(tmp, file);
}

/** The newest event time among these inbox file names, or undefined when none is an event. */
export function newestEventAt(names: string[]): number | undefined {
  let newest: number | undefined;
  for (const name of names) {
    const parsed = parseInboxFileName(name);
    if (parsed?.kind === 'event' && (newest === undefined || parsed.ms > newest)) newest = parsed.ms;
  }
  return newest;
}

/** What the first ingestion after a restart found, for one log line. */
export interface RestartFindings {
  /** The newest event taken in before the restart. */
  lastEventAt: number;
  bootAt: number;
  /** Scenes Stash changed after that event and before the restart: their events could have been lost. */
  changedSceneIds: string[];
  /** Spooled event files the restart cut short (moved to inbox/bad). */
  cutShort: number;
}

const when = (t: number) => new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');

/** One line for the worker log: whether events could have been lost in the restart, and what was done. */
export function describeRestart(f: RestartFindings): { level: 'info' | 'warn'; line: string } {
  const head = `the machine restarted (at ${when(f.bootAt)}) since the last event was taken in (${when(f.lastEventAt)}); hook events are spooled without an fsync, so a power cut can lose one written in the last second or so before it.`;
  const cut = f.cutShort > 0 ? ` ${f.cutShort} spooled event file(s) were cut short by the restart and moved to inbox/bad.` : '';
  if (f.changedSceneIds.length === 0) {
    return {
      level: f.cutShort > 0 ? 'warn' : 'info',
      line: `${head}${cut} Stash has no scene changed between that event and the restart: no event was lost.`,
    };
  }
  const ids = f.changedSceneIds;
  const eg = ids.slice(0, 5).join(', ') + (ids.length > 5 ? ' …' : '');
  return {
    level: 'warn',
    line: `${head}${cut} Stash has ${ids.length} scene(s) changed between that event and the restart (${eg}): their events could have been lost, so they are queued again (an unchanged scene costs nothing).`,
  };
}
