import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { SyncError } from '../sync/errors';

/*
 * A 401 is not the job's fault: every job would fail the same way, and dead-lettering them all
 * (what a per-job policy does) leaves the user a DLQ full of auth errors to redrive. Instead the
 * whole queue pauses with a reason the status shows (plex-api.md §7: "401 … stop the queue and
 * alert"). While paused one probe at a time checks the credentials: at once when the settings
 * changed (the user fixed the token), otherwise every `probeEveryMs` (a token revoked and
 * restored on plex.tv without any settings change).
 */

export interface AuthPauseOptions {
  /** Probe this often when the settings have not changed. Defaults to 10 min. */
  probeEveryMs: number;
}

export const DEFAULT_AUTH_PAUSE_OPTIONS: Readonly<AuthPauseOptions> = Object.freeze({ probeEveryMs: 600_000 });

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
  return { source, reason, since: now, settingsFingerprint: fingerprint, lastProbeAt: null, probeInFlight: false };
}

/** Whether a probe may start now: none out, and the settings changed or the interval passed. */
export function authProbeDue(pause: AuthPause, now: number, fingerprint: string, options: AuthPauseOptions = DEFAULT_AUTH_PAUSE_OPTIONS): boolean {
  if (pause.probeInFlight) return false;
  if (fingerprint !== pause.settingsFingerprint) return true;
  return now - (pause.lastProbeAt ?? pause.since) >= options.probeEveryMs;
}

/** Takes the single probe slot when due. */
export function acquireAuthProbe(
  pause: AuthPause,
  now: number,
  fingerprint: string,
  options: AuthPauseOptions = DEFAULT_AUTH_PAUSE_OPTIONS,
): { pause: AuthPause; granted: boolean } {
  if (!authProbeDue(pause, now, fingerprint, options)) return { pause, granted: false };
  return { pause: { ...pause, probeInFlight: true, lastProbeAt: now, settingsFingerprint: fingerprint }, granted: true };
}

/**
 * The probe's outcome: success ends the pause (`null`); a failure keeps it, waiting for the next
 * settings change or interval. `error` refreshes the reason when the probe learnt something new.
 */
export function authProbeResult(pause: AuthPause, ok: boolean, error?: SyncError): AuthPause | null {
  if (ok) return null;
  const next: AuthPause = { ...pause, probeInFlight: false };
  if (error) Object.assign(next, reasonFor(error));
  return next;
}

/** A pause read back by a new worker: the old worker's probe died with it. */
export function resumeAuthPause(pause: AuthPause): AuthPause {
  return { ...pause, probeInFlight: false };
}
