import fs from 'node:fs';
import { writeFileAtomicSync } from '../atomic-write';

/**
 * `worker.pid` holds `<pid> <starttime>`, where starttime is field 22 of /proc/<pid>/stat on Linux
 * (`0` elsewhere). The sh launcher reads the same file: a pid alone is not enough, because pids are
 * reused and, in Docker, a dead worker stays a zombie of Stash (PID 1 never reaps), which `kill -0`
 * still reports alive.
 */
export function procStat(pid: number): { state: string; startTime: string } | undefined {
  try {
    const raw = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    const rest = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0] ?? '', startTime: rest[19] ?? '0' };
  } catch {
    return undefined;
  }
}

export function writePidFile(file: string): void {
  const startTime = process.platform === 'linux' ? (procStat(process.pid)?.startTime ?? '0') : '0';
  // Not durable: after a power cut no worker is alive anyway, and the launcher checks the pid it names.
  writeFileAtomicSync(file, `${process.pid} ${startTime}\n`);
}

/** Removes the pid file only if it still names this process. */
export function removePidFile(file: string): void {
  const entry = readPidFile(file);
  if (entry?.pid === process.pid) fs.rmSync(file, { force: true });
}

export function readPidFile(file: string): { pid: number; startTime: string } | undefined {
  try {
    const [pid, startTime] = fs.readFileSync(file, 'utf8').trim().split(/\s+/);
    const n = Number(pid);
    return Number.isInteger(n) && n > 0 ? { pid: n, startTime: startTime ?? '0' } : undefined;
  } catch {
    return undefined;
  }
}

/** The worker named in the pid file is running: it exists, is the same process, and is not a zombie. */
export function workerAlive(file: string): number | undefined {
  const entry = readPidFile(file);
  if (!entry) return undefined;
  if (process.platform === 'linux') {
    const stat = procStat(entry.pid);
    if (!stat || stat.state === 'Z' || stat.state === 'X') return undefined;
    if (entry.startTime !== '0' && stat.startTime !== entry.startTime) return undefined;
    return entry.pid;
  }
  try {
    process.kill(entry.pid, 0);
    return entry.pid;
  } catch {
    return undefined;
  }
}
