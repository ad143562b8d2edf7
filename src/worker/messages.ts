/** What the supervisor (src/worker/daemon.ts) and the engine thread (src/worker/engine.ts) say to each other. */

export interface EngineInit {
  role: 'plexcourier-engine';
  dataDir: string;
  /** Exit after this long with nothing to do. Infinity for the foreground worker. */
  idleMs: number;
  debug: boolean;
  /** Foreground worker: where Stash is, when no hook or task has told us yet. */
  stashUrl?: string;
  /** Settings given on the command line or in the environment; they win over Stash's. */
  settingsOverride?: Record<string, unknown>;
}

/** `reopen`: it was leaving idle, but events arrived while it closed the store (see closeAndRecheck). */
export type EngineExit = 'locked' | 'idle' | 'reopen' | 'stopped';

export type EngineMessage = { type: 'elected' } | { type: 'heartbeat' } | { type: 'exit'; reason: EngineExit };

export type SupervisorMessage = { type: 'stop' };
