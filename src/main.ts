/**
 * The Node entry, `dist/plexcourier.cjs`: one bundle for every role.
 *
 *   node plexcourier.cjs hook            the launcher's fallback: validate stdin, spool it, make sure a worker runs
 *   node plexcourier.cjs task            a Stash task (stdin: Stash's JSON with args.mode)
 *   node plexcourier.cjs worker          the worker in the foreground (a service, or a container next to Stash)
 *   node plexcourier.cjs worker --background   how hooks and tasks start it, detached
 *   node plexcourier.cjs status [--json] the queue state, from status.json
 *   node plexcourier.cjs  <stdin          no word: an operation (runPluginOperation, args.mode) or a hook, told apart by stdin
 *
 * The engine thread of the worker runs this same file (worker_threads), told apart by its workerData.
 * Every role loads its modules lazily, so a hook pays only for what it uses.
 */
import path from 'node:path';
import { isMainThread, workerData } from 'node:worker_threads';
import { resolveDataDir } from './paths';

declare const PLEXCOURIER_VERSION: string | undefined;
export const VERSION = typeof PLEXCOURIER_VERSION === 'string' ? PLEXCOURIER_VERSION : 'dev';

/** The running bundle (or script): hooks and tasks start the worker from it, the worker its engine thread. */
const entryFile = path.resolve(process.argv[1] ?? 'plexcourier.cjs');
const pluginDir = path.dirname(entryFile);

if (!isMainThread && (workerData as { role?: string } | null)?.role === 'plexcourier-engine') {
  void import('./worker/thread').then((m) => m.startEngineThread());
} else {
  void main(process.argv.slice(2)).then(
    (code) => {
      if (code !== undefined) process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`\x01e\x02PlexCourier failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}

async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  const dataDir = resolveDataDir(pluginDir);
  switch (command) {
    case 'hook': {
      const { runHookCommand } = await import('./cli/hook');
      return runHookCommand({ dataDir, entryFile });
    }
    case 'task': {
      const { runTaskCommand } = await import('./cli/task');
      return runTaskCommand({ dataDir, entryFile });
    }
    case 'worker': {
      const { runWorkerCommand } = await import('./cli/worker');
      return runWorkerCommand(rest, { dataDir, entryFile });
    }
    case 'status': {
      const { runStatusCommand } = await import('./cli/status');
      return runStatusCommand(rest, { dataDir });
    }
    case undefined:
      // runPluginOperation runs exec with no execArgs (reference/stash-plugin-protocol.md §1.3 point 1): no word,
      // the caller's args on stdin. Only a person at a terminal gets the usage text.
      if (!process.stdin.isTTY) {
        const { runUnnamedCommand } = await import('./cli/operation');
        return runUnnamedCommand({ dataDir, pluginDir, entryFile });
      }
      return usage(dataDir, 0);
    case '--version':
    case 'version':
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case '--help':
    case 'help':
      return usage(dataDir, 0);
    default:
      return usage(dataDir, 2);
  }
}

function usage(dataDir: string, code: number): number {
  process.stderr.write(
    [
      `PlexCourier ${VERSION}`,
      'usage: node plexcourier.cjs <command>',
      '  status [--json]        show the queue state',
      '  worker                 run the worker in the foreground (settings from Stash, or PLEX_URL / PLEX_TOKEN /',
      '                         STASH_URL / STASH_API_KEY in the environment)',
      '  hook | task            what Stash runs (through plexcourier.sh); not for use by hand',
      '  (no command, JSON on stdin)  an operation, as Stash runs it for runPluginOperation',
      `data directory: ${dataDir} (set PLEXCOURIER_DATA_DIR to move it)`,
      '',
    ].join('\n'),
  );
  return code;
}
