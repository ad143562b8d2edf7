/**
 * The fake Plex in a process of its own (test/fake-plex/cli.ts), as the benchmarks use it: like a real
 * server, it then shares no event loop with the client or with the fake Stash.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

export interface FakePlexChild {
  url: string;
  token: string;
  /** Sends one command line and returns its JSON answer. */
  send(cmd: string): Promise<Record<string, unknown>>;
  stop(): void;
}

export async function startFakePlexChild(args: string[]): Promise<FakePlexChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, '..', 'test', 'fake-plex', 'cli.ts'), ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: child.stdout });
  const queue: string[] = [];
  const waiters: ((s: string) => void)[] = [];
  lines.on('line', (l) => {
    const w = waiters.shift();
    if (w) w(l);
    else queue.push(l);
  });
  const next = () => new Promise<string>((r) => (queue.length ? r(queue.shift()!) : waiters.push(r)));
  const info = JSON.parse(await next()) as { url: string; token: string };
  let pending = Promise.resolve<unknown>(undefined);
  const send = (cmd: string) => {
    // One command at a time: answers come back in order on one stream.
    const answer = pending.then(async () => {
      child.stdin.write(cmd + '\n');
      return JSON.parse(await next()) as Record<string, unknown>;
    });
    pending = answer.catch(() => undefined);
    return answer;
  };
  return { url: info.url, token: info.token, send, stop: () => child.stdin.end() };
}
