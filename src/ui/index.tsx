/**
 * PlexCourier's UI in Stash (dist/plexcourier-ui.js, listed under `ui:` in the manifest). Stash loads it
 * into its web UI, where `window.PluginApi` gives React, the router and the patch points
 * (reference/stash-ui-plugins.md). It adds:
 *   - the page at /plugins/plexcourier, linked from the nav bar and from Settings › Tools;
 *   - a Plex badge on each scene's page;
 *   - PlexCourier's own settings panel in Settings › Plugins (every other plugin keeps Stash's).
 */
import { api, PAGE_PATH, PLUGIN_ID, React } from './api';
import { SceneBadge } from './SceneBadge';
import { PlexCourierSettings, type PluginSettingInfo } from './SettingsPanel';
import { PlexCourierPage } from './StatusPage';

type Props = { children?: React.ReactNode } & Record<string, unknown>;

api.register.route(PAGE_PATH, PlexCourierPage);

function NavButton() {
  const { NavLink } = api.libraries.ReactRouterDOM;
  return (
    <NavLink to={PAGE_PATH} className="nav-utility plexcourier-nav btn btn-secondary minimal" activeClassName="active" title="PlexCourier: sync to Plex">
      PlexCourier
    </NavLink>
  );
}

api.patch.before('MainNavBar.UtilityItems', (props: Props) => [
  {
    ...props,
    children: (
      <>
        {props.children}
        <NavButton />
      </>
    ),
  },
]);

/**
 * Settings › Tools renders SettingsToolsSection twice (two sections), so a plain patch would add the
 * link twice: the first instance mounted keeps it, the other renders nothing.
 */
let toolsLinkOwner: object | null = null;
function ToolsLink() {
  const { Link } = api.libraries.ReactRouterDOM;
  const me = React.useRef({}).current;
  const [mine, setMine] = React.useState(false);
  React.useEffect(() => {
    if (toolsLinkOwner === null) {
      toolsLinkOwner = me;
      setMine(true);
    }
    return () => {
      if (toolsLinkOwner === me) toolsLinkOwner = null;
    };
  }, []);
  if (!mine) return null;
  return (
    <div className="setting plexcourier-tools-link">
      <div>
        <h3>
          <Link to={PAGE_PATH}>
            <button type="button" className="btn btn-primary">
              PlexCourier
            </button>
          </Link>
        </h3>
        <div className="sub-heading">The queue, the failed scenes and the Plex connection at a glance.</div>
      </div>
      <div />
    </div>
  );
}

api.patch.before('SettingsToolsSection', (props: Props) => [
  {
    ...props,
    children: (
      <>
        {props.children}
        <ToolsLink />
      </>
    ),
  },
]);

// The badge sits above the scene page's tab content (Details, Markers, …): ScenePage.TabContent gets the
// page's props, `scene` among them (Stash's Scene.tsx).
api.patch.after('ScenePage.TabContent', (...args: unknown[]) => {
  const props = args[0] as { scene?: { id?: string } } | undefined;
  const result = args[args.length - 1] as React.ReactNode;
  const id = props?.scene?.id;
  if (!id) return result;
  return (
    <>
      <SceneBadge key={id} sceneId={String(id)} />
      {result}
    </>
  );
});

// Our own panel for our plugin only; `next` (the last argument) renders Stash's panel for every other one.
api.patch.instead('PluginSettings', (...args: unknown[]) => {
  const next = args[args.length - 1] as (...a: unknown[]) => React.ReactNode;
  const props = args[0] as { pluginID?: string; settings?: PluginSettingInfo[] };
  if (props?.pluginID !== PLUGIN_ID) return next(...args.slice(0, -1));
  return <PlexCourierSettings settings={props.settings ?? []} />;
});
