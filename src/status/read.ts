import { promises as fsp } from 'node:fs';
import { WorkerStatusSchema, type WorkerStatus } from '../protocol';

/**
 * Reads status.json without the store's lock. Missing, torn or foreign content gives undefined
 * (the writer replaces the file atomically, but a copy from elsewhere or a full disk may not).
 */
export async function readStatus(file: string): Promise<WorkerStatus | undefined> {
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
  const parsed = WorkerStatusSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}
