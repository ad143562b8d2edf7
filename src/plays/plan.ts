import type { JournalEntry } from './journal';

/**
 * Pure decisions of a plays import: what to do with one Plex history row, and whether a pending
 * journal entry's play already reached Stash. Tested in test/plays/plan.test.ts.
 */

export type RowDecision =
  /** Journal says it is in Stash already. */
  | { kind: 'already_applied' }
  /** Seen before and matched no scene; only a backfill looks at it again. */
  | { kind: 'known_unmatched' }
  | { kind: 'apply'; sceneId: string }
  | { kind: 'unmatched'; reason: 'no_rating_key' | 'not_synced' | 'several_scenes'; sceneIds: readonly string[] };

/**
 * One history row. `sceneIds` are the scenes whose sync records name the row's ratingKey: exactly one
 * is a match; none or several is unmatched (counted and reported, never guessed).
 */
export function decideRow(
  row: { ratingKey?: string },
  entry: JournalEntry | undefined,
  sceneIds: readonly string[] | undefined,
  backfill: boolean,
): RowDecision {
  if (entry?.state === 'applied' || entry?.state === 'pending') return { kind: 'already_applied' };
  if (entry?.state === 'unmatched' && !backfill) return { kind: 'known_unmatched' };
  if (row.ratingKey === undefined) return { kind: 'unmatched', reason: 'no_rating_key', sceneIds: [] };
  const ids = sceneIds ?? [];
  if (ids.length === 1) return { kind: 'apply', sceneId: ids[0]! };
  return { kind: 'unmatched', reason: ids.length === 0 ? 'not_synced' : 'several_scenes', sceneIds: ids };
}

/**
 * A pending entry's play is in Stash when Stash holds more plays at that second than the journal
 * knows it added there (applied entries of the same scene and time). Counting, not just "is the time
 * there", keeps two plays of the same second apart.
 */
export function pendingReachedStash(playsInStashAtTime: number, appliedByUsAtTime: number): boolean {
  return playsInStashAtTime > appliedByUsAtTime;
}

/** Where a check starts reading: a little before the watermark, so rows written late are not missed (the journal drops repeats). */
export function checkStart(watermark: number | undefined, nowSeconds: number, overlapSeconds: number): number {
  return Math.max(0, (watermark ?? nowSeconds) - overlapSeconds);
}

/** The watermark after reading rows up to `newest`: never backwards; a first check starts at where it read from. */
export function nextWatermark(old: number | undefined, newestRow: number | undefined, readFrom: number): number {
  return Math.max(old ?? 0, newestRow ?? 0, old === undefined ? readFrom : 0);
}
