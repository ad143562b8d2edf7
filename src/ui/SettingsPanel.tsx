import { loadSavedSettings, React, runOperation, saveSettings } from './api';
import { effectiveNumber } from './format';
import { CONNECTION_KEYS, SECTIONS, type FieldLayout, type SectionLayout } from './settings-layout';
import type { UiHealth } from '../ops/ui-types';

/** One setting as Stash hands it to the `PluginSettings` component (GQL PluginSetting). */
export interface PluginSettingInfo {
  name: string;
  display_name?: string | null;
  description?: string | null;
  type: 'STRING' | 'NUMBER' | 'BOOLEAN';
}

type Saved = Record<string, unknown>;
type SaveFn = (key: string, value: unknown) => void;

function Field(props: {
  layout: FieldLayout;
  info: PluginSettingInfo;
  saved: Saved;
  save: SaveFn;
  draft: Record<string, string>;
  setDraft: (key: string, v: string) => void;
  clearDraft: (key: string) => void;
}) {
  const { layout, info, saved } = props;
  const id = `plexcourier-setting-${info.name}`;
  const label = info.display_name || info.name;
  const [revealed, setRevealed] = React.useState(false);
  if (info.type === 'BOOLEAN') {
    const on = saved[info.name] === true;
    const checked = layout.invert ? !on : on;
    return (
      <div className="plexcourier-setting" data-key={info.name}>
        <div className="custom-control custom-switch">
          <input type="checkbox" className="custom-control-input" id={id} checked={checked} onChange={() => props.save(info.name, !on)} />
          <label className="custom-control-label" htmlFor={id}>
            {layout.invert ?? label}
          </label>
        </div>
        {!layout.invert && info.description && <div className="sub-heading text-muted small">{info.description}</div>}
      </div>
    );
  }
  const stored = saved[info.name];
  const text = props.draft[info.name] ?? (stored === undefined || stored === null ? (info.type === 'NUMBER' ? '0' : '') : String(stored));
  const edited = props.draft[info.name] !== undefined && props.draft[info.name] !== (stored === undefined || stored === null ? (info.type === 'NUMBER' ? '0' : '') : String(stored));
  // Text is saved on Enter or Save, never on leaving the field: a Test connection must be able to try a
  // token or URL that is typed but not yet saved.
  const commit = () => {
    const d = props.draft[info.name];
    if (d === undefined) return;
    const value = info.type === 'NUMBER' ? (d.trim() === '' ? 0 : Number(d)) : d.trim();
    if (info.type === 'NUMBER' && !Number.isFinite(value as number)) return;
    props.save(info.name, value);
  };
  return (
    <div className="plexcourier-setting form-group" data-key={info.name}>
      <label htmlFor={id} className="mb-1">
        {label}
      </label>
      <div className="d-flex align-items-center">
        <input
          id={id}
          className="form-control form-control-sm text-input"
          type={layout.secret && !revealed ? 'password' : info.type === 'NUMBER' ? 'number' : 'text'}
          autoComplete="off"
          spellCheck={false}
          value={text}
          onChange={(e) => props.setDraft(info.name, e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') commit();
            if (e.key === 'Escape') props.clearDraft(info.name);
          }}
          style={layout.number ? { maxWidth: '8em' } : undefined}
        />
        {layout.secret && (
          <button type="button" className="btn btn-sm btn-secondary ml-2" aria-pressed={revealed} onClick={() => setRevealed(!revealed)}>
            {revealed ? 'Hide' : 'Show'}
          </button>
        )}
        {edited && (
          <>
            <button type="button" className="btn btn-sm btn-primary ml-2" onClick={commit}>
              Save
            </button>
            <button type="button" className="btn btn-sm btn-link ml-1" onClick={() => props.clearDraft(info.name)}>
              Cancel
            </button>
          </>
        )}
        {layout.number && (
          <span className="ml-2 small text-muted plexcourier-effective text-nowrap" data-testid={`effective-${info.name}`}>
            {effectiveNumber(props.draft[info.name] ?? stored, layout.number.fallback, layout.number.unit)}
          </span>
        )}
      </div>
      {info.description && <div className="sub-heading text-muted small mt-1">{info.description}</div>}
    </div>
  );
}

