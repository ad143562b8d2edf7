import { runDaemon } from '../worker/daemon';

/**
 * `node plexcourier.cjs worker [--background]`.
 *
 * Foreground (a service, or a container next to Stash): never exits when idle, logs to stderr too.
 * Where Stash is and the settings can come from the environment, so it can start before any hook:
 *   STASH_URL (e.g. http://stash:9999), STASH_API_KEY, PLEX_URL, PLEX_TOKEN, PLEXCOURIER_PATH_MAP, PLEXCOURIER_LIBRARIES.
 * Settings saved in Stash still apply; the environment wins where both are set.
 */
export async function runWorkerCommand(args: string[], ctx: { dataDir: string; entryFile: string }): Promise<number> {
  const background = args.includes('--background');
  const env = process.env;
  const override: Record<string, unknown> = {};
  const fromEnv: [string, string][] = [
    ['PLEX_URL', 'plex_url'],
    ['PLEX_TOKEN', 'plex_token'],
    ['STASH_API_KEY', 'stash_api_key'],
    ['PLEXCOURIER_PATH_MAP', 'path_map'],
    ['PLEXCOURIER_LIBRARIES', 'plex_libraries'],
  ];
  for (const [name, key] of fromEnv) if (env[name]) override[key] = env[name];
  const idleFromEnv = Number(env.PLEXCOURIER_IDLE_MS);
  return runDaemon({
    dataDir: ctx.dataDir,
    entryFile: ctx.entryFile,
    foreground: !background,
    init: {
      idleMs: !background ? Number.POSITIVE_INFINITY : Number.isFinite(idleFromEnv) && idleFromEnv > 0 ? idleFromEnv : 0,
      debug: env.PLEXCOURIER_DEBUG === '1',
      stashUrl: flag(args, '--stash-url') ?? env.STASH_URL,
      settingsOverride: override,
    },
  });
}

function flag(args: string[], name: string): string | undefined {
  const hit = args.find((a) => a.startsWith(`${name}=`));
  return hit?.slice(name.length + 1);
}
