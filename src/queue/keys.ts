/**
 * LevelDB key layout (reference/queue-research.md §7). Every number is fixed-width lowercase hex
 * so that byte order equals tuple order; unpadded decimals mis-sort ('10' < '9', §3.4).
 * Prefixes are sublevel-style `name!`; `name"` ('!' + 1) bounds a prefix range.
 *
 *   job!<jobId>                 Job JSON (source of truth)
 *   scene!<sceneId>             jobId: one job per scene
 *   ready!<pp>!<seq>            jobId: dispatch order, priority then FIFO
 *   delayed!<ts>!<seq>          jobId: retries and deferrals, by run time
 *   active!<jobId>              startedAt: orphan detection at open (§6.1)
 *   dlq!<ts failedAt>!<seq>     DlqEntry JSON, by age
 *   done!<ts finishedAt>!<seq>  DoneRecord JSON, by age (TTL)
 *   rec!<sceneId>               SyncRecord JSON (survives everything but a scene's removal)
 *   seen!<inbox file name>      ingestedAt: idempotent ingest; names start with ms13 so these sort by time
 *   meta!<key>                  JSON for other modules (breaker, outage log)
 *   sys!seq                     the persisted sequence counter
 */

export const TS_WIDTH = 12;
export const SEQ_WIDTH = 12;
export const PRIORITY_WIDTH = 2;

const MAX = { [TS_WIDTH]: 0xffff_ffff_ffff, [PRIORITY_WIDTH]: 0xff } as Record<number, number>;

/** Fixed-width lowercase hex of a non-negative safe integer. */
export function hex(n: number, width: number): string {
  const max = MAX[width] ?? 16 ** width - 1;
  if (!Number.isSafeInteger(n) || n < 0 || n > max) {
    throw new RangeError(`key number ${n} does not fit ${width} hex digits`);
  }
  return n.toString(16).padStart(width, '0');
}

export function unhex(s: string): number {
  if (!/^[0-9a-f]+$/.test(s)) throw new RangeError(`'${s}' is not a lowercase hex key part`);
  return parseInt(s, 16);
}

export type Prefix = 'job' | 'scene' | 'ready' | 'delayed' | 'active' | 'dlq' | 'done' | 'rec' | 'seen' | 'meta' | 'sys';

export const prefix = (p: Prefix): string => `${p}!`;
/** Range covering every key of a prefix: [gte, lt). */
export const range = (p: Prefix): { gte: string; lt: string } => ({ gte: `${p}!`, lt: `${p}"` });

export const jobIdOf = (seq: number): string => hex(seq, SEQ_WIDTH);

export const jobKey = (jobId: string): string => `job!${jobId}`;
export const sceneKey = (sceneId: string): string => `scene!${sceneId}`;
export const activeKey = (jobId: string): string => `active!${jobId}`;
export const recKey = (sceneId: string): string => `rec!${sceneId}`;
export const seenKey = (name: string): string => `seen!${name}`;
export const metaKey = (key: string): string => `meta!${key}`;
export const SEQ_KEY = 'sys!seq';

/** The index part (after the prefix) of a ready key: priority, then FIFO sequence. */
export const readyPart = (priority: number, seq: number): string => `${hex(priority, PRIORITY_WIDTH)}!${hex(seq, SEQ_WIDTH)}`;
/** The index part of a delayed, dlq or done key: time, then sequence. */
export const timedPart = (ms: number, seq: number): string => `${hex(ms, TS_WIDTH)}!${hex(seq, SEQ_WIDTH)}`;

export const readyKey = (part: string): string => `ready!${part}`;
export const delayedKey = (part: string): string => `delayed!${part}`;
export const dlqKey = (part: string): string => `dlq!${part}`;
export const doneKey = (part: string): string => `done!${part}`;

/** Splits `<a>!<b>` index parts back into numbers. */
export function decodePart(part: string): [number, number] {
  const [a, b, ...rest] = part.split('!');
  if (a === undefined || b === undefined || rest.length > 0) throw new RangeError(`'${part}' is not a two-part index key`);
  return [unhex(a), unhex(b)];
}

/** Everything strictly before this part sorts at or before time `ms` (any sequence). */
export const timedUpTo = (ms: number): string => `${hex(ms, TS_WIDTH)}!~`;
