/**
 * Queue benchmarks: `node --import tsx bench/queue.ts` prints
 *   1. an inbox write from a fresh `node` process against bare `node -e 0` (median, ratio);
 *   2. ingestion rate (files/s);
 *   3. take + complete rate without network (jobs/s), against a bare LevelDB batch loop (completions are not fsynced: see QueueStore.complete);
 *   4. first-ready lookup after many completed jobs: LevelDB iterator with and without compaction, and
 *      the in-memory head the store uses.
 * Sizes: QUEUE_BENCH_RUNS (15), QUEUE_BENCH_FILES (3000), QUEUE_BENCH_JOBS (20000), QUEUE_BENCH_DONE (100000).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { ingestInbox } from '../src/inbox/ingest';
import { writeInboxFile } from '../src/inbox/write';
import { loadClassicLevel } from '../src/native';
import { dataPaths } from '../src/paths';
import { QueueStore } from '../src/queue/store';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const RUNS = env('QUEUE_BENCH_RUNS', 15);
const FILES = env('QUEUE_BENCH_FILES', 3000);
const JOBS = env('QUEUE_BENCH_JOBS', 20000);
const DONE = env('QUEUE_BENCH_DONE', 100000);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const f = (n: number, d = 1) => n.toFixed(d);
const root = mkdtempSync(path.join(os.tmpdir(), 'plexcourier-bench-queue-'));

async function inboxWriteFromFreshProcess(): Promise<void> {
  const script = path.join(root, 'write-one.cjs');
  await build({
    stdin: {
      contents: `import { writeInboxFile } from './src/inbox/write';\nvoid writeInboxFile(process.argv[2], 'event', '{"args":{"hookContext":{"id":1}}}');`,
      resolveDir: path.resolve(path.dirname(new URL(import.meta.url).pathname), '..'),
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile: script,
    logLevel: 'silent',
  });
  const inbox = path.join(root, 'hook-inbox');
  const bare: number[] = [];
  const write: number[] = [];
  const time = (args: string[]) => {
    const t = performance.now();
    const r = spawnSync(process.execPath, args, { stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}`);
    return performance.now() - t;
  };
  time([script, inbox]); // warm the page cache
  for (let i = 0; i < RUNS; i++) {
    bare.push(time(['-e', '0']));
    write.push(time([script, inbox]));
  }
  const b = median(bare);
  const w = median(write);
  console.log(`inbox write, fresh node process: median ${f(w)} ms vs bare node -e 0 ${f(b)} ms (ratio ${f(w / b, 2)}, +${f(w - b)} ms; ${RUNS} runs each)`);
}

async function ingestion(): Promise<void> {
  const paths = dataPaths(path.join(root, 'ingest'));
  for (let i = 0; i < FILES; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, FILES - i) }, (_, k) => writeInboxFile(paths.inbox, 'event', JSON.stringify({ sceneId: `s${i + k}` }))),
    );
  }
  const store = await QueueStore.open(paths.store);
  const t = performance.now();
  const result = await ingestInbox(store, paths, {
    interpret: (_name, bytes) => ({
      requests: [{ sceneId: (JSON.parse(bytes.toString('utf8')) as { sceneId: string }).sceneId, priority: 1, trigger: 'hook' }],
      removals: [],
    }),
    onCommand: () => undefined,
  });
  const ms = performance.now() - t;
  await store.close();
  console.log(`ingestion: ${result.ingested} files in ${f(ms)} ms = ${f((result.ingested / ms) * 1000, 0)} files/s (batches of 64, one synced LevelDB batch each)`);
}

async function drain(store: QueueStore, concurrency: number): Promise<number> {
  let n = 0;
  for (;;) {
    const jobs = await store.take(concurrency);
    if (jobs.length === 0) return n;
    await Promise.all(jobs.map((job) => store.complete(job, { summary: 'synced' })));
    n += jobs.length;
  }
}

async function enqueueMany(store: QueueStore, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1000) {
    await store.enqueue(Array.from({ length: Math.min(1000, count - i) }, (_, k) => ({ sceneId: `s${i + k}`, priority: 1 as const, trigger: 'hook' })));
  }
}

async function dispatch(): Promise<void> {
  const store = await QueueStore.open(path.join(root, 'dispatch'));
  await enqueueMany(store, JOBS);
  const t = performance.now();
  const n = await drain(store, 32);
  const ms = performance.now() - t;
  await store.close();

  // Baseline: the same number of 3-op batches (not fsynced, like a completion) on bare LevelDB, 32 in flight.
  const ClassicLevel = await loadClassicLevel();
  const db = new ClassicLevel<string, string>(path.join(root, 'bare'), { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open();
  const tb = performance.now();
  for (let i = 0; i < n; i += 32) {
    await Promise.all(
      Array.from({ length: Math.min(32, n - i) }, (_, k) =>
        db.batch(
          [
            { type: 'del', key: `a!${i + k}` },
            { type: 'put', key: `b!${i + k}`, value: 'x'.repeat(150) },
            { type: 'del', key: `c!${i + k}` },
          ],
          { sync: false },
        ),
      ),
    );
  }
  const msb = performance.now() - tb;
  await db.close();
  const rate = (n / ms) * 1000;
  const bare = (n / msb) * 1000;
  console.log(`take + complete (32 in flight): ${n} jobs in ${f(ms)} ms = ${f(rate, 0)} jobs/s; bare LevelDB batches ${f(bare, 0)}/s (ratio ${f(rate / bare, 2)})`);
}

async function firstReady(): Promise<void> {
  const dir = path.join(root, 'first-ready');
  // No automatic compaction, to show what the tombstones cost (research §3.6).
  const store = await QueueStore.open(dir, { compactEvery: Number.MAX_SAFE_INTEGER });
  await enqueueMany(store, DONE);
  await drain(store, 64);
  await store.enqueue([{ sceneId: 'next', priority: 1, trigger: 'hook' }]);
  const sample = async (fn: () => unknown, n = 50) => {
    const xs: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await fn();
      xs.push(performance.now() - t);
    }
    return median(xs);
  };
  const memory = await sample(() => store.state.ready.first(), 1000);
  await store.close();
  // The same files read the way a store without the in-memory head would: a fresh iterator each time.
  const ClassicLevel = await loadClassicLevel();
  const db = new ClassicLevel<string, string>(dir);
  const r = { gte: 'ready!', lt: 'ready"', limit: 1 };
  const before = await sample(() => db.keys(r).all());
  const tc = performance.now();
  for (const p of ['ready', 'delayed', 'active', 'job', 'scene', 'done', 'dlq', 'seen']) await db.compactRange(`${p}!`, `${p}"`);
  const compactMs = performance.now() - tc;
  const after = await sample(() => db.keys(r).all());
  await db.close();
  const t = performance.now();
  const reopened = await QueueStore.open(dir);
  const reopenMs = performance.now() - t;
  await reopened.close();
  console.log(`first-ready lookup after ${DONE} completed jobs: LevelDB iterator ${f(before * 1000, 0)} µs without compaction, ${f(after * 1000, 0)} µs after compactRange (${f(compactMs, 0)} ms; ratio ${f(before / after, 1)}); in-memory head the store uses ${f(memory * 1000, 2)} µs; reopen ${f(reopenMs, 0)} ms`);
}

try {
  console.log(`queue benchmarks (Node ${process.version}, ${os.cpus().length} cores, load average ${os.loadavg().map((x) => f(x, 1)).join(' ')})`);
  await inboxWriteFromFreshProcess();
  await ingestion();
  await dispatch();
  await firstReady();
} finally {
  rmSync(root, { recursive: true, force: true });
}
