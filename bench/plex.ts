/**
 * Plex-side benchmarks. Run: node --import tsx bench/plex.ts [--items 100000] [--scenes 400]
 *
 * The fake Plex runs in its own process, so the figures here are the client's alone.
 *  1. Index build of a 100k-item library: wall time, peak RSS, requests; ratio against the bare
 *     transfer of the same pages (HTTP + JSON.parse, no validation or indexing) in the same run.
 *  2. Lookups per second on that index; ratio against a bare Map.get on pre-normalised keys.
 *  3. Edit throughput at 5 ms injected latency and 2 requests in flight, against the
 *     request-bound ideal = in-flight ÷ (requests per changed scene × latency); beside it the
 *     harness's ceiling (a bare keep-alive client against the same fake) and, with no latency,
 *     the CPU each request costs the client and the fake.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { PlexClient } from '../src/plex/client';
import { PathIndex, indexSection } from '../src/plex/index';
import { normalizePath } from '../src/plex/paths';
import { fetchSections, selectSections } from '../src/plex/sections';
import { PlexService } from '../src/plex/service';
import { PlexError } from '../src/plex/errors';
import type { PlexItemRef } from '../src/plex/write';
import { startFakePlexChild } from './fake-plex-child';

const arg = (n: string, d: number) => {
  const i = process.argv.indexOf(`--${n}`);
  return i >= 0 ? Number(process.argv[i + 1]) : d;
};
const ITEMS = arg('items', 100_000);
const SCENES = arg('scenes', 400);
const BATCH = arg('batch', 16);
const LATENCY = 5;
const IN_FLIGHT = 2;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);

/**
 * Peak RSS of an index build measured the way users run it: the client bundled by esbuild into
 * one CommonJS file and run by plain node in a fresh process (no tsx, no bench state).
 */
async function bundledBuildRss(dir: string, url: string, token: string): Promise<{ maxRssMb: number; baseRssMb: number; ms: number; items: number }> {
  const out = path.join(dir, 'index-build.cjs');
  await build({
    stdin: {
      contents: `
        const { PlexClient } = require('../src/plex/client');
        const { PathIndex, indexSection } = require('../src/plex/index');
        const { fetchSections, selectSections } = require('../src/plex/sections');
        (async () => {
          const baseRssMb = process.memoryUsage().rss / 1048576;
          const c = new PlexClient({ url: process.env.U, token: process.env.T, clientIdFile: process.env.D + '/client-id' });
          const [s] = selectSections(await fetchSections(c));
          const index = new PathIndex(process.env.D + '/idx2.json');
          const t = performance.now();
          const st = await indexSection(c, index, s, 1000);
          await index.save();
          const ms = performance.now() - t;
          c.close();
          console.log(JSON.stringify({ maxRssMb: process.resourceUsage().maxRSS / 1024, baseRssMb, ms, items: index.size, requests: st.requests }));
        })();`,
      resolveDir: import.meta.dirname,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: out,
    logLevel: 'error',
  });
  const { stdout } = await promisify(execFile)(process.execPath, [out], { env: { ...process.env, U: url, T: token, D: dir } });
  return JSON.parse(stdout.trim()) as { maxRssMb: number; baseRssMb: number; ms: number; items: number };
}

/** Requests per second of the simplest possible client: what the fake and this machine allow. */
async function bareRequestRate(url: string, token: string, n: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  const get = () =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(`${url}/library/metadata/1`, { agent, headers: { 'X-Plex-Token': token, Accept: 'application/json' } }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
  let sent = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (sent++ < n) await get();
    }),
  );
  agent.destroy();
  return n / ((performance.now() - t) / 1000);
}

