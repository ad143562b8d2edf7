/**
 * What PlexCourier's UI takes from Stash at run time. React, the router and everything else come from
 * `window.PluginApi` (reference/stash-ui-plugins.md): the bundle never carries a React of its own, and
 * talks to Stash through its GraphQL endpoint with the browser's own session.
 */
import type * as ReactNS from 'react';

type AnyComponent = ReactNS.ComponentType<any>;

export interface PluginApiShape {
  React: typeof ReactNS;
  ReactDOM: unknown;
  libraries: {
    ReactRouterDOM: { Link: AnyComponent; NavLink: AnyComponent; useLocation?: () => { pathname: string } };
    [name: string]: unknown;
  };
  register: { route(path: string, component: AnyComponent): void };
  /** before(fn → new args), instead(fn(...args, next)), after(fn(...args, result) → new result). */
  patch: {
    before(component: string, fn: (...args: any[]) => unknown[]): void;
    instead(component: string, fn: (...args: any[]) => unknown): void;
    after(component: string, fn: (...args: any[]) => unknown): void;
  };
  components: Record<string, unknown>;
}

declare global {
  interface Window {
    PluginApi: PluginApiShape;
  }
}

export const PLUGIN_ID = 'plexcourier';
/** Plural: Stash's server owns /plugin/{id}/… and answers a reload there with 404 (stash-ui-plugins.md). */
export const PAGE_PATH = '/plugins/plexcourier';

export const api: PluginApiShape = window.PluginApi;
export const React = api.React;

/** One GraphQL request to the Stash that serves this page, with the browser's session. */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(new URL('graphql', document.baseURI).toString(), {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  let body: { data?: T; errors?: { message: string }[] };
  try {
    body = await res.json();
  } catch {
    throw new Error(`Stash answered ${res.status} ${res.statusText} instead of GraphQL`);
  }
  if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join('; '));
  if (!res.ok || body.data === undefined) throw new Error(`Stash answered ${res.status} ${res.statusText}`);
  return body.data;
}

const RUN_OPERATION = `mutation PlexCourierOperation($args: Map) { runPluginOperation(plugin_id: "${PLUGIN_ID}", args: $args) }`;

/** runPluginOperation: the plugin's `output`, or its one-line `error` thrown (reference/stash-ui-plugins.md). */
export async function runOperation<T>(args: Record<string, unknown>): Promise<T> {
  const data = await gql<{ runPluginOperation: unknown }>(RUN_OPERATION, { args });
  const out = data.runPluginOperation;
  // A stdout that is not JSON comes back whole, as a string (stash-plugin-protocol.md, "Seen in a running Stash").
  if (typeof out === 'string') {
    try {
      return JSON.parse(out) as T;
    } catch {
      throw new Error(out.trim() || 'PlexCourier gave no answer');
    }
  }
  return out as T;
}

const RUN_TASK = `mutation PlexCourierTask($task: String!) { runPluginTask(plugin_id: "${PLUGIN_ID}", task_name: $task) }`;

/** Queues one of the manifest's tasks as a Stash job (it shows in Stash's job queue); returns the job id. */
export async function runTask(taskName: string): Promise<string> {
  return (await gql<{ runPluginTask: string }>(RUN_TASK, { task: taskName })).runPluginTask;
}

const FIND_JOB = `query PlexCourierJob($id: ID!) { findJob(input: { id: $id }) { id status progress } }`;

/** A Stash job's state; null once Stash has forgotten it (finished a while ago). */
export async function findJob(id: string): Promise<{ status: string; progress: number | null } | null> {
  return (await gql<{ findJob: { status: string; progress: number | null } | null }>(FIND_JOB, { id })).findJob;
}

const SETTINGS_QUERY = `query PlexCourierSettings { configuration { plugins(include: ["${PLUGIN_ID}"]) } }`;
const SAVE_SETTINGS = `mutation PlexCourierSaveSettings($input: Map!) { configurePlugin(plugin_id: "${PLUGIN_ID}", input: $input) }`;

/** The saved settings (only keys a user has saved: there are no defaults in Stash). */
export async function loadSavedSettings(): Promise<Record<string, unknown>> {
  const data = await gql<{ configuration: { plugins: Record<string, Record<string, unknown>> | null } }>(SETTINGS_QUERY);
  return { ...(data.configuration.plugins?.[PLUGIN_ID] ?? {}) };
}

let saving: Promise<unknown> = Promise.resolve();

/**
 * Saves some settings. configurePlugin replaces the whole map, so each save reads what is stored now,
 * merges the change and writes, and saves run one at a time (reference/stash-ui-plugins.md,
 * "Reading and writing settings from the UI"). Returns the map as stored.
 */
export function saveSettings(change: Record<string, unknown>): Promise<Record<string, unknown>> {
  const run = saving.catch(() => undefined).then(async () => {
    const merged = { ...(await loadSavedSettings()), ...change };
    const data = await gql<{ configurePlugin: Record<string, unknown> }>(SAVE_SETTINGS, { input: merged });
    return data.configurePlugin ?? merged;
  });
  saving = run;
  return run;
}

const SCENE_TITLES = `query PlexCourierSceneTitles($ids: [ID!]) { findScenes(ids: $ids, filter: { per_page: -1 }) { scenes { id title files { basename } } } }`;

/** Scene titles for the failed list (a scene without a title is named by its file). */
export async function sceneTitles(ids: string[]): Promise<Record<string, string>> {
  if (ids.length === 0) return {};
  const data = await gql<{ findScenes: { scenes: { id: string; title: string | null; files: { basename: string }[] }[] } }>(SCENE_TITLES, {
    ids,
  });
  return Object.fromEntries(data.findScenes.scenes.map((s) => [s.id, s.title || s.files[0]?.basename || `Scene ${s.id}`]));
}
