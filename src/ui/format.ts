/**
 * Words for what the UI shows: pure functions over the operations' answers, so their wording is tested
 * without a browser. No DOM and no React here.
 */
import type { UiScene, UiStatus } from '../ops/ui-types';

/** Each error class of src/sync/errors.ts, as a user would say it. */
export const ERROR_CLASS_WORDS: Record<string, string> = {
  network: 'Plex unreachable',
  timeout: 'Plex too slow to answer',
  server: 'Plex server error',
  lost_write: 'Plex did not keep the change',
  rate_limited: 'Plex asked us to slow down',
  not_found: 'Plex does not have the file',
  unauthorized: 'Plex refused the token',
  bad_request: 'Plex refused the change',
  ambiguous: 'several Plex items share the file',
  invalid_response: 'Plex answered gibberish',
  too_large: 'poster too large for Plex',
  stash_unreachable: 'Stash unreachable',
  stash_unauthorized: 'Stash refused the plugin',
  scene_missing: 'scene deleted in Stash',
  internal: 'PlexCourier bug',
  poison: 'crashed the worker repeatedly',
};

export function errorClassWords(cls: string | null | undefined): string {
  if (!cls) return 'unknown error';
  return ERROR_CLASS_WORDS[cls] ?? cls.replace(/_/g, ' ');
}

/** "14:05", or "Dec 5, 14:05" when not today (local time of the browser). */
export function clock(at: number, now: number = Date.now()): string {
  const d = new Date(at);
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  const today = new Date(now);
  if (d.toDateString() === today.toDateString()) return hm;
  return `${d.toLocaleString('en', { month: 'short' })} ${d.getDate()}, ${hm}`;
}

/** "just now", "40 s ago", "3 min ago", "2 h ago", "4 days ago". */
export function ago(at: number, now: number = Date.now()): string {
  const ms = Math.max(0, now - at);
  if (ms < 5_000) return 'just now';
  if (ms < 60_000) return `${Math.round(ms / 1000)} s ago`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min ago`;
  if (ms < 2 * 86_400_000) return `${Math.round(ms / 3_600_000)} h ago`;
  return `${Math.round(ms / 86_400_000)} days ago`;
}

export function workerWords(s: UiStatus): string {
  switch (s.worker.state) {
    case 'running':
      return 'running';
    case 'idle':
      return 'idle (waiting for changes)';
    case 'not_running':
      return s.worker.heartbeatAt ? `not running (last seen ${ago(s.worker.heartbeatAt, s.now)}; the next scene edit starts it)` : 'not running yet';
  }
}

export function breakerWords(b: UiStatus['breaker'], now: number): { text: string; tone: 'success' | 'warning' | 'danger' } {
  if (!b || b.state === 'closed') return { text: 'Plex connection healthy', tone: 'success' };
  if (b.state === 'half_open') return { text: 'Plex was down: probing with one scene', tone: 'warning' };
  return { text: `Plex is not answering: paused until ${b.nextProbeAt ? clock(b.nextProbeAt, now) : 'the next probe'}, no attempts used meanwhile`, tone: 'danger' };
}

/** The badge's one line: "Plex: synced 3 min ago", "Plex: waiting to retry (Plex unreachable), next try 14:05", … */
export function badgeWords(s: UiScene, now: number = Date.now()): string {
  switch (s.state) {
    case 'synced':
      return `Plex: synced ${s.syncedAt ? ago(s.syncedAt, now) : ''}`.trim();
    case 'queued':
      return 'Plex: queued';
    case 'in_progress':
      return 'Plex: sending now';
    case 'retrying':
      return `Plex: waiting to retry (${errorClassWords(s.errorClass)})${s.nextRunAt ? `, next try ${clock(s.nextRunAt, now)}` : ''}`;
    case 'failed':
      return `Plex: failed: ${s.message ?? errorClassWords(s.errorClass)}`;
    case 'not_in_plex':
      return 'Plex: not in Plex';
    case 'skipped':
      return `Plex: skipped${s.message ? ` (${s.message})` : ''}`;
    case 'never':
      return 'Plex: not synced yet';
    case 'unknown':
      return s.worker === 'not_running' ? 'Plex: status unknown (PlexCourier is not running)' : 'Plex: status unknown';
  }
}

export function badgeTone(s: UiScene): 'success' | 'info' | 'warning' | 'danger' | 'secondary' {
  return ({ synced: 'success', queued: 'info', in_progress: 'info', retrying: 'warning', failed: 'danger', not_in_plex: 'warning', skipped: 'secondary', never: 'secondary', unknown: 'secondary' } as const)[s.state];
}

/** "30 days — default" / "12 attempts" for a NUMBER setting whose 0 means the built-in default. */
export function effectiveNumber(saved: unknown, fallback: number, unit: string): string {
  const n = typeof saved === 'number' ? saved : typeof saved === 'string' && saved.trim() !== '' ? Number(saved) : 0;
  const plural = (v: number) => (v === 1 ? unit.replace(/s$/, '') : unit);
  if (!Number.isFinite(n) || n === 0) return `${fallback} ${plural(fallback)} — default`;
  return `${n} ${plural(n)}`;
}
