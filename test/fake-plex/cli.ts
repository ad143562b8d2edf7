/**
 * Runs a fake Plex in its own process (benchmarks, the demo, end-to-end tests).
 *
 *   node --import tsx test/fake-plex/cli.ts [--items N] [--latency MS] [--port P] [--token T] [--root /media/movies]
 *
 * Prints one JSON line `{"url","token","port","items"}` on stdout when ready, then reads commands
 * from stdin, one per line: `latency <ms>`, `down`, `up`, `stats` (prints {"requests","maxInFlightSeen","cpuMs"}),
 * `manners <maxInFlight>` (prints {"violations":[...]}), `clearlog`, `timings` (prints
 * {"requests","puts","first","last"}: first arrival and last answer in epoch ms), `quit`. Exits when stdin closes.
 */
import readline from 'node:readline';
import { startFakePlex } from './server';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** CPU time this process has used, in ms (benchmarks subtract the fake's share). */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function main(): Promise<void> {
  const items = Number(arg('items') ?? 0);
  const root = arg('root') ?? '/media/movies';
  const opts: Parameters<typeof startFakePlex>[0] = {
    latencyMs: Number(arg('latency') ?? 0),
    port: Number(arg('port') ?? 0),
    sections: [{ title: 'Movies', type: 'movie', locations: [root] }],
  };
  const token = arg('token');
  if (token) opts.token = token;
  const plex = await startFakePlex(opts);
  /** The request log in brief: counts, and when the first request arrived and the last answer left (epoch ms). */
  const timings = () => {
    const log = plex.requestLog;
    const epoch = (t: number) => performance.timeOrigin + t;
    return {
      requests: log.length,
      puts: log.filter((r) => r.method === 'PUT').length,
      first: log.length ? epoch(Math.min(...log.map((r) => r.arrivedAt))) : null,
      last: log.length ? epoch(Math.max(...log.map((r) => r.answeredAt ?? r.arrivedAt))) : null,
    };
  };
  const batch = 10_000;
  for (let i = 0; i < items; i += batch) {
    plex.addItems(
      Array.from({ length: Math.min(batch, items - i) }, (_, j) => ({
        file: `${root}/scene-${i + j}.mp4`,
        size: 1_000_000 + i + j,
        addedAt: 1_600_000_000 + i + j,
      })),
    );
  }
  process.stdout.write(JSON.stringify({ url: plex.url, token: plex.token, port: plex.port, items }) + '\n');
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    void (async () => {
      const [cmd, v] = line.trim().split(/\s+/);
      if (cmd === 'latency') plex.setLatency(Number(v ?? 0));
      else if (cmd === 'down') await plex.down();
      else if (cmd === 'up') await plex.up();
      else if (cmd === 'stats') process.stdout.write(JSON.stringify({ requests: plex.requestLog.length, maxInFlightSeen: plex.maxInFlightSeen, cpuMs: cpuMs() }) + '\n');
      else if (cmd === 'clearlog') {
        plex.clearLog();
        process.stdout.write(JSON.stringify({ ok: cmd }) + '\n');
      } else if (cmd === 'timings') process.stdout.write(JSON.stringify(timings()) + '\n');
      // `genre <name>`: how many items carry that genre (a rename's reach). The name is URI-encoded.
      else if (cmd === 'genre') {
        const name = decodeURIComponent(v ?? '');
        process.stdout.write(JSON.stringify({ items: plex.items().filter((i) => i.tags.Genre.some((t) => t.tag === name)).length }) + '\n');
      } else if (cmd === 'manners') process.stdout.write(JSON.stringify({ violations: plex.mannersViolations({ maxInFlight: Number(v ?? 2) }) }) + '\n');
      else if (cmd === 'quit') {
        await plex.close();
        process.exit(0);
      }
      if (cmd === 'latency' || cmd === 'down' || cmd === 'up') process.stdout.write(JSON.stringify({ ok: cmd }) + '\n');
    })();
  });
  rl.on('close', () => {
    void plex.close().then(() => process.exit(0));
  });
}

void main();
