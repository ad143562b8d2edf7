import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { SyncError } from '../sync/errors';

/*
 * A 401 is not the job's fault: every job would fail the same way, and dead-lettering them all
 * (what a per-job policy does) leaves the user a DLQ full of auth errors to redrive. Instead the
 * whole queue pauses with a reason the status shows (plex-api.md §7: "401 … stop the queue and
 * alert"). While paused one probe at a time checks the credentials: at once when the settings
 * changed (the user fixed the token); on a growing schedule otherwise (a token that works again with
 * no settings change: Plex regained plex.tv, or the user restored it there); and soon after a new
 * event arrives, since the user is editing right now and wants to see it in Plex.
 */

export interface AuthPauseOptions {
  /** The first unprompted probe comes this long after the pause began; each failed one doubles the wait. Defaults to 30 s. */
  firstProbeMs: number;
  /** The longest wait between unprompted probes. Defaults to 10 min. */
  maxProbeMs: number;
  /** A new event probes at once, but never sooner than this after the last probe. Defaults to 30 s. */
  eventProbeMinMs: number;
}

export const DEFAULT_AUTH_PAUSE_OPTIONS: Readonly<AuthPauseOptions> = Object.freeze({
  firstProbeMs: 30_000,
  maxProbeMs: 600_000,
  eventProbeMinMs: 30_000,
});

export const authPauseSchema = z.object({
  /** Which side refused us. */
  source: z.enum(['plex', 'stash']),
  /** One line for the log and status: what failed and what to do. */
  reason: z.string(),
  since: z.number(),
  /** Fingerprint of the settings that last failed (at pause or at the last probe). */
  settingsFingerprint: z.string(),
  lastProbeAt: z.number().nullable(),
  probeInFlight: z.boolean(),
  /** Unprompted probes that failed in a row: the schedule grows with them. */
  failedProbes: z.number().int().nonnegative().default(0),
  /** A new event arrived since the last probe. */
  eventWaiting: z.boolean().default(false),
});
export type AuthPause = z.infer<typeof authPauseSchema>;

/**
 * A short digest of the settings a probe depends on (URL, token, API key …), to notice that the
 * user changed them without keeping the secrets themselves anywhere.
 */
export function settingsFingerprint(values: readonly string[]): string {
  const h = createHash('sha256').update('plexcourier-settings\0');
  for (const v of values) h.update(`${v.length}:${v}\0`);
  return h.digest('hex').slice(0, 16);
}

function reasonFor(error: SyncError): { source: AuthPause['source']; reason: string } {
  if (error.class === 'stash_unauthorized') {
    return {
      source: 'stash',
      reason: `${error.message}; the queue resumes once a check succeeds`,
    };
  }
  return {
    source: 'plex',
    reason: `${error.message}; the queue resumes once a check succeeds`,
  };
}

/** Starts a pause, or refreshes the reason of one already in place (keeping when it began). */
export function pauseForAuth(error: SyncError, now: number, fingerprint: string, existing: AuthPause | null = null): AuthPause {
  const { source, reason } = reasonFor(error);
  if (existing) return { ...existing, source, reason, settingsFingerprint: fingerprint, probeInFlight: false };
  return { source, reason, since: now, settingsFingerprint: fingerprint, lastProbeAt: null, probeInFlight: false, failedProbes: 0, eventWaiting: false };
}

/** How long after the last probe (or the pause's start) the next unprompted one is due: 30 s, 1, 2, 4, 8, then 10 min. */
export function authProbeWait(pause: AuthPause, options: AuthPauseOptions = DEFAULT_AUTH_PAUSE_OPTIONS): number {
  return Math.min(options.maxProbeMs, options.firstProbeMs * 2 ** Math.min(pause.failedProbes, 30));
}

/** Whether a probe may start now: none out, and the settings changed, an event waits, or the schedule says so. */
export function authProbeDue(pause: AuthPause, now: number, fingerprint: string, options: AuthPauseOptions = DEFAULT_AUTH_PAUSE_OPTIONS): boolean {
  if (pause.probeInFlight) return false;
  if (fingerprint !== pause.settingsFingerprint) return true;
  const elapsed = now - (pause.lastProbeAt ?? pause.since);
  if (pause.eventWaiting && elapsed >= options.eventProbeMinMs) return true;
  return elapsed >= authProbeWait(pause, options);
}

/** A new event arrived while paused: the next probe may come early. */
export function noteEventWhilePaused(pause: AuthPause): AuthPause {
  return pause.eventWaiting ? pause : { ...pause, eventWaiting: true };
}

/** Takes the single probe slot when due. */
export function acquireAuthProbe(
  pause: AuthPause,
  now: number,
  fingerprint: string,
  options: AuthPauseOptions = DEFAULT_AUTH_PAUSE_OPTIONS,
): { pause: AuthPause; granted: boolean } {
  if (!authProbeDue(pause, now, fingerprint, options)) return { pause, granted: false };
  return { pause: { ...pause, probeInFlight: true, lastProbeAt: now, settingsFingerprint: fingerprint, eventWaiting: false }, granted: true };
}

/**
 * The probe's outcome: success ends the pause (`null`); a failure keeps it, waiting for the next
 * settings change or interval. `error` refreshes the reason when the probe learnt something new.
 */
export function authProbeResult(pause: AuthPause, ok: boolean, error?: SyncError): AuthPause | null {
  if (ok) return null;
  const next: AuthPause = { ...pause, probeInFlight: false, failedProbes: pause.failedProbes + 1 };
  if (error) Object.assign(next, reasonFor(error));
  return next;
}

/** A pause read back by a new worker: the old worker's probe died with it. */
export function resumeAuthPause(pause: AuthPause): AuthPause {
  return { ...pause, probeInFlight: false };
}
