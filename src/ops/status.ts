import { readStatusSnapshot } from '../tasks/status';
import type { OperationHandler } from './index';

/**
 * `status`: the object `node plexcourier.cjs status --json` prints, read from status.json and the pid file
 * (never the store). It holds no Plex token: the worker never writes one into status.json.
 */
export const statusOperation: OperationHandler = async (ctx) => (await readStatusSnapshot(ctx.dataDir)).snapshot;