async function main(): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plexcourier-bench-'));
  console.log(
    `PlexCourier Plex bench: ${ITEMS} items, Node ${process.version}, ${os.cpus().length} cores, load average ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  const fake = await startFakePlexChild(['--items', String(ITEMS)]);
  const clientIdFile = path.join(dir, 'client-id');
  try {
    // ---- 1. index build ----
    const client = new PlexClient({ url: fake.url, token: fake.token, clientIdFile, maxInFlight: IN_FLIGHT });
    const [section] = selectSections(await fetchSections(client));
    if (!section) throw new Error('no section');
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const builds: number[] = [];
    let peakRss = rssBefore;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
    let requests = 0;
    let index = new PathIndex(path.join(dir, 'plex-index.json'));
    for (let run = 0; run < 3; run++) {
      index = new PathIndex(path.join(dir, 'plex-index.json'));
      const t = performance.now();
      const stats = await indexSection(client, index, section, 1000);
      builds.push(performance.now() - t);
      requests = stats.requests;
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
    clearInterval(sampler);
    const tSave = performance.now();
    await index.save();
    const saveMs = performance.now() - tSave;
    const fileSize = (await fs.stat(path.join(dir, 'plex-index.json'))).size;
    // Baseline: the same pages fetched and JSON-parsed, nothing else.
    const raw: number[] = [];
    for (let run = 0; run < 3; run++) {
      const t = performance.now();
      for (let start = 0; start < ITEMS; start += 1000) {
        const res = await client.request('GET', `/library/sections/${section.key}/all`, {
          what: 'baseline',
          query: [
            ['type', '1'],
            ['sort', 'addedAt'],
            ['X-Plex-Container-Start', String(start)],
            ['X-Plex-Container-Size', '1000'],
          ],
        });
        JSON.parse(res.body.toString('utf8'));
      }
      raw.push(performance.now() - t);
    }
    console.log(
      `index build (in the tsx bench process, 3 runs back to back): ${ITEMS} items, median ${median(builds).toFixed(0)} ms over 3 runs, ${requests} requests, ` +
        `peak RSS ${mb(peakRss)} MB (${mb(rssBefore)} MB before), file ${mb(fileSize)} MB saved in ${saveMs.toFixed(0)} ms; ` +
        `bare page transfer ${median(raw).toFixed(0)} ms → ratio ${(median(builds) / median(raw)).toFixed(2)}× baseline`,
    );

    const bundled = await bundledBuildRss(dir, fake.url, fake.token);
    console.log(
      `index build, bundled client in a fresh node process: ${bundled.items} items in ${bundled.ms.toFixed(0)} ms, ` +
        `peak RSS ${bundled.maxRssMb.toFixed(0)} MB (process start ${bundled.baseRssMb.toFixed(0)} MB; aim < 200 MB)`,
    );

    // ---- 2. lookups ----
    const paths = Array.from({ length: 100_000 }, (_, i) => `/media/movies/scene-${(i * 7919) % ITEMS}.mp4`);
    const map = new Map<string, number>();
    for (let i = 0; i < ITEMS; i++) map.set(normalizePath(`/media/movies/scene-${i}.mp4`), i);
    const lookRuns: number[] = [];
    const baseRuns: number[] = [];
    let hits = 0;
    for (let run = 0; run < 5; run++) {
      let t = performance.now();
      for (const p of paths) hits += index.lookup(p).length;
      lookRuns.push(paths.length / ((performance.now() - t) / 1000));
      t = performance.now();
      for (const p of paths) hits += map.has(p) ? 1 : 0;
      baseRuns.push(paths.length / ((performance.now() - t) / 1000));
    }
    console.log(
      `lookups: median ${(median(lookRuns) / 1000).toFixed(0)}k/s (normalise + index), bare Map.get ${(median(baseRuns) / 1000).toFixed(0)}k/s → ratio ${(median(lookRuns) / median(baseRuns)).toFixed(2)} (${hits} hits)`,
    );
    client.close();

    // ---- 3. edit throughput ----
    await fake.send(`latency ${LATENCY}`);
    const svc = new PlexService({ url: fake.url, token: fake.token, clientIdFile, indexFile: path.join(dir, 'plex-index.json'), maxInFlight: IN_FLIGHT });
    const refs: PlexItemRef[] = [];
    for (let i = 0; i < SCENES; i++) refs.push((await svc.findItems(`/media/movies/scene-${i}.mp4`))[0]!);
    const runEdits = async (label: string, batch = BATCH) => {
      const before = svc.client.requestCount;
      const fakeCpu0 = (await fake.send('stats')).cpuMs as number;
      const t = performance.now();
      const cpu0 = process.cpuUsage();
      let failures = 0;
      for (let i = 0; i < SCENES; i += batch) {
        const res = await svc.applyDesiredBatch(
          refs.slice(i, i + batch).map((ref, j) => ({
            ref,
            desired: { scalars: { title: `${label} scene ${i + j}`, summary: 'Summary' }, tags: { actor: [`A${label}`, 'B'], genre: [`g${label}`] } },
          })),
        );
        failures += res.filter((r) => r instanceof PlexError).length;
      }
      const rate = SCENES / ((performance.now() - t) / 1000);
      const c = process.cpuUsage(cpu0);
      const n = svc.client.requestCount - before;
      const fakeCpuMs = ((await fake.send('stats')).cpuMs as number) - fakeCpu0;
      return { rate, perScene: n / SCENES, failures, cpuMsPerRequest: (c.user + c.system) / 1000 / n, fakeCpuMsPerRequest: fakeCpuMs / n };
    };
    // The worker's own batch sizes: hook-driven rounds are 8 scenes, bulk rounds 200.
    for (const batch of [BATCH, 8, 200]) {
      const rates: number[] = [];
      let perScene = 0;
      let failures = 0;
      for (let run = 0; run < 3; run++) {
        const r = await runEdits(`b${batch}run${run}`, batch);
        rates.push(r.rate);
        perScene = r.perScene;
        failures += r.failures;
      }
      const ideal = IN_FLIGHT / (perScene * (LATENCY / 1000));
      console.log(
        `edits: ${SCENES} changed scenes × 3 runs, batches of ${batch}, ${LATENCY} ms latency, ${IN_FLIGHT} in flight: ` +
          `median ${median(rates).toFixed(0)} scenes/s, ${perScene.toFixed(3)} requests per changed scene, ` +
          `ideal ${ideal.toFixed(0)} scenes/s → ${((median(rates) / ideal) * 100).toFixed(0)} % of ideal; failures ${failures}`,
      );
    }
    // The CPU ceiling of client + fake on this machine: the same edits with no injected latency.
    await fake.send('latency 0');
    const cpu: number[] = [];
    const clientCpu: number[] = [];
    const fakeCpu: number[] = [];
    for (let run = 0; run < 3; run++) {
      const r = await runEdits(`cpu${run}`);
      cpu.push(r.rate);
      clientCpu.push(r.cpuMsPerRequest);
      fakeCpu.push(r.fakeCpuMsPerRequest);
    }
    console.log(
      `edits with 0 ms latency (CPU ceiling of client + fake here): median ${median(cpu).toFixed(0)} scenes/s; ` +
        `CPU per request: client ${median(clientCpu).toFixed(2)} ms, fake Plex ${median(fakeCpu).toFixed(2)} ms`,
    );
    const manners = await fake.send(`manners ${IN_FLIGHT}`);
    console.log(`manners violations: ${(manners.violations as string[]).length}`);
    // Last, as its bare requests break the manners the check above holds PlexCourier to.
    await fake.send(`latency ${LATENCY}`);
    const bare = await bareRequestRate(fake.url, fake.token, 1000);
    console.log(
      `harness ceiling: a bare keep-alive client (GETs, no headers or parsing), same fake, ${LATENCY} ms, ${IN_FLIGHT} in flight: ` +
        `${bare.toFixed(0)} requests/s = ${((bare / (IN_FLIGHT / (LATENCY / 1000))) * 100).toFixed(0)} % of the ideal`,
    );
    await svc.close();
  } finally {
    fake.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

void main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
