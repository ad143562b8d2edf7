#!/usr/bin/env node
// `npm run bench`: runs every benchmark script under bench/ one after another (they share 2 cores, so
// never in parallel) and writes BENCHMARKS.md: each script's figures, with the machine and the command
// to reproduce them. Each script prints its own baselines, measured in the same run.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const scripts = [
  ['hook.ts', 'Hook path: the sh launcher against the one-fork spool and bare Node start-up'],
  ['queue.ts', 'Queue: inbox writes, ingestion, dispatch, first-ready lookup'],
  ['plex.ts', 'Plex client: path index, lookups, edit throughput'],
  ['sync.ts', 'End to end: sync throughput, Sync All, worker memory'],
  ['ui.ts', 'Operations behind the page in Stash: each as Stash runs it, against bare Node start-up'],
  ['follow.ts', 'Following renames: a tag rename fanned out to 1,000 scenes, and its hook'],
];
const only = process.argv.slice(2);

if (!fs.existsSync(path.join(root, 'dist', 'plexcourier.cjs'))) {
  console.log('building dist/ first');
  const b = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const sections = [
  '# Benchmarks',
  '',
  `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ` +
    `${os.type()} ${os.release()}, Node ${process.version}. Reproduce with \`npm run bench\` ` +
    '(or `node --import tsx bench/<script>.ts` for one). Every ratio is against a baseline measured in the same run.',
  '',
];
let failed = 0;
for (const [file, title] of scripts) {
  if (only.length && !only.some((o) => file.startsWith(o))) continue;
  const full = path.join(root, 'bench', file);
  if (!fs.existsSync(full)) continue;
  // Start each script on a quiet machine: the queue bench leaves the kernel writing back LevelDB files.
  spawnSync('sync');
  await new Promise((r) => setTimeout(r, 5_000));
  console.log(`\n=== ${file}: ${title}`);
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', full], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  process.stdout.write(r.stdout ?? '');
  process.stderr.write(r.stderr ?? '');
  const secs = ((Date.now() - started) / 1000).toFixed(0);
  sections.push(`## ${title}`, '', `\`node --import tsx bench/${file}\` (${secs} s, ${new Date().toISOString().slice(0, 10)})`, '', '```', (r.stdout ?? '').trim(), '```', '');
  if (r.status !== 0) {
    failed += 1;
    sections.push(`**${file} exited with ${r.status}**: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' / ')}`, '');
  }
}
const out = path.join(root, 'BENCHMARKS.md');
if (only.length && fs.existsSync(out)) {
  // Some scripts only (`npm run bench -- hook`): replace their sections and keep the others' figures.
  const fresh = new Map(sections.join('\n').split(/\n(?=## )/).slice(1).map((part) => [part.split('\n', 1)[0], part]));
  const old = fs.readFileSync(out, 'utf8').split(/\n(?=## )/);
  const merged = old.map((part, i) => (i > 0 && fresh.has(part.split('\n', 1)[0]) ? fresh.get(part.split('\n', 1)[0]).trimEnd() + '\n' : part));
  fs.writeFileSync(out, merged.join('\n'));
} else {
  fs.writeFileSync(out, sections.join('\n'));
}
console.log(`\nwrote BENCHMARKS.md${failed ? ` (${failed} script(s) failed)` : ''}`);
process.exit(failed ? 1 : 0);
