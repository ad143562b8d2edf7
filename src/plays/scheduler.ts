import type { QueueStore } from '../queue/store';
import type { Config } from '../worker/config';
import type { Logger } from '../worker/filelog';
import { importPlays, type ImportKind, type ImportProgress, type ImportSummary } from './importer';
import { PlaysJournal } from './journal';
import { sceneIdsByRatingKey } from './scenes';

/** How often a running worker reads new plays from Plex. */
export const CHECK_INTERVAL_MS = 5 * 60_000;
/** After a failed check, try again sooner than the interval but not in a tight loop. */
const RETRY_AFTER_FAILURE_MS = 60_000;

/** What status.json shows under `plays`. */
export interface PlaysStatus {
  enabled: boolean;
  running: ({ runId: string; kind: ImportKind } & ImportProgress) | null;
  last: ImportSummary | null;
  nextCheckAt: number | null;
}

/**
 * Plays from Plex inside the worker: a check once at start-up and every few minutes after (when
 * `sync_plays_from_plex` is on and the configuration is usable), and a backfill when the Import Plex
 * Plays task asks. One run at a time, in the background of the engine loop, so syncing never waits
 * on it. With the setting off nothing here talks to Plex.
 */
export class PlaysSync {
  private readonly journal: PlaysJournal;
  private current: Promise<void> | undefined;
  private running: PlaysStatus['running'] = null;
  private last: ImportSummary | null = null;
  private lastLoaded = false;
  private nextCheckAt = 0;
  private backfillRunId: string | undefined;
  private stopping = false;
  private runs = 0;
  private lastError: string | undefined;

  constructor(
    private readonly store: QueueStore,
    private readonly config: Config,
    private readonly log: Logger,
    private readonly intervalMs: number = CHECK_INTERVAL_MS,
  ) {
    this.journal = PlaysJournal.of(store);
  }

  /** Called on every engine turn: starts a check or a requested backfill when one is due. */
  tick(): void {
    if (!this.lastLoaded) {
      this.lastLoaded = true;
      void this.journal.lastSummary().then((s) => {
        if (!this.last && s && typeof s === 'object') this.last = s as ImportSummary;
      }, () => undefined);
    }
    if (this.current || this.stopping || !this.config.ready()) return;
    const plays = this.config.playsSettings();
    if (!plays.enabled) return;
    const kind: ImportKind | undefined = this.backfillRunId ? 'backfill' : Date.now() >= this.nextCheckAt ? 'check' : undefined;
    if (!kind) return;
    const runId = this.backfillRunId ?? `check-${Date.now().toString(36)}-${++this.runs}`;
    this.backfillRunId = undefined;
    this.current = this.run(runId, kind, plays.accounts).finally(() => {
      this.current = undefined;
      this.running = null;
    });
  }

  /** The Import Plex Plays task: a backfill runs next (after a run in progress); returns its id for following it in status.json. */
  requestBackfill(): { ok: true; runId: string } | { ok: false; message: string } {
    if (!this.config.ready()) return { ok: false, message: this.config.describe().problem ?? 'PlexCourier is not configured yet' };
    if (!this.config.playsSettings().enabled) {
      return { ok: false, message: 'Sync plays from Plex (sync_plays_from_plex) is off: turn it on in Settings > Plugins > PlexCourier, then run Import Plex Plays again' };
    }
    this.backfillRunId ??= `backfill-${Date.now().toString(36)}-${++this.runs}`;
    return { ok: true, runId: this.backfillRunId };
  }

  /** A run is in progress or a backfill waits: the worker should not leave idle. */
  busy(): boolean {
    return this.current !== undefined || this.backfillRunId !== undefined;
  }

  /** The engine is leaving: the run stops between two rows (the journal has every row it finished). */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.current;
  }

  describe(): PlaysStatus {
    const enabled = this.config.ready() && this.config.playsSettings().enabled;
    return { enabled, running: this.running, last: this.last, nextCheckAt: enabled ? this.nextCheckAt : null };
  }

  private async run(runId: string, kind: ImportKind, accounts: string[]): Promise<void> {
    this.running = { runId, kind, phase: 'reading', done: 0, total: 0 };
    const summary = await importPlays(
      {
        journal: this.journal,
        plex: this.config.plex().client,
        stash: this.config.stash(),
        sectionKeys: async () => new Set((await this.config.plex().sections()).map((s) => s.key)),
        sceneMap: () => sceneIdsByRatingKey(this.config.stash(), this.store),
        log: this.log,
        shouldStop: () => this.stopping,
        onProgress: (p) => {
          this.running = { runId, kind, ...p };
        },
      },
      { runId, kind, accounts },
    );
    this.last = summary;
    this.nextCheckAt = Date.now() + (summary.error ? Math.min(RETRY_AFTER_FAILURE_MS, this.intervalMs) : this.intervalMs);
    await this.journal.setLastSummary(summary).catch(() => undefined);
    const line = summaryLine(summary);
    // A failing check retries every minute: the same failure is logged in full once.
    const repeated = summary.error !== undefined && summary.error === this.lastError;
    this.lastError = summary.error;
    if (summary.error && !repeated) this.log.warn(line);
    else if (summary.error) this.log.debug(line);
    else if (kind === 'backfill' || summary.applied + summary.unmatched + summary.recovered + summary.resumePoints > 0) this.log.info(line);
    else this.log.debug(line);
  }
}

/** One line about a run, for the worker log and the Status task. */
export function summaryLine(s: ImportSummary): string {
  const what = s.kind === 'backfill' ? 'Import of Plex plays' : 'Check for new Plex plays';
  const counts = `${s.applied} applied, ${s.alreadyApplied} already applied, ${s.unmatched} unmatched${s.otherLibraries ? `, ${s.otherLibraries} in libraries PlexCourier does not sync` : ''}${s.recovered ? `, ${s.recovered} recovered after an interruption` : ''}${s.resumePoints ? `, ${s.resumePoints} resume point(s) saved` : ''}`;
  return `${what}${s.accounts.length ? ` (${s.accounts.join(', ')})` : ''}: ${counts}${s.error ? `; stopped: ${s.error}` : ''}`;
}

/** The Status task's lines about plays (from status.json's `plays`); none while the feature is off and never ran. */
export function playsStatusLines(plays: PlaysStatus | undefined, now = Date.now()): string[] {
  if (!plays || (!plays.enabled && !plays.last)) return [];
  const lines: string[] = [];
  if (plays.running) lines.push(`Plays from Plex: ${plays.running.kind === 'backfill' ? 'importing' : 'checking'} now (${plays.running.phase} ${plays.running.done}/${plays.running.total})`);
  if (plays.last) {
    const at = new Date(plays.last.finishedAt).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
    lines.push(`Plays from Plex: last ${plays.last.kind === 'backfill' ? 'import' : 'check'} ${at}: ${summaryLine(plays.last).replace(/^[^:]*: /, '')}`);
  } else if (plays.enabled) lines.push('Plays from Plex: on; no check has finished yet');
  if (!plays.enabled) lines.push('Plays from Plex: off (sync_plays_from_plex)');
  else if (plays.nextCheckAt && !plays.running) lines.push(`Plays from Plex: next check in ${Math.max(0, Math.round((plays.nextCheckAt - now) / 60_000))} min while the worker runs`);
  return lines;
}
