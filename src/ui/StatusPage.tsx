import { api, findJob, React, runOperation, runTask, sceneTitles } from './api';
import { HourChart } from './Chart';
import { ConfirmDialog, type ConfirmRequest } from './Confirm';
import { ago, breakerWords, clock, errorClassWords, workerWords } from './format';
import { usePoll, useNow } from './hooks';
import type { UiActionResult, UiFailedGroup, UiHealth, UiStatus } from '../ops/ui-types';

/** How often the page asks for the state while it is visible. */
export const REFRESH_MS = 3_000;
const SYNC_ALL_TASK = 'Sync All Scenes';

type Notice = { tone: 'success' | 'danger' | 'info'; text: string } | null;

interface SyncAllState {
  jobId: string;
  /** The most scenes seen waiting since it started. */
  peak: number;
  jobProgress: number | null;
  done: boolean;
  failed: string | null;
}

function syncAllFraction(j: SyncAllState, remaining: number): number {
  if (j.done) return 1;
  if (j.jobProgress !== null) return Math.min(1, Math.max(0.02, j.jobProgress));
  return j.peak === 0 ? 0.02 : (j.peak - remaining) / j.peak;
}

function syncAllWords(j: SyncAllState, remaining: number): string {
  if (j.failed) return `Sync All ended early (${j.failed.toLowerCase()}); see Stash's log.`;
  if (j.done) return 'Sync All finished: every scene was checked and the changed ones sent to Plex.';
  if (j.peak === 0) return 'Sync All: listing the scenes in Stash…';
  return `Sync All: ${Math.max(0, j.peak - remaining)} of ${j.peak} processed${j.jobProgress !== null ? ` (${Math.round(100 * j.jobProgress)} %)` : ''}`;
}

function Count(props: { label: string; value: number | undefined; detail?: string; tone?: string; testId: string }) {
  return (
    <div className="col-6 col-md-4 col-xl mb-3">
      <div className={`card plexcourier-count h-100 ${props.tone ? `border-${props.tone}` : ''}`} data-testid={props.testId}>
        <div className="card-body py-2">
          <div className="value">{props.value ?? '—'}</div>
          <div className="label">{props.label}</div>
          {props.detail && <div className="detail text-muted small">{props.detail}</div>}
        </div>
      </div>
    </div>
  );
}

