import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatLogLines, formatResult, MAX_LOG_LINE_BYTES, obfuscatePaths, truncateUtf8 } from '../../src/stash/log';
import { buildArgv, decodeStderrLine, loadManifest, parsePluginStdout, runBulkHooks, runHook, runTask, startTask } from '../stash-host/host';
import { REPO, tempDir, writeNodeManifest } from './fixtures';

const LOG_PLUGIN = path.join(REPO, 'test/stash/fixtures/log-plugin.ts');
const conn = { Port: 9999, sessionCookie: 'cookie-value-abcdef' };
let tmp: ReturnType<typeof tempDir>;
let yml: string;

beforeAll(() => {
  tmp = tempDir('host');
  yml = writeNodeManifest(tmp.dir, 'logplugin', LOG_PLUGIN);
});
afterAll(() => tmp.cleanup());

const task = (c: string) => runTask(yml, 'Run', { case: c }, conn);

describe('log and output conformance, through the host', () => {
  it('a normal run: info logged, debug hidden, one JSON object on stdout, exit 0', async () => {
    const r = await task('plain');
    expect(r.error).toBeNull();
    expect(r.output).toBe('plain');
    expect(r.exitCode).toBe(0);
    expect(r.logs).toEqual([{ level: 'info', msg: 'an info line' }]);
    expect(JSON.parse(r.stdout)).toEqual({ output: 'plain' });
  });

  it('the debug switch shows debug messages at info level', async () => {
    const r = await task('debug');
    expect(r.logs).toEqual([
      { level: 'info', msg: 'a debug detail' },
      { level: 'info', msg: 'an info line' },
    ]);
  });

  it('a 100 KiB message is cut below the 64 KiB limit and the logs after it still arrive', async () => {
    const r = await task('huge');
    expect(r.stderrClosed).toBe(false);
    expect(r.output).toBe('huge done');
    expect(r.logs.map((l) => l.msg.slice(0, 6))).toEqual(['before', 'xxxxxx', 'after']);
    expect(Buffer.byteLength(r.logs[1]!.msg)).toBeLessThanOrEqual(MAX_LOG_LINE_BYTES);
  });

  it('a closed stderr (Stash gave up on a long line) neither crashes the plugin nor loses its result', async () => {
    const r = await task('closed-stderr');
    expect(r.stderrClosed).toBe(true);
    expect(r.exitCode).toBe(0);
    expect(r.error).toBeNull();
    expect(r.output).toBe('survived');
  });

  it('progress is reported as 0–1: out-of-range values clamped, non-numbers dropped', async () => {
    const r = await task('progress');
    expect(r.progress).toEqual([0, 0, 0.25, 1, 1]);
    expect(r.logs).toEqual([]);
  });

  it('console output goes to the log, never to stdout', async () => {
    const r = await task('console');
    expect(JSON.parse(r.stdout)).toEqual({ output: { n: 1 } });
    expect(r.logs).toEqual([
      { level: 'info', msg: 'from console.log' },
      { level: 'error', msg: 'from console.error' },
      { level: 'warning', msg: '{"a":1}' },
    ]);
  });

  it('every line of a multi-line message carries the level prefix', async () => {
    const r = await task('multiline');
    expect(r.logs).toEqual([
      { level: 'error', msg: 'first line' },
      { level: 'error', msg: 'second line' },
      { level: 'error', msg: 'third line' },
    ]);
  });

  it('a failure: error in the JSON, the log line before it, exit code 1', async () => {
    const r = await task('fail');
    expect(r.error).toBe('something went wrong');
    expect(r.exitCode).toBe(1);
    expect(r.logs).toEqual([{ level: 'warning', msg: 'about to fail' }]);
  });

  it('registered secrets never reach the log', async () => {
    const r = await task('secret');
    expect(r.logs[0]!.msg).toBe('calling Plex with X-Plex-Token=***');
  });

  it('paths are obfuscated when asked, URLs left alone', async () => {
    const r = await task('obfuscate');
    const msg = r.logs[0]!.msg;
    expect(msg).not.toMatch(/Studio|scene 01/);
    expect(msg).toMatch(/^file \/[0-9a-f]{6}\/[0-9a-f]{6}\/[0-9a-f]{6}\.mp4 not in Plex at http:\/\/127\.0\.0\.1:32400\/library$/);
  });
});

