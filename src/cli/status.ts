import { readStatusSnapshot } from '../tasks/status';

/** `node plexcourier.cjs status [--json]`: the queue state from status.json, without touching the store. */
export async function runStatusCommand(args: string[], ctx: { dataDir: string }): Promise<number> {
  const { snapshot, lines } = await readStatusSnapshot(ctx.dataDir);
  if (args.includes('--json')) process.stdout.write(`${JSON.stringify(snapshot, null, 2)}\n`);
  else process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
