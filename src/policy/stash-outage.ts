/*
 * Stash not answering (restarting, stopped, a proxy in front of it saying 502) is not any job's fault, and
 * every job would fail the same way. So the worker treats it as Plex's breaker does an outage: the jobs stay
 * queued with no attempt spent, one probe round at a time checks whether Stash is back, on a growing
 * schedule, and the status says since when Stash is unreachable.
 */

export interface StashOutageOptions {
  /** The first probe comes this long after the failure; each failed probe doubles the wait. Defaults to 30 s. */
  firstProbeMs: number;
  /** The longest wait between probes. Defaults to 10 min. */
  maxProbeMs: number;
  /** After a hook or task, the probe comes this long after the last failure at the soonest. Defaults to 5 s. */
  promptedProbeMs: number;
}

export const DEFAULT_STASH_OUTAGE_OPTIONS: Readonly<StashOutageOptions> = Object.freeze({
  firstProbeMs: 30_000,
  maxProbeMs: 600_000,
  promptedProbeMs: 5_000,
});

export interface StashOutage {
  /** When Stash first failed to answer. */
  since: number;
  /** The last failure: the one that started the outage, or the last probe. */
  lastFailureAt: number;
  failedProbes: number;
  /** What the last failure said, for the status. */
  message: string;
  /** Probe at once: a hook or task just ran, so Stash was up a moment ago. */
  probeNow?: boolean;
}

export function startStashOutage(now: number, message: string): StashOutage {
  return { since: now, lastFailureAt: now, failedProbes: 0, message };
}

/** A probe failed too: the next waits twice as long (up to the cap). */
export function stashProbeFailed(outage: StashOutage, now: number, message: string): StashOutage {
  return { ...outage, lastFailureAt: now, failedProbes: outage.failedProbes + 1, message, probeNow: false };
}

/** Stash ran a hook or a task for us just now: it is worth a probe soon (a burst of hooks still makes one). */
export function probeStashNow(outage: StashOutage): StashOutage {
  return outage.probeNow ? outage : { ...outage, probeNow: true };
}

/** When the next probe may go: 30 s, 1, 2, 4, 8, then every 10 min after the last failure; 5 s when prompted. */
export function nextStashProbeAt(outage: StashOutage, options: StashOutageOptions = DEFAULT_STASH_OUTAGE_OPTIONS): number {
  const scheduled = Math.min(options.maxProbeMs, options.firstProbeMs * 2 ** Math.min(outage.failedProbes, 30));
  return outage.lastFailureAt + (outage.probeNow ? Math.min(options.promptedProbeMs, scheduled) : scheduled);
}
