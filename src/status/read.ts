import { promises as fsp } from 'node:fs';
import { z } from 'zod';
import type { StatusSnapshot } from './snapshot';

const StatusSchema = z
  .object({
    counts: z.object({ ready: z.number(), delayed: z.number(), active: z.number(), dlq: z.number(), done: z.number() }),
    dlqByClass: z.record(z.string(), z.number()),
    oldestWaiting: z
      .object({ jobId: z.string(), sceneId: z.string(), state: z.enum(['ready', 'delayed']), since: z.number() })
      .optional(),
    pid: z.number(),
    heartbeatAt: z.number(),
  })
  .passthrough();

/**
 * Reads status.json without the store's lock. Missing, torn or foreign content gives undefined
 * (the writer replaces the file atomically, but a copy from elsewhere or a full disk may not).
 */
export async function readStatus(file: string): Promise<StatusSnapshot | undefined> {
  let raw: string;
  try {
    raw = await fsp.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const parsed = StatusSchema.safeParse(json);
  return parsed.success ? (parsed.data as StatusSnapshot) : undefined;
}
