import * as K from './keys';
import type { Op } from './state';
import { SyncRecordSchema, type SyncRecord } from './types';

/** What the store gives the modules that keep their own keys in it: reads, and one way to write. */
export interface StoreIo {
  get(key: string): Promise<string | undefined>;
  getMany(keys: string[]): Promise<(string | undefined)[]>;
  keys(range: { gte: string; lt: string }): AsyncIterable<string>;
  commit(ops: Op[], sync: boolean): Promise<void>;
  usable(): void;
}

/**
 * Per-scene sync records (`rec!<sceneId>`): what was last written to Plex, the image hashes and the
 * ratingKeys, so an unchanged scene costs nothing. A completion writes its record in the same batch
 * (see transitions/complete.ts); removing a scene deletes it.
 */
export class SyncRecords {
  constructor(private readonly io: StoreIo) {}

  /** Several scenes' records in one read (a round's worth), in the order asked. */
  async get(sceneIds: readonly string[]): Promise<(SyncRecord | undefined)[]> {
    this.io.usable();
    const raws = await this.io.getMany(sceneIds.map((id) => K.recKey(id)));
    return raws.map((raw) => {
      if (raw === undefined) return undefined;
      const parsed = SyncRecordSchema.safeParse(safeJson(raw));
      // A record that no longer validates only costs a full re-sync of that scene.
      return parsed.success ? parsed.data : undefined;
    });
  }

  async getOne(sceneId: string): Promise<SyncRecord | undefined> {
    const [record] = await this.get([sceneId]);
    return record;
  }
}

export function putRecordOp(sceneId: string, record: SyncRecord): Op {
  return { type: 'put', key: K.recKey(sceneId), value: JSON.stringify(SyncRecordSchema.parse(record)) };
}

export function deleteRecordOp(sceneId: string): Op {
  return { type: 'del', key: K.recKey(sceneId) };
}

export function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
