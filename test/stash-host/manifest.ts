import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseStrictYaml, YamlError } from './yaml';

/**
 * Loads a plugin manifest the way Stash does (reference/stash-plugin-protocol.md §1): strict YAML, the
 * keys of Stash's `Config` struct and nothing else, `interface` defaulting to raw, settings types
 * checked, id = file name minus its last extension.
 */

const str = z.string();
const strList = z.array(str);
const stringMap = z.record(z.string(), z.string().nullable().transform((v) => v ?? ''));

const operation = {
  name: str,
  description: str.nullish(),
  execArgs: strList.nullish(),
  defaultArgs: stringMap.nullish(),
};

const taskSchema = z.object(operation).strict();
const hookSchema = z.object({ ...operation, triggeredBy: strList }).strict();

const settingSchema = z
  .object({
    displayName: str.nullish(),
    description: str.nullish(),
    // yaml.v2 + Stash: STRING is the default; any other value is a load error (§1.2).
    type: z.enum(['STRING', 'NUMBER', 'BOOLEAN']).nullish(),
  })
  .strict();

const uiSchema = z
  .object({
    javascript: strList.nullish(),
    css: strList.nullish(),
    requires: strList.nullish(),
    assets: z.record(z.string(), str).nullish(),
    csp: z.object({ 'script-src': strList.nullish(), 'style-src': strList.nullish(), 'connect-src': strList.nullish() }).strict().nullish(),
  })
  .strict();

const manifestSchema = z
  .object({
    name: str.nullish(),
    description: str.nullish(),
    url: str.nullish(),
    version: str.nullish(),
    interface: z.enum(['raw', 'rpc', 'js']).nullish(),
    exec: strList.nullish(),
    errLog: str.nullish(),
    tasks: z.array(taskSchema).nullish(),
    hooks: z.array(hookSchema).nullish(),
    settings: z.record(z.string(), settingSchema.nullable()).nullish(),
    ui: uiSchema.nullish(),
  })
  .strict();

export type LogLevelName = 'trace' | 'debug' | 'info' | 'warning' | 'error' | 'progress' | 'none';

export interface Manifest {
  id: string;
  /** Directory of the .yml: what `{pluginDir}` becomes. */
  pluginDir: string;
  name: string;
  description?: string;
  version?: string;
  interface: 'raw' | 'rpc' | 'js';
  exec: string[];
  /** Level for unprefixed stderr lines; unset or invalid = error (§1.2). */
  errLog: LogLevelName;
  tasks: { name: string; description?: string; execArgs: string[]; defaultArgs: Record<string, string> }[];
  hooks: { name: string; description?: string; triggeredBy: string[]; execArgs: string[]; defaultArgs: Record<string, string> }[];
  settings: Record<string, { displayName?: string; description?: string; type: 'STRING' | 'NUMBER' | 'BOOLEAN' }>;
  /** The UI files Stash's web UI loads, relative to the plugin dir or full URLs (§1.2 `ui`). */
  ui: { javascript: string[]; css: string[] };
}

export class ManifestError extends Error {
  override name = 'ManifestError';
}

const ERRLOG = new Set(['trace', 'debug', 'info', 'warning', 'error', 'progress', 'none']);

/** Parses manifest text; `ymlPath` gives the id and plugin dir. Throws ManifestError like "Error loading plugin". */
export function parseManifest(text: string, ymlPath: string): Manifest {
  let doc: unknown;
  try {
    doc = parseStrictYaml(text);
  } catch (err) {
    if (err instanceof YamlError) throw new ManifestError(`Error loading plugin ${ymlPath}: ${err.message}`);
    throw err;
  }
  const parsed = manifestSchema.safeParse(doc ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.join('.') || '(top level)';
    const detail = issue.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.join(', ')}` : issue.message;
    throw new ManifestError(`Error loading plugin ${ymlPath}: ${where}: ${detail}`);
  }
  const m = parsed.data;
  const base = path.basename(ymlPath);
  const ext = path.extname(base);
  const id = ext ? base.slice(0, -ext.length) : base;
  return {
    id,
    pluginDir: path.dirname(ymlPath),
    name: m.name || id,
    ...(m.description ? { description: m.description } : {}),
    ...(m.version ? { version: m.version } : {}),
    interface: m.interface ?? 'raw',
    exec: m.exec ?? [],
    errLog: (m.errLog && ERRLOG.has(m.errLog) ? m.errLog : 'error') as LogLevelName,
    tasks: (m.tasks ?? []).map((t) => ({
      name: t.name,
      ...(t.description ? { description: t.description } : {}),
      execArgs: t.execArgs ?? [],
      defaultArgs: t.defaultArgs ?? {},
    })),
    hooks: (m.hooks ?? []).map((h) => ({
      name: h.name,
      ...(h.description ? { description: h.description } : {}),
      triggeredBy: h.triggeredBy,
      execArgs: h.execArgs ?? [],
      defaultArgs: h.defaultArgs ?? {},
    })),
    ui: { javascript: m.ui?.javascript ?? [], css: m.ui?.css ?? [] },
    settings: Object.fromEntries(
      Object.entries(m.settings ?? {}).map(([k, s]) => [
        k,
        { ...(s?.displayName ? { displayName: s.displayName } : {}), ...(s?.description ? { description: s.description } : {}), type: s?.type ?? 'STRING' },
      ]),
    ),
  };
}

export function loadManifest(ymlPath: string): Manifest {
  return parseManifest(readFileSync(ymlPath, 'utf8'), ymlPath);
}
