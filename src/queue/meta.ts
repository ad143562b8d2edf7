import * as K from './keys';
import { safeJson, type StoreIo } from './records';

/**
 * Values other modules keep in the store (`meta!<key>`): the breaker's state and the auth pause, so
 * they survive a worker restart. Stored unchecked: the owner validates what it reads with its schema.
 */
export class MetaStore {
  constructor(private readonly io: StoreIo) {}

  /** Keys in use: `breaker` and `pause` (src/worker/dispatch.ts). */
  async get(key: string): Promise<unknown> {
    this.io.usable();
    const raw = await this.io.get(K.metaKey(key));
    return raw === undefined ? undefined : safeJson(raw);
  }

  async put(key: string, value: unknown): Promise<void> {
    this.io.usable();
    await this.io.commit([{ type: 'put', key: K.metaKey(key), value: JSON.stringify(value) }], true);
  }
}
