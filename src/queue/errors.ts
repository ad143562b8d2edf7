/** Another process holds the store's lock: it is the worker (reference/queue-research.md §3.2). */
export class StoreLockedError extends Error {
  readonly code = 'LOCKED' as const;
  constructor(readonly dir: string) {
    super(`the queue store at ${dir} is locked by another process (a worker is running); send it a command file instead`);
    this.name = 'StoreLockedError';
  }
}

/** A write failed; the in-memory indexes may be ahead of the disk, so the store refuses further work until reopened. */
export class StoreBrokenError extends Error {
  readonly code = 'BROKEN' as const;
  constructor(readonly dir: string, cause: unknown) {
    super(`the queue store at ${dir} failed a write (${cause instanceof Error ? cause.message : String(cause)}); close and reopen it`);
    this.name = 'StoreBrokenError';
  }
}

/** A transition was asked for a job that is not active (already completed, released or unknown). */
export class JobStateError extends Error {
  readonly code = 'JOB_STATE' as const;
  constructor(jobId: string, wanted: string, actual: string) {
    super(`job ${jobId} cannot ${wanted}: it is ${actual}, not active`);
    this.name = 'JobStateError';
  }
}
