import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { inboxFileName, isInboxFileName, parseInboxFileName, writeInboxFile } from '../../src/inbox/write';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempInbox = () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'plexcourier-inbox-'));
  dirs.push(dir);
  return path.join(dir, 'inbox');
};

describe('inbox file names', () => {
  it('are <ms13>-<pid>-<nonce>.<kind>, parse back, and sort by time', () => {
    const a = inboxFileName('event', 5);
    const b = inboxFileName('cmd', 1_800_000_000_000);
    expect(a).toMatch(/^0000000000005-\d+-[0-9a-z]+\.event$/);
    expect(parseInboxFileName(b)).toMatchObject({ ms: 1_800_000_000_000, pid: process.pid, kind: 'cmd' });
    const names = [9_000, 100, 1_000_000, 20].map((t) => inboxFileName('event', t));
    expect([...names].sort().map((n) => parseInboxFileName(n)!.ms)).toEqual([20, 100, 9_000, 1_000_000]);
  });

  it('accepts the launcher names and rejects litter and foreign files', () => {
    expect(isInboxFileName('1800000000000-4242-7.event')).toBe(true);
    for (const name of ['1800000000000-4242-7.event.tmp', '180000000000-1-a.event', '1800000000000-1-A.event', '1800000000000-1-a.json', 'x.event.reason']) {
      expect(isInboxFileName(name), name).toBe(false);
      expect(parseInboxFileName(name)).toBeUndefined();
    }
  });

  it('are unique within a millisecond', () => {
    const names = new Set(Array.from({ length: 5000 }, () => inboxFileName('event', 42)));
    expect(names.size).toBe(5000);
  });
});

describe('writeInboxFile', () => {
  it('creates the inbox, leaves the exact bytes in new/ with owner-only permissions and nothing in tmp/', async () => {
    const inbox = tempInbox();
    const stdin = Buffer.from('{"server_connection":{"SessionCookie":{"Value":"secret"}},"args":{"hookContext":{"id":7}}}\n');
    const name = await writeInboxFile(inbox, 'event', stdin);
    expect(isInboxFileName(name)).toBe(true);
    const file = path.join(inbox, 'new', name);
    expect(readFileSync(file)).toEqual(stdin);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(path.join(inbox, 'tmp'))).toEqual([]);
  });

  it('writes many files at once without a collision', async () => {
    const inbox = tempInbox();
    const names = await Promise.all(Array.from({ length: 200 }, (_, i) => writeInboxFile(inbox, i % 2 ? 'cmd' : 'event', `{"i":${i}}`)));
    expect(new Set(names).size).toBe(200);
    expect(readdirSync(path.join(inbox, 'new')).sort()).toEqual([...names].sort());
  });

  it('fails with a one-line message naming the directory when the inbox cannot be created', async () => {
    const inbox = tempInbox();
    const blocker = path.dirname(inbox);
    // A file where the inbox folder should be.
    const { writeFileSync } = await import('node:fs');
    writeFileSync(inbox, 'not a directory');
    const err = (await writeInboxFile(inbox, 'event', 'x').catch((e: unknown) => e)) as Error;
    expect(err.message).toContain(path.join(inbox, 'tmp'));
    expect(err.message).not.toContain('\n');
    expect(existsSync(blocker)).toBe(true);
  });
});

describe('inbox file names from one process', () => {
  it('sort in the order they were made, even within one millisecond', () => {
    const names = Array.from({ length: 3000 }, () => inboxFileName('event', 7));
    expect([...names].sort()).toEqual(names);
  });
});
