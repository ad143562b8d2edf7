/**
 * What the UI operations answer (the page, the scene badge and the settings panel in Stash read these).
 * Types only: the UI bundle imports them without any code from the plugin.
 */
import type { QueueCounts } from '../queue/types';

export type WorkerState = 'running' | 'idle' | 'not_running';

export interface UiFailedEntry {
  sceneId: string;
  message: string;
  attempts: number;
  failedAt: number;
  /** The scene's Plex item, when an earlier sync recorded it (asked of a running worker). */
  ratingKey: string | null;
  plexWebUrl: string | null;
}

export interface UiFailedGroup {
  errorClass: string;
  /** Exact number in the DLQ with this class. */
  count: number;
  /** Up to the worker's published list (200 entries over every class). */
  entries: UiFailedEntry[];
}

export interface UiStatus {
  now: number;
  worker: { state: WorkerState; pid: number | null; heartbeatAt: number | null };
  /** The same object `status --json` prints as `counts` (null before the first run). */
  counts: QueueCounts | null;
  nextRetryAt: number | null;
  inboxWaiting: number;
  breaker: { state: 'closed' | 'open' | 'half_open'; nextProbeAt: number | null; outages: { start: number; end?: number }[] } | null;
  paused: { reason: string; since: number } | null;
  /** Stash not answering the worker: the queue waits (no attempt used) until it does. */
  stashOutage: { since: number; nextProbeAt: number | null; message: string } | null;
  /** Why nothing syncs (settings missing or wrong), in words. */
  problem: string | null;
  history: { at: number; synced: number; errors: number }[];
  failed: UiFailedGroup[];
  lastErrors: { sceneId: string; class: string; message: string; at: number }[];
  session: Record<string, number> | null;
  plexUrl: string | null;
}

export type BadgeState = 'synced' | 'queued' | 'in_progress' | 'retrying' | 'failed' | 'not_in_plex' | 'skipped' | 'never' | 'unknown';

export interface UiScene {
  sceneId: string;
  worker: WorkerState;
  state: BadgeState;
  syncedAt: number | null;
  nextRunAt: number | null;
  attempts: number | null;
  /** The error or reason in words (a retry's cause, the failure, why it was skipped). */
  message: string | null;
  errorClass: string | null;
  ratingKey: string | null;
  plexWebUrl: string | null;
}

export interface UiActionResult {
  action: string;
  message: string;
  [detail: string]: unknown;
}

export interface UiHealth {
  ok: boolean;
  /** What is wrong, in words; null when everything answered. */
  problem: string | null;
  plex: { reachable: boolean; tokenValid: boolean; serverName: string | null; version: string | null; libraries: string[] };
  /** From a deep check: how many sampled Stash scenes Plex has, with examples of those it lacks. */
  paths: { sampled: number; found: number; examples: string[] } | null;
  warnings: string[];
}
