/**
 * Partial scans for files Plex does not know yet (reference/plex-api.md §6): the mapped
 * Plex-side folder, never the Stash path, debounced per section and folder so a bulk edit of
 * one folder asks Plex once.
 */
import type { PlexClient } from './client';

export interface ScanOptions {
  /** Minimum time between two scans of one folder. Default 90 s (§6, nuarr's figure). */
  debounceMs?: number;
  now?: () => number;
}

export class ScanScheduler {
  private readonly last = new Map<string, number>();
  private readonly debounceMs: number;
  private readonly now: () => number;

  constructor(
    private readonly client: PlexClient,
    opts: ScanOptions = {},
  ) {
    this.debounceMs = opts.debounceMs ?? 90_000;
    this.now = opts.now ?? Date.now;
  }

  /** Whether a scan of this folder would be sent now (pure check, no request). */
  isDue(sectionId: string, folder: string): boolean {
    const at = this.last.get(`${sectionId}\u0000${folder}`);
    return at === undefined || this.now() - at >= this.debounceMs;
  }

  /** Asks Plex to scan `folder` in the section; returns false when debounced. */
  async scanFolder(sectionId: string, folder: string): Promise<boolean> {
    if (!this.isDue(sectionId, folder)) return false;
    const key = `${sectionId}\u0000${folder}`;
    this.last.set(key, this.now());
    try {
      // GET is the form plexapi uses in the field (§6).
      await this.client.request('GET', `/library/sections/${encodeURIComponent(sectionId)}/refresh`, {
        what: `asking Plex to scan ${folder}`,
        query: [['path', folder]],
      });
    } catch (e) {
      this.last.delete(key); // a failed request must not silence the next attempt
      throw e;
    }
    return true;
  }
}
