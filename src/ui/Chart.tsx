import { React } from './api';
import type { UiStatus } from '../ops/ui-types';

const MINUTE = 60_000;
const W = 600;
const H = 110;

/** Scenes synced (green) and errors (red) per minute over the last hour, as an inline SVG: nothing to load. */
export function HourChart(props: { history: UiStatus['history']; now: number }) {
  const end = props.now - (props.now % MINUTE);
  const minutes = Array.from({ length: 60 }, (_, i) => end - (59 - i) * MINUTE);
  const byMinute = new Map(props.history.map((b) => [b.at, b]));
  const peak = Math.max(1, ...props.history.map((b) => Math.max(b.synced, b.errors)));
  const slot = W / 60;
  const bar = Math.max(2, slot / 2 - 1);
  const y = (v: number) => ((H - 16) * v) / peak;
  const synced = props.history.reduce((n, b) => n + b.synced, 0);
  const errors = props.history.reduce((n, b) => n + b.errors, 0);
  return (
    <figure className="plexcourier-chart mb-0" aria-label={`Last hour: ${synced} synced, ${errors} errors`}>
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" height={H} preserveAspectRatio="none" role="img">
        <line x1={0} y1={H - 14} x2={W} y2={H - 14} className="axis" />
        {minutes.map((at, i) => {
          const b = byMinute.get(at);
          if (!b) return null;
          const x = i * slot;
          return (
            <g key={at}>
              <title>{`${new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}: ${b.synced} synced, ${b.errors} errors`}</title>
              {b.synced > 0 && <rect className="synced" x={x} y={H - 14 - y(b.synced)} width={bar} height={y(b.synced)} />}
              {b.errors > 0 && <rect className="errors" x={x + bar + 1} y={H - 14 - y(b.errors)} width={bar} height={y(b.errors)} />}
            </g>
          );
        })}
        <text x={0} y={H - 2} className="label">
          60 min ago
        </text>
        <text x={W} y={H - 2} className="label" textAnchor="end">
          now
        </text>
      </svg>
      <figcaption className="text-muted small">
        <span className="legend synced" /> {synced} synced <span className="legend errors ml-3" /> {errors} error{errors === 1 ? '' : 's'} in the last hour (peak {peak}/min)
      </figcaption>
    </figure>
  );
}