describe('log formatting', () => {
  it('caps a line without splitting a multi-byte character', () => {
    const text = 'é'.repeat(10_000);
    const cut = truncateUtf8(text, 1001);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(1001);
    expect(cut).not.toContain('\uFFFD');
    expect(cut.endsWith('…[truncated]')).toBe(true);
  });

  it('drops empty lines and control characters that would confuse the prefix parser', () => {
    expect(formatLogLines('info', 'a\x01b\n\n\r\nc')).toBe('\x01i\x02a b\n\x01i\x02c\n');
  });

  it('obfuscates Windows paths too, and the same folder the same way', () => {
    const out = obfuscatePaths('C:\\Videos\\a.mp4 and C:\\Videos\\b.mkv');
    const [first, second] = out.split(' and ');
    expect(first).toMatch(/^C:\\[0-9a-f]{6}\\[0-9a-f]{6}\.mp4$/);
    expect(first!.slice(0, 10)).toBe(second!.slice(0, 10));
  });

  it('the result never carries an empty error, which Stash would count as a failure', () => {
    expect(JSON.parse(formatResult({ output: 'x' }))).toEqual({ output: 'x' });
    expect(JSON.parse(formatResult({ error: '' }))).toEqual({ output: null, error: 'failed' });
  });
});

describe('the host follows Stash', () => {
  it('builds argv from exec + execArgs, replacing {pluginDir} only after argv[0]', () => {
    const dir = tempDir('argv');
    try {
      const m = loadManifest(path.join(REPO, 'plugin.yml'));
      const argv = buildArgv({ ...m, pluginDir: '/plugins/plexcourier' }, ['hook'], { PATH: '/usr/bin:/bin' }, '/');
      expect(argv.slice(1)).toEqual(['/plugins/plexcourier/plexcourier.sh', 'hook']);
      expect(argv[0]).toMatch(/^\/(usr\/)?bin\/sh$/);
      // Not on PATH: Stash falls back to <pluginDir>/<argv[0]> (§1.3).
      const m2 = { ...m, exec: ['node', '{pluginDir}/x.cjs'], pluginDir: dir.dir };
      expect(buildArgv(m2, [], { PATH: '' }, '/')[0]).toBe(path.join(dir.dir, 'node'));
      // A name with a slash is looked up relative to Stash's cwd.
      const script = path.join(dir.dir, 'run.sh');
      writeFileSync(script, '#!/bin/sh\n');
      chmodSync(script, 0o755);
      expect(buildArgv({ ...m2, exec: ['./run.sh'] }, [], { PATH: '' }, dir.dir)[0]).toBe('./run.sh');
    } finally {
      dir.cleanup();
    }
  });

  it('writes stdin like Go: Go field names, sorted args, no trailing newline, hookContext omitempty', async () => {
    const r = await runHook(yml, { type: 'Scene.Create.Post', id: 5, input: null }, conn);
    expect(r.stdin.endsWith('}')).toBe(true);
    const parsed = JSON.parse(r.stdin);
    expect(Object.keys(parsed.server_connection)).toEqual(['Scheme', 'Host', 'Port', 'SessionCookie', 'Dir', 'PluginDir']);
    expect(Object.keys(parsed.args)).toEqual(['hookContext']);
    expect(parsed.args.hookContext).toEqual({ id: 5, type: 'Scene.Create.Post', input: null });
    expect(parsed.server_connection.SessionCookie).toMatchObject({ Name: 'session', Value: 'cookie-value-abcdef', Expires: '0001-01-01T00:00:00Z' });
    // Hooks have no progress receiver.
    expect(r.progress).toEqual([]);
  });

  it('decodes prefixes and sends unprefixed lines to the errLog level', () => {
    expect(decodeStderrLine('\x01w\x02 careful', 'error')).toEqual({ level: 'warning', msg: 'careful' });
    expect(decodeStderrLine('plain text', 'error')).toEqual({ level: 'error', msg: 'plain text' });
    expect(decodeStderrLine('plain text', 'none')).toBeNull();
    expect(decodeStderrLine('\x01x\x02unknown char', 'info')).toEqual({ level: 'info', msg: '\x01x\x02unknown char' });
  });

  it('parses stdout as Stash does', () => {
    expect(parsePluginStdout('{"Output": 1}')).toEqual({ output: 1, error: null });
    expect(parsePluginStdout('hello {"output":1}')).toEqual({ output: 'hello {"output":1}', error: null });
    expect(parsePluginStdout('{"error": 5}')).toEqual({ output: '{"error": 5}', error: null });
    expect(parsePluginStdout('null')).toEqual({ output: null, error: null });
    expect(parsePluginStdout('[1]')).toEqual({ output: '[1]', error: null });
  });

  it('cancel is a SIGKILL of the direct child and reads as "signal: killed"', async () => {
    const dir = tempDir('cancel');
    try {
      const sleeper = path.join(dir.dir, 'sleep.yml');
      writeFileSync(sleeper, 'name: sleeper\nexec: [sh, "-c", "exec sleep 30"]\ntasks:\n  - name: Sleep\n    execArgs: []\n');
      const op = startTask(sleeper, 'Sleep', {}, conn);
      setTimeout(() => op.cancel(), 100);
      const r = await op.result;
      expect(r.signal).toBe('SIGKILL');
      expect(r.error).toBe('signal: killed');
    } finally {
      dir.cleanup();
    }
  });

  it('a non-zero exit without a parsed error reads as "exit status N"', async () => {
    const dir = tempDir('exit');
    try {
      const y = path.join(dir.dir, 'exit.yml');
      writeFileSync(y, 'name: exit\nexec: [sh, "-c", "echo not json; exit 3"]\ntasks:\n  - name: Exit\n');
      const r = await runTask(y, 'Exit', {}, conn);
      expect(r).toMatchObject({ exitCode: 3, error: 'exit status 3', output: 'not json\n' });
    } finally {
      dir.cleanup();
    }
  });

  it('a program that cannot be started is an error without an exit status', async () => {
    const dir = tempDir('nostart');
    try {
      const y = path.join(dir.dir, 'x.yml');
      writeFileSync(y, 'name: x\nexec: [plexcourier-no-such-program]\ntasks:\n  - name: T\n');
      const r = await runTask(y, 'T', {}, conn, { env: { PATH: '' } });
      expect(r.exitCode).toBeNull();
      expect(r.error).toBe(`fork/exec ${path.join(dir.dir, 'plexcourier-no-such-program')}: ENOENT`);
    } finally {
      dir.cleanup();
    }
  });

  it('runs the hooks of a bulk edit one after another, each with its own id and the same input', async () => {
    const dir = tempDir('bulk');
    try {
      const y = path.join(dir.dir, 'bulk.yml');
      const log = path.join(dir.dir, 'order.log');
      // Each hook appends "start id" and "end id" to a file; overlapping runs would interleave them.
      writeFileSync(
        y,
        `name: bulk\nexec: [sh, "-c", "id=$(cat | sed 's/.*\\"id\\":\\\\([0-9]*\\\\).*/\\\\1/'); echo start $id >> ${log}; sleep 0.05; echo end $id >> ${log}; echo '{}'"]\nhooks:\n  - name: H\n    triggeredBy: [Scene.Update.Post]\n`,
      );
      const results = await runBulkHooks(y, { type: 'Scene.Update.Post', ids: [3, 4, 5], input: { ids: ['3', '4', '5'], title: 'x' }, inputFields: ['ids', 'title'] }, conn);
      expect(results.map((r) => JSON.parse(r.stdin).args.hookContext.id)).toEqual([3, 4, 5]);
      expect(new Set(results.map((r) => JSON.stringify(JSON.parse(r.stdin).args.hookContext.input))).size).toBe(1);
      expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual(['start 3', 'end 3', 'start 4', 'end 4', 'start 5', 'end 5']);
    } finally {
      dir.cleanup();
    }
  });
});
