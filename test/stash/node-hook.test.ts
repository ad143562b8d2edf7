import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runNodeHook } from '../../src/hook/node-hook';
import { parsePluginInput } from '../../src/stash/input';
import { dataPaths } from '../../src/paths';
import { buildStdin, loadManifest, runHook } from '../stash-host/host';
import { PLUGIN_YML, REPO, TSX_LOADER, tempDir, writeNodeManifest } from './fixtures';

const ENTRY = path.join(REPO, 'test/stash/node-hook-entry.ts');
const manifest = loadManifest(PLUGIN_YML);
const conn = { Port: 9999, sessionCookie: 'cookie-value-abcdef' };

function validEvent(extraInput: Record<string, unknown> = {}): string {
  return buildStdin(manifest, conn, {
    hookContext: { id: 45, type: 'Scene.Update.Post', input: { id: '45', title: 'New', tag_ids: ['21'], ...extraInput }, inputFields: ['id', 'title', 'tag_ids'] },
  });
}

function spooled(dataDir: string): string[] {
  const dirs = dataPaths(dataDir);
  const list = (d: string) => (existsSync(d) ? readdirSync(d).map((f) => path.join(d, f)) : []);
  return [...list(dirs.inboxNew), ...list(dirs.inboxTmp)];
}

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('nodehook');
});
afterEach(() => tmp.cleanup());

describe('runNodeHook', () => {
  it('spools the exact stdin bytes of a valid event into inbox/new and reports it', async () => {
    const bytes = Buffer.from(validEvent());
    const r = await runNodeHook(bytes, tmp.dir);
    expect(r.exitCode).toBe(0);
    expect(r.json.error).toBeUndefined();
    expect(String(r.json.output)).toMatch(/^queued Scene\.Update\.Post scene 45/);
    const files = spooled(tmp.dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/inbox[\\/]new[\\/]\d{13}-\d+-[0-9a-z]+\.event$/);
    expect(readFileSync(files[0]!).equals(bytes)).toBe(true);
  });

  it('spools an event it does not act on too (relevance is the worker\'s call)', async () => {
    const text = buildStdin(manifest, conn, { hookContext: { id: 45, type: 'Scene.Update.Post', input: { id: '45', o_counter: 3 }, inputFields: ['id', 'o_counter'] } });
    expect((await runNodeHook(Buffer.from(text), tmp.dir)).exitCode).toBe(0);
    expect(spooled(tmp.dir)).toHaveLength(1);
  });

  it('refuses task input (no hookContext) without spooling', async () => {
    const r = await runNodeHook(Buffer.from(buildStdin(manifest, conn, { mode: 'status' })), tmp.dir);
    expect(r).toMatchObject({ exitCode: 1, json: { error: expect.stringMatching(/hookContext/) } });
    expect(spooled(tmp.dir)).toEqual([]);
  });

  it('reports an unwritable data directory as one clear line', async () => {
    // A regular file where the data directory should be.
    const blocker = path.join(tmp.dir, 'not-a-dir');
    writeFileSync(blocker, '');
    const r = await runNodeHook(Buffer.from(validEvent()), blocker);
    expect(r.exitCode).toBe(1);
    expect(r.json.error).toMatch(/could not queue the hook event/);
    expect(r.json.error).not.toContain('\n');
  });

  it('fuzz: a mutated event is either refused with one line or spooled as an event Stash could send', async () => {
    const base = validEvent();
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const swaps = ['"x"', '1', 'null', '[]', '{}', 'true', '-1', '1.5', '"0.0.0.0"'];
    let refused = 0;
    for (let i = 0; i < 300; i++) {
      let text: string;
      switch (i % 4) {
        case 0: // truncated
          text = base.slice(0, rand(base.length));
          break;
        case 1: {
          // one byte replaced
          const at = rand(base.length);
          text = base.slice(0, at) + String.fromCharCode(rand(128)) + base.slice(at + 1);
          break;
        }
        default: {
          // one JSON value swapped for another type
          const values = [...base.matchAll(/:("[^"]*"|-?\d+(?:\.\d+)?|null|true|false)/g)];
          const m = values[rand(values.length)]!;
          const at = m.index! + 1;
          text = base.slice(0, at) + swaps[rand(swaps.length)] + base.slice(at + m[1]!.length);
        }
      }
      const before = spooled(tmp.dir).length;
      const r = await runNodeHook(Buffer.from(text), tmp.dir);
      const after = spooled(tmp.dir);
      if (r.exitCode === 0) {
        expect(after.length).toBe(before + 1);
        const newest = after.sort().at(-1)!;
        // Whatever was spooled parses as a hook event.
        expect(parsePluginInput(readFileSync(newest)).hook).toBeDefined();
      } else {
        refused++;
        expect(after.length).toBe(before);
        expect(r.json.error).toMatch(/\S/);
        expect(r.json.error).not.toContain('\n');
      }
    }
    expect(refused).toBeGreaterThan(100);
  });
});

/** Runs the Node hook entry as its own process, with raw stdin bytes. */
function runEntry(stdin: Buffer, dataDir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`--import=${TSX_LOADER}`, ENTRY, dataDir], { cwd: '/', stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdin.on('error', () => undefined);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.end(stdin);
  });
}

