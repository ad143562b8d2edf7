import { z } from 'zod';

/** Which jobs run first (lower first): user edits and DLQ retries, then other hook events, then bulk syncs. */
export const PRIORITY = { userEdit: 0, hookEvent: 1, bulk: 2 } as const;
export type Priority = (typeof PRIORITY)[keyof typeof PRIORITY];
export const PrioritySchema = z.union([z.literal(PRIORITY.userEdit), z.literal(PRIORITY.hookEvent), z.literal(PRIORITY.bulk)]);

export type JobState = 'ready' | 'delayed' | 'active';

export const ErrorInfoSchema = z.object({ class: z.string(), message: z.string() });
export type ErrorInfo = z.infer<typeof ErrorInfoSchema>;

/** A follow-up run asked for while the job was active (keep-last-if-active, research §6.3). */
export const RerunSchema = z.object({ priority: PrioritySchema, trigger: z.string(), force: z.boolean() });
export type Rerun = z.infer<typeof RerunSchema>;

/**
 * One job per scene. It holds what to do, not a snapshot of the scene: the worker hydrates the
 * scene from Stash when it runs the job.
 */
export const JobSchema = z.object({
  id: z.string(),
  sceneId: z.string(),
  priority: PrioritySchema,
  /** What caused the latest request ('Scene.Update.Post', 'sync_all', 'dlq-redrive', ...). */
  trigger: z.string(),
  /** Sync even when the stored state hash says nothing changed. */
  force: z.boolean(),
  /** Failed attempts so far (retry consumes one; defer and crashes do not). */
  attempts: z.number().int(),
  /** Worker crashes while this job was in flight (research §6.1). */
  crashCount: z.number().int(),
  /** When the job may run (equals the time it became ready for a ready job). */
  nextRunAt: z.number(),
  createdAt: z.number(),
  updatedAt: z.number(),
  firstFailureAt: z.number().optional(),
  lastError: ErrorInfoSchema.optional(),
  /** Why the job waits without consuming an attempt (an open breaker). */
  deferredReason: z.string().optional(),
  /** Set when an event arrived while the job was active: it runs once more afterwards, with these fields. */
  rerun: RerunSchema.optional(),
  /** The scene was destroyed while the job was active: drop it when it finishes. */
  removed: z.boolean().optional(),
  state: z.enum(['ready', 'delayed', 'active']),
  /** Order within the ready or delayed index; a new one each time the job enters an index. */
  seq: z.number().int(),
});
export type Job = z.infer<typeof JobSchema>;

export interface EnqueueRequest {
  sceneId: string;
  priority: Priority;
  trigger: string;
  force?: boolean;
  /** Not before this time (ms); omitted: now. */
  runAt?: number;
}

/** One interpreted inbox event, in arrival order: a sync request or a destroyed scene. */
export type SceneEvent = { kind: 'enqueue'; request: EnqueueRequest } | { kind: 'remove'; sceneId: string };

export interface EnqueueSummary {
  /** New jobs. */
  created: number;
  /** Queued or delayed jobs updated in place (latest wins). */
  updated: number;
  /** Active jobs marked to run once more. */
  rerun: number;
  /** Scenes whose DLQ entry was replaced by a fresh job. */
  revived: number;
  /** Scenes dropped (removeScene events). */
  removed: number;
}

export const SyncRecordSchema = z.object({
  stateHash: z.string(),
  posterSha256: z.string().optional(),
  artSha256: z.string().optional(),
  ratingKeys: z.array(z.string()),
  syncedAt: z.number(),
  /**
   * The tags, performers, studios and groups last written, as `t12 p3 s4 g7` (src/follow/links.ts): a
   * deletion fires after Stash has dropped the joins, so this is the only place that still knows.
   */
  links: z.string().optional(),
  /** A digest of the scene's file paths when last written: a file added by a merge is written even if nothing else changed. */
  files: z.string().optional(),
});
export type SyncRecord = z.infer<typeof SyncRecordSchema>;

export const DlqEntrySchema = z.object({
  sceneId: z.string(),
  jobId: z.string(),
  errorClass: z.string(),
  message: z.string(),
  attempts: z.number().int(),
  crashCount: z.number().int(),
  priority: PrioritySchema,
  trigger: z.string(),
  force: z.boolean(),
  createdAt: z.number(),
  firstFailureAt: z.number().optional(),
  failedAt: z.number(),
});
export type DlqEntry = z.infer<typeof DlqEntrySchema>;

export const DoneRecordSchema = z.object({
  sceneId: z.string(),
  jobId: z.string(),
  finishedAt: z.number(),
  summary: z.string(),
  trigger: z.string(),
  attempts: z.number().int(),
});
export type DoneRecord = z.infer<typeof DoneRecordSchema>;

export interface QueueCounts {
  ready: number;
  delayed: number;
  active: number;
  dlq: number;
  done: number;
}

export interface DlqFilter {
  errorClass?: string;
  sceneIds?: string[];
  limit?: number;
}