function FailedGroup(props: {
  group: UiFailedGroup;
  titles: Record<string, string>;
  now: number;
  busy: boolean;
  onRetry: (sceneId: string) => void;
  onRemove: (sceneId: string, title: string) => void;
  onRetryClass: (cls: string) => void;
}) {
  const { Link } = api.libraries.ReactRouterDOM;
  const g = props.group;
  return (
    <div className="card mb-3 plexcourier-failed-group" data-error-class={g.errorClass}>
      <div className="card-header d-flex align-items-center">
        <strong className="mr-2">{errorClassWords(g.errorClass)}</strong>
        <span className="badge badge-danger mr-2">{g.count}</span>
        <code className="small text-muted">{g.errorClass}</code>
        <button type="button" className="btn btn-sm btn-secondary ml-auto" disabled={props.busy} onClick={() => props.onRetryClass(g.errorClass)}>
          Retry these {g.count}
        </button>
      </div>
      <div className="table-responsive">
        <table className="table table-sm table-striped mb-0">
          <thead>
            <tr>
              <th>Scene</th>
              <th>Error</th>
              <th className="text-right">Attempts</th>
              <th>When</th>
              <th>Plex item</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {g.entries.map((e) => {
              const title = props.titles[e.sceneId] ?? `Scene ${e.sceneId}`;
              return (
                <tr key={e.sceneId} data-scene-id={e.sceneId}>
                  <td>
                    <Link to={`/scenes/${e.sceneId}`}>{title}</Link>
                  </td>
                  <td className="plexcourier-message">{e.message}</td>
                  <td className="text-right">{e.attempts}</td>
                  <td title={new Date(e.failedAt).toLocaleString()}>{ago(e.failedAt, props.now)}</td>
                  <td className="plexcourier-plex-item">
                    {e.plexWebUrl ? (
                      <a href={e.plexWebUrl} target="_blank" rel="noopener noreferrer" title="Open in Plex Web">
                        item {e.ratingKey}
                      </a>
                    ) : (
                      (e.ratingKey ? `item ${e.ratingKey}` : <span className="text-muted">—</span>)
                    )}
                  </td>
                  <td className="text-nowrap text-right">
                    <button type="button" className="btn btn-sm btn-primary mr-1" disabled={props.busy} onClick={() => props.onRetry(e.sceneId)}>
                      Retry
                    </button>
                    <button type="button" className="btn btn-sm btn-outline-danger" disabled={props.busy} onClick={() => props.onRemove(e.sceneId, title)}>
                      Remove
                    </button>
                  </td>
                </tr>
              );
            })}
            {g.entries.length < g.count && (
              <tr>
                <td colSpan={6} className="text-muted small">
                  and {g.count - g.entries.length} more (retry the class to include them)
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function HealthReport(props: { report: UiHealth | { error: string } | 'running' | null }) {
  const r = props.report;
  if (!r) return null;
  if (r === 'running') return <div className="alert alert-info plexcourier-health">Checking Plex, the libraries and the path map…</div>;
  if ('error' in r) return <div className="alert alert-danger plexcourier-health">Health check failed: {r.error}</div>;
  return (
    <div className={`alert ${r.ok ? 'alert-success' : 'alert-danger'} plexcourier-health`} role="status">
      <strong>{r.ok ? 'Health check passed.' : `Health check: ${r.problem}`}</strong>
      <ul className="mb-0 mt-1">
        <li>
          Plex {r.plex.reachable ? 'reachable' : 'not reachable'}
          {r.plex.reachable ? `, token ${r.plex.tokenValid ? 'accepted' : 'refused'}` : ''}
          {r.plex.serverName ? ` (${r.plex.serverName}${r.plex.version ? ` ${r.plex.version}` : ''})` : ''}
        </li>
        {r.plex.tokenValid && <li>Libraries: {r.plex.libraries.join(', ') || 'none'}</li>}
        {r.paths && (
          <li>
            Path map: Plex has {r.paths.found} of {r.paths.sampled} sampled scene files
            {r.paths.examples.length ? `; missing e.g. ${r.paths.examples.join(', ')}` : ''}
          </li>
        )}
        {r.warnings.map((w) => (
          <li key={w}>{w}</li>
        ))}
      </ul>
    </div>
  );
}

/** The PlexCourier page at /plugins/plexcourier: the queue at a glance, the failed list and its actions. */
export function PlexCourierPage() {
  const now = useNow(5_000);
  const poll = usePoll(() => runOperation<UiStatus>({ mode: 'ui_status' }), REFRESH_MS);
  const s = poll.data;
  const [titles, setTitles] = React.useState<Record<string, string>>({});
  const [confirm, setConfirm] = React.useState<ConfirmRequest | null>(null);
  const [notice, setNotice] = React.useState<Notice>(null);
  const [busy, setBusy] = React.useState(false);
  const [health, setHealth] = React.useState<UiHealth | { error: string } | 'running' | null>(null);
  const [syncAll, setSyncAll] = React.useState<SyncAllState | null>(null);

  const failedIds = (s?.failed ?? []).flatMap((g) => g.entries.map((e) => e.sceneId));
  const missingTitles = failedIds.filter((id) => !(id in titles)).join(',');
  React.useEffect(() => {
    if (!missingTitles) return;
    const ids = missingTitles.split(',');
    sceneTitles(ids).then(
      (t) => setTitles((prev) => ({ ...prev, ...Object.fromEntries(ids.map((id) => [id, t[id] ?? `Scene ${id} (deleted from Stash)`])) })),
      () => setTitles((prev) => ({ ...prev, ...Object.fromEntries(ids.map((id) => [id, `Scene ${id}`])) })),
    );
  }, [missingTitles]);

  const remaining = s?.counts ? s.counts.ready + s.counts.active : 0;
  // Sync All runs as a Stash job: its own progress when it reports one, else the queue draining; it is done
  // when Stash says the job ended (or no longer knows it).
  React.useEffect(() => {
    if (!syncAll || syncAll.done || !s) return;
    let cancelled = false;
    findJob(syncAll.jobId).then(
      (job) => {
        if (cancelled) return;
        const ended = !job || ['FINISHED', 'CANCELLED', 'FAILED'].includes(job.status);
        setSyncAll((cur) =>
          cur && cur.jobId === syncAll.jobId
            ? { ...cur, peak: Math.max(cur.peak, remaining), jobProgress: job?.progress ?? cur.jobProgress, done: ended, failed: job?.status === 'FAILED' || job?.status === 'CANCELLED' ? job.status : null }
            : cur,
        );
      },
      () => undefined,
    );
    return () => {
      cancelled = true;
    };
  }, [s, remaining]);

  const act = async (args: Record<string, unknown>) => {
    setBusy(true);
    try {
      const r = await runOperation<UiActionResult>({ mode: 'ui_action', ...args });
      setNotice({ tone: 'success', text: r.message });
    } catch (err) {
      setNotice({ tone: 'danger', text: (err as Error).message });
    } finally {
      setBusy(false);
      void poll.refresh();
    }
  };

  const startSyncAll = async () => {
    setBusy(true);
    try {
      const jobId = await runTask(SYNC_ALL_TASK);
      setSyncAll({ jobId, peak: 0, jobProgress: null, done: false, failed: null });
      setNotice({ tone: 'info', text: 'Sync All started as a Stash task (it also shows in Settings › Tasks); its progress is below.' });
    } catch (err) {
      setNotice({ tone: 'danger', text: `Sync All could not start: ${(err as Error).message}` });
    } finally {
      setBusy(false);
    }
  };

  const runHealth = async () => {
    setHealth('running');
    try {
      setHealth(await runOperation<UiHealth>({ mode: 'health', deep: true }));
    } catch (err) {
      setHealth({ error: (err as Error).message });
    }
  };

  const breaker = s ? breakerWords(s.breaker, now) : null;
  const c = s?.counts ?? undefined;
  return (
    <div className="container-fluid plexcourier-page">
      <div className="d-flex flex-wrap align-items-center mb-3">
        <h2 className="mb-0 mr-3">PlexCourier</h2>
        {s && (
          <span className={`badge badge-${s.worker.state === 'not_running' ? 'secondary' : 'success'} mr-3`} data-testid="worker-state">
            Worker {workerWords(s)}
          </span>
        )}
        <div className="ml-auto btn-toolbar">
          <button type="button" className="btn btn-primary mr-2" disabled={busy} onClick={() => act({ action: 'process_queue' })}>
            Process Queue
          </button>
          <button type="button" className="btn btn-secondary mr-2" disabled={busy || (syncAll !== null && !syncAll.done)} onClick={startSyncAll}>
            Sync All
          </button>
          <button type="button" className="btn btn-secondary" disabled={health === 'running'} onClick={runHealth}>
            Health Check
          </button>
        </div>
      </div>

      {poll.error && <div className="alert alert-danger">PlexCourier did not answer: {poll.error}</div>}
      {notice && (
        <div className={`alert alert-${notice.tone} d-flex`} role="status" data-testid="notice">
          <span>{notice.text}</span>
          <button type="button" className="close ml-auto" aria-label="Dismiss" onClick={() => setNotice(null)}>
            ×
          </button>
        </div>
      )}
      <HealthReport report={health} />
      {syncAll && (
        <div className="mb-3" data-testid="sync-all" data-done={syncAll.done}>
          <div className="small mb-1">{syncAllWords(syncAll, remaining)}</div>
          <div className="progress">
            <div className={`progress-bar ${syncAll.failed ? 'bg-danger' : ''}`} role="progressbar" style={{ width: `${Math.round(100 * syncAllFraction(syncAll, remaining))}%` }} />
          </div>
        </div>
      )}

      {s && !s.counts && <div className="alert alert-info">PlexCourier has not run yet: its state appears after the first scene edit or task.</div>}
      {s?.paused && (
        <div className="alert alert-danger" data-testid="paused">
          <strong>Paused since {clock(s.paused.since, now)}:</strong> {s.paused.reason}. No scene is lost; the queue resumes once this is fixed.
        </div>
      )}
      {s?.stashOutage && (
        <div className="alert alert-warning" data-testid="stash-outage">
          <strong>Stash is not answering PlexCourier since {clock(s.stashOutage.since, now)}:</strong> {s.stashOutage.message}. The queue waits without using attempts
          {s.stashOutage.nextProbeAt ? `; next try ${clock(s.stashOutage.nextProbeAt, now)}` : ''}.
        </div>
      )}
      {s?.problem && (
        <div className="alert alert-warning">
          <strong>Not syncing:</strong> {s.problem}
        </div>
      )}

      <div className="row">
        <Count testId="count-ready" label="Ready" value={c?.ready} />
        <Count testId="count-delayed" label="Waiting to retry" value={c?.delayed} detail={s?.nextRetryAt ? `next try ${clock(s.nextRetryAt, now)}` : undefined} tone={c?.delayed ? 'warning' : undefined} />
        <Count testId="count-active" label="In progress" value={c?.active} />
        <Count testId="count-dlq" label="Failed" value={c?.dlq} tone={c?.dlq ? 'danger' : undefined} />
        <Count testId="count-done" label="Done recently" value={c?.done} />
      </div>

      <div className="row">
        <div className="col-lg-8 mb-3">
          <div className="card h-100">
            <div className="card-header">Last hour</div>
            <div className="card-body">{s && <HourChart history={s.history} now={now} />}</div>
          </div>
        </div>
        <div className="col-lg-4 mb-3">
          <div className="card h-100">
            <div className="card-header">Plex connection</div>
            <div className="card-body">
              {breaker && (
                <div className={`text-${breaker.tone} mb-2`} data-testid="breaker" data-state={s?.breaker?.state ?? 'closed'}>
                  {breaker.text}
                </div>
              )}
              {s?.plexUrl && <div className="small text-muted mb-2">{s.plexUrl}</div>}
              {(s?.breaker?.outages ?? []).slice(-3).reverse().map((o) => (
                <div className="small" key={o.start}>
                  Outage {clock(o.start, now)} → {o.end ? clock(o.end, now) : 'ongoing'}
                </div>
              ))}
              {s?.worker.heartbeatAt && <div className="small text-muted mt-2">Status from {ago(s.worker.heartbeatAt, now)}</div>}
            </div>
          </div>
        </div>
      </div>

      <div className="d-flex align-items-center mb-2">
        <h4 className="mb-0 mr-3">Failed</h4>
        {c && c.dlq > 0 && (
          <>
            <button type="button" className="btn btn-sm btn-primary mr-2" disabled={busy} onClick={() => act({ action: 'retry_all' })}>
              Retry all {c.dlq}
            </button>
            <button
              type="button"
              className="btn btn-sm btn-danger"
              disabled={busy}
              onClick={() =>
                setConfirm({
                  title: 'Clear the failed list?',
                  body: `This deletes all ${c.dlq} failed entries without retrying them. Those scenes stay as they are in Plex until they change in Stash again.`,
                  confirmLabel: 'Clear failed list',
                  onConfirm: () => void act({ action: 'clear_dlq' }),
                })
              }
            >
              Clear
            </button>
          </>
        )}
      </div>
      {s && s.failed.length === 0 && <p className="text-muted">Nothing has failed.</p>}
      {s?.failed.map((g) => (
        <FailedGroup
          key={g.errorClass}
          group={g}
          titles={titles}
          now={now}
          busy={busy}
          onRetry={(sceneId) => act({ action: 'retry', scene_id: sceneId })}
          onRetryClass={(cls) => act({ action: 'retry_class', class: cls })}
          onRemove={(sceneId, title) =>
            setConfirm({
              title: 'Remove from the failed list?',
              body: `"${title}" is removed without being retried. It is synced again the next time it changes in Stash.`,
              confirmLabel: 'Remove',
              onConfirm: () => void act({ action: 'remove', scene_id: sceneId }),
            })
          }
        />
      ))}
      <ConfirmDialog request={confirm} onClose={() => setConfirm(null)} />
    </div>
  );
}
