import { askQuery, sceneIdArg } from './ask';
import { OperationError, type OperationHandler } from './index';
import { plexWebUrl } from './plex-web';
import type { UiScene } from './ui-types';

interface SceneStateData {
  job: { state: 'ready' | 'delayed' | 'active'; nextRunAt: number; attempts: number; lastError: { class: string; message: string } | null; deferredReason: string | null } | null;
  dlq: { errorClass: string; message: string; attempts: number; failedAt: number } | null;
  lastDone: { finishedAt: number; summary: string } | null;
  record: { syncedAt: number; ratingKeys: string[] } | null;
  plexUrl: string | null;
  machineIdentifier: string | null;
}


/** The badge's state from the worker's answer: the job first (what happens next), then the DLQ, then the last sync. */
export function badgeFromState(sceneId: string, d: SceneStateData): UiScene {
  const ratingKey = d.record?.ratingKeys[0] ?? null;
  const base: UiScene = {
    sceneId,
    worker: 'running',
    state: 'never',
    syncedAt: d.record?.syncedAt ?? null,
    nextRunAt: null,
    attempts: null,
    message: null,
    errorClass: null,
    ratingKey,
    plexWebUrl: ratingKey && d.plexUrl && d.machineIdentifier ? plexWebUrl(d.plexUrl, d.machineIdentifier, ratingKey) : null,
  };
  const job = d.job;
  if (job) {
    if (job.state === 'active') return { ...base, state: 'in_progress', attempts: job.attempts };
    if (job.state === 'ready') return { ...base, state: 'queued', attempts: job.attempts };
    const cause = job.lastError ?? (job.deferredReason ? { class: job.deferredReason.split(':')[0] ?? 'deferred', message: job.deferredReason } : null);
    return { ...base, state: 'retrying', nextRunAt: job.nextRunAt, attempts: job.attempts, message: cause?.message ?? null, errorClass: cause?.class ?? null };
  }
  if (d.dlq) {
    return {
      ...base,
      state: d.dlq.errorClass === 'not_found' ? 'not_in_plex' : 'failed',
      attempts: d.dlq.attempts,
      message: d.dlq.message,
      errorClass: d.dlq.errorClass,
    };
  }
  if (d.lastDone?.summary.startsWith('skipped:') && !d.record) {
    const reason = d.lastDone.summary.slice('skipped:'.length).trim();
    return { ...base, state: /not (found|in plex)|no plex item|does not have/i.test(reason) ? 'not_in_plex' : 'skipped', message: reason };
  }
  if (d.record) return { ...base, state: 'synced' };
  return base;
}

/** `ui_scene` with `scene_id`: the scene badge. A read: with no worker running it says so and starts none. */
export const uiSceneOperation: OperationHandler = async (ctx, args): Promise<UiScene> => {
  const sceneId = sceneIdArg(args);
  if (!sceneId) throw new OperationError(`ui_scene needs scene_id, a Stash scene id such as "42"; got ${JSON.stringify(args.scene_id ?? null)}`);
  const r = await askQuery(ctx, { query: 'scene_state', sceneId }, 5_000);
  if (typeof r === 'string') {
    const message = r === 'not_running' ? null : 'the worker did not answer within 5 s';
    return { sceneId, worker: r === 'not_running' ? 'not_running' : 'running', state: 'unknown', syncedAt: null, nextRunAt: null, attempts: null, message, errorClass: null, ratingKey: null, plexWebUrl: null };
  }
  if (!r.ok) throw new OperationError(r.message);
  return badgeFromState(sceneId, r.data as unknown as SceneStateData);
};