function ConnectionTest(props: { draftValues: () => Record<string, string> }) {
  const [state, setState] = React.useState<UiHealth | { error: string } | 'running' | null>(null);
  const test = async () => {
    setState('running');
    try {
      setState(await runOperation<UiHealth>({ mode: 'health', ...props.draftValues() }));
    } catch (err) {
      setState({ error: (err as Error).message });
    }
  };
  return (
    <div className="mb-3 plexcourier-connection-test">
      <button type="button" className="btn btn-primary btn-sm" disabled={state === 'running'} onClick={test}>
        {state === 'running' ? 'Testing…' : 'Test connection'}
      </button>
      {state && state !== 'running' && (
        <div className={`alert mt-2 mb-0 ${'error' in state || !state.ok ? 'alert-danger' : 'alert-success'}`} role="status" data-testid="connection-result">
          {'error' in state
            ? `The test could not run: ${state.error}`
            : state.ok
              ? `Connected to ${state.plex.serverName ?? 'Plex'}${state.plex.version ? ` ${state.plex.version}` : ''}; token accepted; libraries: ${state.plex.libraries.join(', ') || 'none'}.`
              : state.problem}
        </div>
      )}
    </div>
  );
}

function Section(props: { layout: SectionLayout; children: React.ReactNode }) {
  const [open, setOpen] = React.useState(!props.layout.folded);
  return (
    <div className="setting-section plexcourier-section mb-3" data-section={props.layout.id}>
      <h2 className="plexcourier-section-title">
        {props.layout.folded ? (
          <button type="button" className="btn btn-link p-0" aria-expanded={open} onClick={() => setOpen(!open)}>
            {open ? '▾' : '▸'} {props.layout.title}
          </button>
        ) : (
          props.layout.title
        )}
      </h2>
      {open && (
        <div className="card">
          <div className="card-body">
            {props.layout.intro && <p className="text-muted small">{props.layout.intro}</p>}
            {props.children}
          </div>
        </div>
      )}
    </div>
  );
}

/**
 * PlexCourier's own panel in Settings › Plugins (it replaces Stash's alphabetical list for this plugin
 * only): sections in the order a user needs, effective values, a masked token, a connection test.
 * Every change is saved at once through a serialised read-merge-write (api.ts saveSettings).
 */
export function PlexCourierSettings(props: { settings: PluginSettingInfo[] }) {
  const [saved, setSaved] = React.useState<Saved | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const [status, setStatus] = React.useState<string | null>(null);
  const [draft, setDraftState] = React.useState<Record<string, string>>({});
  const draftRef = React.useRef(draft);
  draftRef.current = draft;
  const savedRef = React.useRef<Saved | null>(saved);
  savedRef.current = saved;

  React.useEffect(() => {
    loadSavedSettings().then(setSaved, (err: Error) => setError(`Could not read PlexCourier's settings: ${err.message}`));
  }, []);

  const setDraft = (key: string, v: string) => setDraftState((d) => ({ ...d, [key]: v }));
  const clearDraft = (key: string) =>
    setDraftState((d) => {
      const { [key]: _dropped, ...rest } = d;
      return rest;
    });
  const save: SaveFn = (key, value) => {
    setSaved((s) => ({ ...(s ?? {}), [key]: value }));
    setStatus('Saving…');
    saveSettings({ [key]: value }).then(
      (stored) => {
        setSaved(stored);
        clearDraft(key);
        setStatus('Saved');
        setError(null);
      },
      (err: Error) => {
        setStatus(null);
        setError(`Could not save ${key}: ${err.message}`);
      },
    );
  };
  const draftValues = () => {
    const out: Record<string, string> = {};
    for (const key of CONNECTION_KEYS) {
      const d = draftRef.current[key];
      if (d !== undefined) out[key] = d;
    }
    return out;
  };

  const byName = new Map(props.settings.map((s) => [s.name, s]));
  const placed = new Set(SECTIONS.flatMap((s) => s.fields.map((f) => f.key)));
  const others: FieldLayout[] = props.settings.filter((s) => !placed.has(s.name)).map((s) => ({ key: s.name }));
  const sections = SECTIONS.map((s) => (s.id === 'advanced' ? { ...s, fields: [...s.fields, ...others] } : s));

  if (error && !saved) return <div className="alert alert-danger">{error}</div>;
  if (!saved) return <div className="text-muted">Loading PlexCourier's settings…</div>;
  return (
    <div className="plugin-settings plexcourier-settings">
      <div className="small text-muted mb-2" role="status" data-testid="settings-status">
        {error ? <span className="text-danger">{error}</span> : status}
      </div>
      {sections.map((section) => {
        const fields = section.fields.filter((f) => byName.has(f.key));
        if (fields.length === 0) return null;
        return (
          <Section key={section.id} layout={section}>
            {fields.map((f) => (
              <Field key={f.key} layout={f} info={byName.get(f.key)!} saved={saved} save={save} draft={draft} setDraft={setDraft} clearDraft={clearDraft} />
            ))}
            {section.id === 'connection' && <ConnectionTest draftValues={draftValues} />}
          </Section>
        );
      })}
    </div>
  );
}