describe('the Node hook as a child process', () => {
  const valid = validEvent();
  const garbage = Buffer.alloc(64 * 1024);
  for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919) % 256;
  const cases: [string, Buffer][] = [
    ['empty stdin', Buffer.alloc(0)],
    ['JSON cut in the middle', Buffer.from(valid.slice(0, Math.floor(valid.length / 2)))],
    ['JSON cut before the last brace', Buffer.from(valid.slice(0, -1))],
    ['binary garbage', garbage],
    ['a JSON string', Buffer.from('"hello"')],
    ['Port as text', Buffer.from(valid.replace('"Port":9999', '"Port":"9999"'))],
    ['hookContext.id as text', Buffer.from(valid.replace('"id":45', '"id":"forty-five"'))],
    ['inputFields as a number', Buffer.from(valid.replace(/"inputFields":\[[^\]]*\]/, '"inputFields":7'))],
    ['20 MiB of not-JSON', Buffer.alloc(20 * 1024 * 1024, 'a')],
  ];

  it.each(cases)('%s: one JSON error, no stack trace, nothing spooled', async (_name, bytes) => {
    const r = await runEntry(bytes, tmp.dir);
    expect(r.code).toBe(1);
    const result = JSON.parse(r.stdout);
    expect(Object.keys(result).sort()).toEqual(['error', 'output']);
    expect(result.error).not.toContain('\n');
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    for (const line of r.stderr.split('\n').filter(Boolean)) expect(line.startsWith('\x01')).toBe(true);
    expect(spooled(tmp.dir)).toEqual([]);
  });

  it('a valid event with a 20 MiB base64 cover image is spooled whole', async () => {
    const bytes = Buffer.from(validEvent({ cover_image: 'data:image/jpeg;base64,' + 'A'.repeat(20 * 1024 * 1024) }));
    const r = await runEntry(bytes, tmp.dir);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).output).toMatch(/^queued/);
    const files = spooled(tmp.dir);
    expect(files).toHaveLength(1);
    expect(readFileSync(files[0]!).equals(bytes)).toBe(true);
  });

  it('started by the Stash host for a bulk edit, it spools one event per hook', async () => {
    const yml = writeNodeManifest(tmp.dir, 'nodehook', ENTRY);
    // The manifest's hook execArgs come after the entry; the entry takes the data dir from argv[2].
    const dataDir = path.join(tmp.dir, 'data-via-host');
    const text = readFileSync(yml, 'utf8').replace(`  - "${ENTRY}"`, `  - "${ENTRY}"\n  - "${dataDir}"`);
    writeFileSync(yml, text);
    const r = await runHook(yml, { type: 'Scene.Create.Post', id: 77, input: null }, conn);
    expect(r.error).toBeNull();
    expect(r.output).toMatch(/^queued Scene\.Create\.Post scene 77/);
    expect(spooled(dataDir)).toHaveLength(1);
  });
});
