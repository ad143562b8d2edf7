import { React, runOperation } from './api';
import { badgeTone, badgeWords } from './format';
import { usePoll, useNow } from './hooks';
import type { UiActionResult, UiScene } from '../ops/ui-types';

/** How often the badge asks while the scene page is visible; faster while a sync it asked for is under way. */
const BADGE_REFRESH_MS = 5_000;
const BADGE_FAST_MS = 1_000;

/** "Plex: synced 3 min ago" with a link to the item in Plex Web and a Sync to Plex now button, on a scene's page. */
export function SceneBadge(props: { sceneId: string }) {
  const now = useNow(10_000);
  const [fast, setFast] = React.useState(false);
  const poll = usePoll(() => runOperation<UiScene>({ mode: 'ui_scene', scene_id: props.sceneId }), fast ? BADGE_FAST_MS : BADGE_REFRESH_MS);
  const [busy, setBusy] = React.useState(false);
  const [message, setMessage] = React.useState<{ tone: string; text: string } | null>(null);
  const s = poll.data;

  React.useEffect(() => {
    if (fast && s && (s.state === 'synced' || s.state === 'failed' || s.state === 'not_in_plex' || s.state === 'retrying')) setFast(false);
  }, [fast, s?.state, s?.syncedAt]);

  const syncNow = async () => {
    setBusy(true);
    setMessage(null);
    try {
      await runOperation<UiActionResult>({ mode: 'ui_action', action: 'sync_scene', scene_id: props.sceneId });
      setFast(true);
      await poll.refresh();
    } catch (err) {
      setMessage({ tone: 'danger', text: (err as Error).message });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="plexcourier-badge d-flex flex-wrap align-items-center mb-2" data-testid="plex-badge" data-state={s?.state ?? 'loading'}>
      <span className={`badge badge-${s ? badgeTone(s) : 'secondary'} mr-2`} title={s?.message ?? undefined}>
        {s ? badgeWords(s, now) : poll.error ? 'Plex: PlexCourier did not answer' : 'Plex: …'}
      </span>
      {s?.plexWebUrl && (
        <a className="mr-2 small" href={s.plexWebUrl} target="_blank" rel="noopener noreferrer">
          Open in Plex
        </a>
      )}
      <button type="button" className="btn btn-sm btn-secondary" disabled={busy} onClick={syncNow}>
        {busy ? 'Queuing…' : 'Sync to Plex now'}
      </button>
      {(message || poll.error) && <span className={`small ml-2 text-${message?.tone ?? 'danger'}`}>{message?.text ?? poll.error}</span>}
    </div>
  );
}
