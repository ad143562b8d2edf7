// Hook wall time as Stash sees it: spawn, JSON on stdin then closed, stdout read to EOF, exit awaited
// (reference/stash-plugin-protocol.md §2.1, §3.1, §4.3). Compares `sh plexcourier.sh hook` with an empty Node
// script run the same way in the same run, then times a 500-scene bulk edit (500 hooks back to back).
//
//   node --import tsx bench/hook.ts [--runs 30] [--bulk 500]
//
// The launcher is dist/plexcourier.sh when built (npm run build), else its source, which the build copies
// unchanged. The "worker" is this process: its pid and start time go into worker.pid, so every hook
// takes the steady-state path of a bulk edit (worker alive, no Node started).
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const repo = path.resolve(process.cwd());
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  return Number.isFinite(value) && value > 0 ? value : fallback;
};
const RUNS = arg('--runs', 30);
const BULK = arg('--bulk', 500);

function stashInput(pluginDir: string, sceneId: number): string {
  return JSON.stringify({
    server_connection: {
      Scheme: 'http', Host: '0.0.0.0', Port: 9999,
      SessionCookie: { Name: 'session', Value: 'x'.repeat(160), Quoted: false, Path: '', Domain: '', Expires: '0001-01-01T00:00:00Z', RawExpires: '', MaxAge: 0, Secure: false, HttpOnly: false, SameSite: 0, Partitioned: false, Raw: '', Unparsed: null },
      Dir: '/root/.stash', PluginDir: pluginDir,
    },
    args: {
      hookContext: {
        id: sceneId,
        type: 'Scene.Update.Post',
        input: { ids: Array.from({ length: BULK }, (_, i) => String(i + 1)), tag_ids: { ids: ['21', '22'], mode: 'ADD' } },
        inputFields: ['ids', 'tag_ids'],
      },
      mode: 'hook',
    },
  });
}

/** One Stash-like run; resolves with the wall time in ms. */
function runOnce(argv: string[], stdin: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const [program, ...args] = argv;
    const child = spawn(program as string, args, { cwd: '/', env, stdio: ['pipe', 'pipe', 'pipe'] });
    let ended = false;
    let exited = false;
    const done = () => {
      if (ended && exited) resolve(Number(process.hrtime.bigint() - started) / 1e6);
    };
    child.on('error', reject);
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
    child.stdout.resume();
    child.stderr.resume();
    child.stdout.on('end', () => {
      ended = true;
      done();
    });
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`${argv.join(' ')} exited ${code}`));
      exited = true;
      done();
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

async function main(): Promise<void> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'plexcourier-bench-hook-'));
  try {
    const built = path.join(repo, 'dist', 'plexcourier.sh');
    const source = existsSync(built) ? built : path.join(repo, 'src', 'launcher', 'plexcourier.sh');
    const pluginDir = path.join(tmp, 'plexcourier');
    const dataDir = path.join(pluginDir, 'data');
    mkdirSync(dataDir, { recursive: true });
    copyFileSync(source, path.join(pluginDir, 'plexcourier.sh'));
    const empty = path.join(tmp, 'empty.js');
    writeFileSync(empty, '');

    // This process stands in for the live worker.
    const stat = readFileSync(`/proc/${process.pid}/stat`, 'utf8');
    const startTime = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    writeFileSync(path.join(dataDir, 'worker.pid'), `${process.pid} ${startTime ?? '0'}\n`);

    const env = { PATH: process.env.PATH, HOME: tmp };
    const input = stashInput(pluginDir, 1);
    const shells: [string, string[]][] = [['sh', ['sh']]];
    if (spawnSync('busybox', ['sh', '-c', 'true']).status === 0) shells.push(['busybox sh', ['busybox', 'sh']]);

    console.log(`hook wall time, Stash-like spawn (stdin ${input.length} B, stdout to EOF, exit), median of ${RUNS} runs each`);
    console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${os.platform()} ${os.release()}, node ${process.version}`);
    console.log(`launcher: ${path.relative(repo, source)}`);

    // Interleaved, so load on the shared machine hits both sides alike.
    const times = new Map<string, number[]>([['node', []], ['floor', []], ...shells.map(([name]) => [name, []] as [string, number[]])]);
    for (let i = 0; i < 3; i++) await runOnce([process.execPath, empty], input, env); // warm the page cache
    for (let i = 0; i < RUNS; i++) {
      times.get('node')?.push(await runOnce([process.execPath, empty], input, env));
      times.get('floor')?.push(await runOnce(['sh', '-c', 'exit 0'], input, env));
      for (const [name, argv] of shells) times.get(name)?.push(await runOnce([...argv, path.join(pluginDir, 'plexcourier.sh'), 'hook'], input, env));
    }
    const nodeMedian = median(times.get('node') ?? []);
    console.log(`  ${'empty Node script'.padEnd(28)} ${fmt(nodeMedian).padStart(10)}   (baseline)`);
    console.log(`  ${'sh -c "exit 0" (the floor)'.padEnd(28)} ${fmt(median(times.get('floor') ?? [])).padStart(10)}   ratio ${(median(times.get('floor') ?? []) / nodeMedian).toFixed(3)}`);
    for (const [name] of shells) {
      const m = median(times.get(name) ?? []);
      console.log(`  ${`${name} plexcourier.sh hook`.padEnd(28)} ${fmt(m).padStart(10)}   ratio ${(m / nodeMedian).toFixed(3)} (aim <= 0.25)`);
    }

    const bulkStarted = process.hrtime.bigint();
    for (let i = 0; i < BULK; i++) await runOnce(['sh', path.join(pluginDir, 'plexcourier.sh'), 'hook'], stashInput(pluginDir, i + 1), env);
    const bulkMs = Number(process.hrtime.bigint() - bulkStarted) / 1e6;
    const spooled = readdirSync(path.join(dataDir, 'inbox', 'new')).length;
    console.log(`bulk edit of ${BULK} scenes (${BULK} sequential hooks through sh): ${(bulkMs / 1000).toFixed(2)} s total, ${fmt(bulkMs / BULK)} per hook, ${spooled - RUNS * shells.length} events spooled`);
    console.log(`  the same with an empty Node script per hook would take about ${((nodeMedian * BULK) / 1000).toFixed(2)} s (${BULK} × its median)`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
