import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { hookInput, runLikeStash } from '../ship/helpers';
import { startEnv, type Env } from './env';

/**
 * runPluginOperation as Stash runs it: the manifest's exec alone (`sh plexcourier.sh`, no execArgs, no
 * defaultArgs), the caller's args on stdin only (reference/stash-plugin-protocol.md §1.3 point 1, §5).
 * Stash finds `sh` on its PATH, so each shell is tried by putting it first on the PATH as `sh`.
 */
const shellDirs: string[] = [];
function shellOnPath(name: string, target: string[]): { name: string; dir: string } | undefined {
  const [program, ...args] = target;
  if (spawnSync(program as string, [...args, '-c', 'true'], { stdio: 'ignore' }).status !== 0) return undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `plexcourier-sh-${name}-`));
  shellDirs.push(dir);
  const real = execFileSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' }).trim();
  // busybox picks its applet from the name it is started as, so a link named sh is its shell.
  fs.symlinkSync(real, path.join(dir, 'sh'));
  return { name, dir };
}
const shells = [shellOnPath('dash', ['dash']), shellOnPath('busybox sh', ['busybox', 'sh'])].filter((s) => s !== undefined);

afterAll(() => {
  for (const dir of shellDirs) fs.rmSync(dir, { recursive: true, force: true });
});

let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

it('runs under at least one of dash and busybox sh (apt-get install busybox)', () => {
  expect(shells.length).toBeGreaterThan(0);
});

describe.each(shells.map((s) => [s.name, s.dir] as const))('operations under %s', (_name, shellDir) => {
  const start = (scenes = 0) => startEnv({ scenes, env: { PATH: `${shellDir}:${process.env.PATH}` } });
  const errorLogs = (run: { logs: { level: string }[] }) => run.logs.filter((l) => l.level === 'error');

  it('status answers the object `status --json` prints, as the plugin’s output, with no token in it', async () => {
    env = await start(1);
    await env.edit('1', { title: 'Operated' });
    await env.waitFor(() => env!.plexItem('1').scalars.title === 'Operated' && env!.status().counts?.ready === 0, 'the edit to reach Plex');
    // Stop the worker so that status.json stays still between the two reads.
    const pid = env.workerPid();
    if (pid) process.kill(pid, 'SIGTERM');
    await env.waitFor(() => !pid || !fs.existsSync(`/proc/${pid}`), 'the worker to exit');

    const run = await env.operation({ mode: 'status' });
    expect(run.argv).toEqual([path.join(shellDir, 'sh'), path.join(env.pluginDir, 'plexcourier.sh')]);
    expect(run.error).toBeNull();
    expect(errorLogs(run)).toEqual([]);
    const cli = execFileSync(process.execPath, [path.join(env.pluginDir, 'plexcourier.cjs'), 'status', '--json'], { env: env.processEnv, encoding: 'utf8' });
    expect(run.output).toEqual(JSON.parse(cli));
    expect(run.output).toMatchObject({ alive: false, inboxWaiting: 0 });
    expect(run.stdout).not.toContain(env.plex.token);
  });

  it('status answers before the plugin has ever run, with nothing logged at ERROR', async () => {
    env = await start();
    const run = await env.operation({ mode: 'status' });
    expect(run.error).toBeNull();
    expect(run.output).toEqual({ alive: false, inboxWaiting: 0 });
    expect(run.logs).toEqual([]);
  });

  it('an unknown mode is one line of error naming the known modes, with nothing logged at ERROR', async () => {
    env = await start();
    const run = await env.operation({ mode: 'launch_rockets' });
    expect(run.error).toMatch(/no operation "launch_rockets"; known modes: .*\bstatus\b/);
    expect(run.error).not.toContain('\n');
    expect(run.output).toBeNull();
    expect(errorLogs(run)).toEqual([]);
    expect(run.stdout).not.toMatch(/usage/);
  });

  it('a missing mode is one line of error naming the known modes, never a usage text', async () => {
    env = await start();
    const run = await env.operation({ scene_id: '4' });
    expect(run.error).toMatch(/needs args\.mode; known modes: .*\bstatus\b/);
    expect(run.logs).toEqual([]);
    expect(run.stdout).not.toMatch(/usage/);
  });

  it('malformed stdin is one line of error and a warning, nothing at ERROR, nothing spooled', async () => {
    env = await start();
    const run = await runLikeStash([path.join(shellDir, 'sh'), path.join(env.pluginDir, 'plexcourier.sh')], '{"server_connection": {"Port": 99', env.processEnv);
    const parsed = JSON.parse(run.stdout) as { output: unknown; error: string };
    expect(parsed.error).toMatch(/could not parse its input as JSON/);
    expect(parsed.error).not.toContain('\n');
    const lines = run.stderr.split('\n').filter(Boolean);
    expect(lines.every((l) => l.startsWith('\x01w\x02'))).toBe(true);
    expect(fs.readdirSync(path.join(env.dataDir, 'inbox', 'new'))).toEqual([]);
  });
});

describe('the Node entry with no command word (Windows runs it through sh.cmd)', () => {
  it('spools a hook context as a hook and answers an operation from the same kind of stdin', async () => {
    env = await startEnv();
    const cjs = path.join(env.pluginDir, 'plexcourier.cjs');
    const hook = await runLikeStash([process.execPath, cjs], hookInput(env.pluginDir), env.processEnv);
    expect(JSON.parse(hook.stdout).output).toMatch(/^queued Scene\.Update\.Post scene 45/);
    await env.waitFor(() => env!.status().counts !== undefined, 'the worker the hook started');

    const op = await runLikeStash([process.execPath, cjs], JSON.stringify({ server_connection: { Scheme: 'http', Port: env.stash.connection.Port }, args: { mode: 'status' } }), env.processEnv);
    expect(JSON.parse(op.stdout).output).toMatchObject({ alive: true });
    expect(op.stderr).toBe('');
  });
});
