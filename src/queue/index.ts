export { QueueStore, DLQ_MAX_ENTRIES, type QueueStoreOptions, type JobRef, type LastDone, type OldestWaiting } from './store';
export { StoreLockedError, StoreBrokenError, JobStateError } from './errors';
export { closeAndRecheck } from './election';
export type {
  Priority,
  Job,
  JobState,
  EnqueueRequest,
  EnqueueSummary,
  SceneEvent,
  SyncRecord,
  DlqEntry,
  DlqFilter,
  DoneRecord,
  ErrorInfo,
  QueueCounts,
} from './types';
