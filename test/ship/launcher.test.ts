import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { availableShells, hookInput, procFields, runLikeStash, waitFor } from './helpers';

const repo = path.resolve(__dirname, '../..');
const launcherSource = path.join(repo, 'src', 'launcher', 'plexcourier.sh');
const fixtureEntry = path.join(__dirname, 'fixtures', 'plexcourier.cjs');
const EVENT_NAME = /^\d{13}-\d+-[0-9a-z]+\.(event|cmd)$/;

const shells = availableShells();
const spawned: ChildProcess[] = [];

afterAll(() => {
  for (const child of spawned) child.kill('SIGKILL');
});

describe('the launcher script', () => {
  it('is found under sh and under at least one of dash and busybox sh, the shells of Debian and of Stash’s Alpine image', () => {
    expect(shells.map((s) => s.name)).toContain('sh');
    expect(shells.length, 'install dash or busybox (apt-get install busybox) so the launcher is tested beyond /bin/sh').toBeGreaterThan(1);
  });

  it.each(shells.map((s) => [s.name, s.argv] as const))('parses cleanly with %s -n', (_name, argv) => {
    const [program, ...args] = argv;
    const result = spawnSync(program as string, [...args, '-n', launcherSource], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});

describe.each(shells.map((s) => [s.name, s.argv] as const))('the launcher under %s', (_shellName, shell) => {
  let tmp: string;
  let pluginDir: string;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'plexcourier-launcher-'));
    pluginDir = path.join(tmp, 'plugins', 'community', 'plexcourier');
    mkdirSync(pluginDir, { recursive: true });
    copyFileSync(launcherSource, path.join(pluginDir, 'plexcourier.sh'));
    copyFileSync(fixtureEntry, path.join(pluginDir, 'plexcourier.cjs'));
    dataDir = path.join(pluginDir, 'data');
    env = { PATH: process.env.PATH, HOME: tmp };
  });

  afterEach(async () => {
    // Every worker a hook started must have recorded itself before its folder goes; then it may stop.
    await waitFor('the started workers to record', () => (workerRecords().length >= workersStarted ? true : undefined));
    if (existsSync(path.join(pluginDir, 'record'))) writeFileSync(path.join(pluginDir, 'record', 'stop'), '');
    rmSync(tmp, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    workersStarted = 0;
  });

  let workersStarted = 0;
  const hook = async (input = hookInput(pluginDir), extraEnv: NodeJS.ProcessEnv = {}) => {
    const run = await runLikeStash([...shell, path.join(pluginDir, 'plexcourier.sh'), 'hook'], input, { ...env, ...extraEnv });
    if (run.stdout.includes('worker started')) workersStarted += 1;
    return run;
  };
  const inboxNew = () => path.join(dataDir, 'inbox', 'new');
  const spooled = () => (existsSync(inboxNew()) ? readdirSync(inboxNew()) : []);
  const workerRecords = () =>
    existsSync(path.join(pluginDir, 'record')) ? readdirSync(path.join(pluginDir, 'record')).filter((n) => n.startsWith('worker-')) : [];
  const recorded = (name: string) => {
    const file = path.join(pluginDir, 'record', name);
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { command: string; rest: string[]; pid: number; stdin: string }) : undefined;
  };
  /** A live process whose pid the test controls; its start time is the one the kernel gave it. */
  const liveProcess = () => {
    const child = spawn('sleep', ['60'], { stdio: 'ignore' });
    spawned.push(child);
    const fields = procFields(child.pid as number);
    return { pid: child.pid as number, startTime: fields?.[19] as string };
  };
  const writePidFile = (content: string) => {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(path.join(dataDir, 'worker.pid'), content);
  };

  it('spools exactly the bytes of stdin into inbox/new under a well-formed name, owner-only, with no tmp litter', async () => {
    const input = hookInput(pluginDir);
    const run = await hook(input);

    expect(run.code).toBe(0);
    const files = spooled();
    expect(files).toHaveLength(1);
    const name = files[0] as string;
    expect(name).toMatch(EVENT_NAME);
    expect(name.endsWith('.event')).toBe(true);
    expect(readFileSync(path.join(inboxNew(), name), 'utf8')).toBe(input);
    expect(statSync(path.join(inboxNew(), name)).mode & 0o777).toBe(0o600);
    expect(readdirSync(path.join(dataDir, 'inbox', 'tmp'))).toEqual([]);
  });

  it('names the file with the current epoch time in milliseconds, also after a bad clock cache', async () => {
    const before = Date.now();
    await hook(hookInput(pluginDir, 1));
    writeFileSync(path.join(dataDir, 'inbox', 'launcher-clock'), 'garbage 12 x\n', { flag: 'w' });
    await hook(hookInput(pluginDir, 2));
    await hook(hookInput(pluginDir, 3));
    const after = Date.now();
    const times = spooled().map((n) => Number(n.slice(0, 13)));
    expect(times).toHaveLength(3);
    // The launcher's clock is good to the second (date +%s), refined by /proc/uptime on Linux.
    for (const t of times) {
      expect(t).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 1000);
      expect(t).toBeLessThanOrEqual(after + 1000);
    }
  });

  it('prints exactly one JSON object on stdout and nothing on stderr', async () => {
    const run = await hook();
    const parsed = JSON.parse(run.stdout) as { output: string; error?: string };
    expect(parsed.output).toMatch(/^queued \d{13}-\d+-[0-9a-z]+\.event/);
    expect(parsed.error).toBeUndefined();
    expect(run.stderr).toBe('');
  });

  it('keeps a large event (a base64 cover image in the input) byte for byte', async () => {
    const input = hookInput(pluginDir).replace('"mode":"hook"', `"cover":"${'QUJD'.repeat(400_000)}","mode":"hook"`);
    await hook(input);
    const [name] = spooled();
    expect(readFileSync(path.join(inboxNew(), name as string), 'utf8')).toBe(input);
  });

  it('uses PLEXCOURIER_DATA_DIR when set', async () => {
    const elsewhere = path.join(tmp, 'elsewhere');
    await hook(hookInput(pluginDir), { PLEXCOURIER_DATA_DIR: elsewhere });
    expect(readdirSync(path.join(elsewhere, 'inbox', 'new'))).toHaveLength(1);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('gives every hook of a burst its own file', async () => {
    const runs = await Promise.all(Array.from({ length: 12 }, (_, i) => hook(hookInput(pluginDir, 100 + i))));
    expect(runs.every((r) => r.code === 0)).toBe(true);
    const contents = spooled().map((n) => readFileSync(path.join(inboxNew(), n), 'utf8'));
    expect(contents.sort()).toEqual(Array.from({ length: 12 }, (_, i) => hookInput(pluginDir, 100 + i)).sort());
  });

  it('starts a worker detached, with its stdio on /dev/null, when no pid file exists, and returns without waiting for it', async () => {
    const run = await hook();
    expect(JSON.parse(run.stdout).output).toMatch(/worker started$/);
    const [record] = await waitFor('the worker to start', () => (workerRecords().length ? workerRecords() : undefined));
    const worker = recorded(record as string);
    expect(worker?.rest).toEqual(['--background']);
    expect((worker as unknown as { stdio: string[] }).stdio).toEqual(['/dev/null', '/dev/null', '/dev/null']);
    // The hook has exited while the worker lingers.
    expect(procFields(worker?.pid as number)?.[0]).not.toBe('Z');
  });

  it('does not restart a live worker', async () => {
    const live = liveProcess();
    writePidFile(`${live.pid} ${live.startTime}\n`);
    const run = await hook();
    expect(JSON.parse(run.stdout).output).not.toMatch(/worker started/);
    expect(spooled()).toHaveLength(1);
  });

  it('starts a worker when the pid in the file is dead', async () => {
    const gone = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
    writePidFile(`${gone} 12345\n`);
    const run = await hook();
    expect(JSON.parse(run.stdout).output).toMatch(/worker started$/);
    await waitFor('the worker to start', () => (workerRecords().length ? true : undefined));
  });

  it('starts a worker when the pid was reused by another process (its start time differs)', async () => {
    const live = liveProcess();
    writePidFile(`${live.pid} ${Number(live.startTime) + 1}\n`);
    const run = await hook();
    expect(JSON.parse(run.stdout).output).toMatch(/worker started$/);
    await waitFor('the worker to start', () => (workerRecords().length ? true : undefined));
  });

  it('starts a worker when the pid is a zombie nobody reaps, as a killed worker under Stash in Docker', async () => {
    // The inner sleep's parent becomes `sleep 60`, which never reaps it.
    const parent = spawn('sh', ['-c', 'sleep 30 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
    spawned.push(parent);
    const zombiePid = Number(await new Promise<string>((resolve) => parent.stdout?.once('data', (c: Buffer) => resolve(c.toString()))));
    const startTime = procFields(zombiePid)?.[19] as string;
    // Kill only once the parent is `sleep 60`: a shell still running would reap it.
    const parentComm = () => readFileSync(`/proc/${parent.pid}/comm`, 'utf8').trim();
    await waitFor('the parent to become sleep', () => (parentComm() === 'sleep' ? true : undefined));
    process.kill(zombiePid, 'SIGKILL');
    await waitFor('the zombie', () => (procFields(zombiePid)?.[0] === 'Z' ? true : undefined));
    writePidFile(`${zombiePid} ${startTime}\n`);

    const run = await hook();
    expect(JSON.parse(run.stdout).output).toMatch(/worker started$/);
    await waitFor('the worker to start', () => (workerRecords().length ? true : undefined));
  });

  describe('where there is no /proc (macOS, BSD)', () => {
    const noProc = () => ({ PLEXCOURIER_PROC: path.join(tmp, 'no-proc') });

    it('does not restart a live node worker', async () => {
      const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
      spawned.push(child);
      writePidFile(`${child.pid} 0\n`);
      const run = await hook(hookInput(pluginDir), noProc());
      expect(JSON.parse(run.stdout).output).not.toMatch(/worker started/);
    });

    it('starts a worker when the pid now belongs to a process that is not node', async () => {
      const live = liveProcess();
      writePidFile(`${live.pid} 0\n`);
      const run = await hook(hookInput(pluginDir), noProc());
      expect(JSON.parse(run.stdout).output).toMatch(/worker started$/);
    });

    it('starts a worker when the pid is gone', async () => {
      const gone = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
      writePidFile(`${gone} 0\n`);
      const run = await hook(hookInput(pluginDir), noProc());
      expect(JSON.parse(run.stdout).output).toMatch(/worker started$/);
    });
  });

  it('starts one worker, not one per hook, when a burst of hooks finds none alive', async () => {
    const runs = await Promise.all(Array.from({ length: 8 }, (_, i) => hook(hookInput(pluginDir, i + 1))));
    expect(runs.filter((r) => JSON.parse(r.stdout).output.endsWith('worker started'))).toHaveLength(1);
    expect(spooled()).toHaveLength(8);
  });

  it('starts a worker again once a start marker has gone stale (the worker it announced never took over)', async () => {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(path.join(dataDir, 'worker.starting'), `${Math.floor(Date.now() / 1000) - 60}\n`);
    const run = await hook();
    expect(JSON.parse(run.stdout).output).toMatch(/worker started$/);
  });

  it('keeps the event and says in one Stash error line that Node >= 20 is needed when no node is found', async () => {
    const run = await hook(hookInput(pluginDir), { PLEXCOURIER_NODE: path.join(tmp, 'no-such-node') });
    expect(run.code).toBe(0);
    expect(spooled()).toHaveLength(1);
    const lines = run.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.startsWith('\x01e\x02')).toBe(true);
    expect(lines[0]).toMatch(/Node\.js >= 20 is needed/);
    expect(lines[0]).toMatch(/Docker/);
    const parsed = JSON.parse(run.stdout) as { output: string; error: string };
    expect(parsed.output).toMatch(/^queued /);
    expect(parsed.error).toMatch(/not found/);
  });

  it('hands the hook to the Node entry, stdin intact and in its own process, when the inbox cannot be created', async () => {
    const blocker = path.join(tmp, 'a-file');
    writeFileSync(blocker, 'not a directory');
    const input = hookInput(pluginDir);
    const run = await hook(input, { PLEXCOURIER_DATA_DIR: path.join(blocker, 'data') });

    const handedOver = recorded('hook.json');
    expect(handedOver?.stdin).toBe(input);
    expect(handedOver?.pid).toBe(run.pid); // exec: Stash's kill reaches Node
    expect(JSON.parse(run.stdout)).toEqual({ output: 'fixture ran hook' });
  });

  it('execs the Node entry for a task, with stdin intact', async () => {
    const input = JSON.stringify({ server_connection: { PluginDir: pluginDir }, args: { mode: 'status' } });
    const run = await runLikeStash([...shell, path.join(pluginDir, 'plexcourier.sh'), 'task'], input, env);
    const task = recorded('task.json');
    expect(task?.stdin).toBe(input);
    expect(task?.pid).toBe(run.pid);
    expect(JSON.parse(run.stdout)).toEqual({ output: 'fixture ran task' });
    expect(spooled()).toEqual([]);
  });

  it('answers a task with one Stash error line and one JSON error when no node is found', async () => {
    const run = await runLikeStash([...shell, path.join(pluginDir, 'plexcourier.sh'), 'task'], '{"args":{"mode":"status"}}', {
      ...env,
      PLEXCOURIER_NODE: path.join(tmp, 'no-such-node'),
    });
    expect(run.code).toBe(0);
    expect(run.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(run.stderr.startsWith('\x01e\x02')).toBe(true);
    expect(JSON.parse(run.stdout).error).toMatch(/Node\.js >= 20 not found/);
  });

  describe('with no mode word, as Stash runs runPluginOperation (exec alone, args on stdin only)', () => {
    const unnamed = (input: string, extraEnv: NodeJS.ProcessEnv = {}) =>
      runLikeStash([...shell, path.join(pluginDir, 'plexcourier.sh')], input, { ...env, ...extraEnv });
    const opInput = (args: Record<string, unknown>) => JSON.stringify({ server_connection: { PluginDir: pluginDir }, args });

    it('hands an operation to the Node entry with no command word, stdin intact, in its own process, leaving no file behind', async () => {
      const input = opInput({ mode: 'status' });
      const run = await unnamed(input);
      const op = recorded('none.json');
      expect(op?.command).toBeNull();
      expect(op?.rest).toEqual([]);
      expect(op?.stdin).toBe(input);
      expect(op?.pid).toBe(run.pid); // exec: Stash's kill reaches Node
      expect(JSON.parse(run.stdout)).toEqual({ output: 'fixture ran no command' });
      expect(run.stderr).toBe('');
      expect(spooled()).toEqual([]);
      expect(readdirSync(path.join(dataDir, 'inbox', 'tmp'))).toEqual([]);
    });

    it('hands a large operation input over byte for byte', async () => {
      const input = opInput({ mode: 'status', blob: 'QUJD'.repeat(100_000) });
      await unnamed(input);
      expect(recorded('none.json')?.stdin).toBe(input);
    });

    it('takes the hook path, without Node, when stdin carries a hook context', async () => {
      const input = hookInput(pluginDir);
      const run = await unnamed(input);
      if (run.stdout.includes('worker started')) workersStarted += 1;
      expect(JSON.parse(run.stdout).output).toMatch(/^queued \d{13}-\d+-[0-9a-z]+\.event/);
      expect(run.stderr).toBe('');
      expect(recorded('none.json')).toBeUndefined();
      expect(recorded('hook.json')).toBeUndefined();
      const [name] = spooled();
      expect(readFileSync(path.join(inboxNew(), name as string), 'utf8')).toBe(input);
    });

    it('treats a hookContext that is only text inside a string as an operation', async () => {
      const input = opInput({ mode: 'status', note: 'see "hookContext": here' });
      await unnamed(input);
      expect(recorded('none.json')?.stdin).toBe(input);
      expect(spooled()).toEqual([]);
    });

    it('passes malformed stdin to Node unchanged (Node answers it) and spools nothing', async () => {
      const run = await unnamed('{"args": {"mode": "sta');
      expect(recorded('none.json')?.stdin).toBe('{"args": {"mode": "sta');
      expect(JSON.parse(run.stdout)).toEqual({ output: 'fixture ran no command' });
      expect(spooled()).toEqual([]);
    });

    it('hands the operation to Node with stdin intact when the data directory cannot be created', async () => {
      const blocker = path.join(tmp, 'a-file');
      writeFileSync(blocker, 'not a directory');
      const input = opInput({ mode: 'status' });
      await unnamed(input, { PLEXCOURIER_DATA_DIR: path.join(blocker, 'data') });
      expect(recorded('none.json')?.stdin).toBe(input);
    });
  });

  it('works from a relative plugin path, resolved against Stash’s working directory', async () => {
    const run = await runLikeStash([...shell, 'plugins/community/plexcourier/plexcourier.sh', 'hook'], hookInput(pluginDir), env, tmp);
    if (run.stdout.includes('worker started')) workersStarted += 1;
    expect(run.code).toBe(0);
    expect(spooled()).toHaveLength(1);
  });
});
