import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { plexItems, sceneState, writeResult, type CommandContext } from './commands';
import { queryDir } from './query-dir';

/**
 * Read-only questions from the page in Stash (the scene badge), answered at once even while a round of
 * jobs is being written: the engine's loop only comes back to the inbox between rounds, which during a
 * Sync All can take many seconds, and a badge should not wait that long. They use their own folder, so
 * the inbox's ingestion never sees them, and they change nothing, so order does not matter.
 *
 * A query is `queries/<id>.json` (written as `.tmp`, then renamed): `{"id", "query": "scene_state",
 * "sceneId"}` (the badge) or `{"id", "query": "plex_items", "sceneIds"}` (the failed list's Plex items);
 * the answer goes to `results/<id>.json` like a command's.
 */
export { queryDir } from './query-dir';

const id = z.string().regex(/^[0-9a-z-]+$/);
const sceneId = z.string().regex(/^\d+$/);
const querySchema = z.discriminatedUnion('query', [
  z.object({ id, query: z.literal('scene_state'), sceneId }),
  z.object({ id, query: z.literal('plex_items'), sceneIds: z.array(sceneId).max(1_000) }),
]);

export type Query = z.infer<typeof querySchema>;

/** Starts answering queries; returns a function that stops. */
export function startQueryResponder(ctx: CommandContext): () => void {
  const dir = queryDir(ctx.paths);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  let running = false;
  let again = false;
  const sweep = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        let names: string[] = [];
        try {
          names = fs.readdirSync(dir).filter((n) => n.endsWith('.json'));
        } catch {
          return;
        }
        for (const name of names) {
          const file = path.join(dir, name);
          let raw: string;
          try {
            raw = fs.readFileSync(file, 'utf8');
            fs.rmSync(file, { force: true });
          } catch {
            continue;
          }
          let parsed;
          try {
            parsed = querySchema.safeParse(JSON.parse(raw));
          } catch {
            parsed = undefined;
          }
          if (!parsed?.success) {
            ctx.log.warn(`ignored an unreadable query file ${name}`);
            continue;
          }
          const q = parsed.data;
          try {
            const data = q.query === 'scene_state' ? await sceneState(q.sceneId, ctx) : await plexItems(q.sceneIds, ctx);
            writeResult(ctx.paths, { id: q.id, ok: true, message: q.query, data });
          } catch (err) {
            writeResult(ctx.paths, { id: q.id, ok: false, message: (err as Error).message });
          }
        }
      } while (again);
    } finally {
      running = false;
    }
  };
  let watcher: fs.FSWatcher | undefined;
  try {
    watcher = fs.watch(dir, () => void sweep());
  } catch {
    // polled below
  }
  const timer = setInterval(() => void sweep(), 1_000);
  timer.unref?.();
  void sweep();
  return () => {
    watcher?.close();
    clearInterval(timer);
  };
}
