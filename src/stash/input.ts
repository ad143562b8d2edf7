import { z } from 'zod';

/**
 * What Stash writes to a raw plugin's stdin (reference/stash-plugin-protocol.md §2.2), parsed once
 * at the edge. `server_connection` carries Go field names (no json tags); `args` is the caller's args
 * plus the task's `defaultArgs` (strings), plus `hookContext` for hooks.
 */

/** One line a user can act on; never a stack trace, never the cookie. */
export class StashInputError extends Error {
  override name = 'StashInputError';
}

// Stash's configured listen host is not necessarily connectable: 0.0.0.0 / :: / "" mean "every
// interface", so talk to loopback instead (§2.2).
function connectableHost(host: string): string {
  const h = host.trim();
  if (h === '' || h === '0.0.0.0') return '127.0.0.1';
  if (h === '::' || h === '[::]') return '::1';
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

const sessionCookieSchema = z
  .object({ Name: z.string().optional(), Value: z.string() })
  .passthrough()
  .nullish()
  .transform((c) => (c && c.Value !== '' ? { name: c.Name || 'session', value: c.Value } : undefined));

export const serverConnectionSchema = z
  .object({
    Scheme: z
      .string()
      .transform((s) => s.toLowerCase())
      .pipe(z.enum(['http', 'https'], { message: 'Scheme must be "http" or "https"' })),
    Host: z.string().nullish(),
    Port: z.number().int().min(1).max(65535),
    SessionCookie: sessionCookieSchema,
    Dir: z.string().nullish(),
    PluginDir: z.string().nullish(),
  })
  .passthrough()
  .transform((c) => ({
    scheme: c.Scheme,
    /** Connectable host: 0.0.0.0 / :: / "" already mapped to loopback. */
    host: connectableHost(c.Host ?? ''),
    port: c.Port,
    /** The value of Stash's `session` cookie for this invocation, when Stash could encode one. */
    sessionCookie: c.SessionCookie,
    /** Stash's config directory. */
    configDir: c.Dir ?? undefined,
    pluginDir: c.PluginDir ?? undefined,
  }));

export type ServerConnection = z.output<typeof serverConnectionSchema>;

/** `http://127.0.0.1:9999` for a connection (IPv6 hosts bracketed). */
export function stashBaseUrl(conn: Pick<ServerConnection, 'scheme' | 'host' | 'port'>): string {
  const host = conn.host.includes(':') ? `[${conn.host}]` : conn.host;
  return `${conn.scheme}://${host}:${conn.port}`;
}

// ---------------------------------------------------------------------------------------------
// Hook events. Each Scene mutation sends a different `input` shape (§4.2); we classify it here so
// that the decision code (src/stash/hooks.ts) and the worker get one typed value.

const idSchema = z.union([z.string().min(1), z.number().int().nonnegative().transform(String)]);
const objectInput = z.record(z.string(), z.unknown());

const hookContextSchema = z.object({
  // `id` is an int with omitempty: absent when 0 (§2.2).
  id: z.number().int().nonnegative().optional(),
  type: z.string().min(1, 'hookContext.type is empty'),
  input: z.unknown().optional(),
  inputFields: z.array(z.string()).nullish(),
});

export type SceneHookEvent =
  /** sceneUpdate or an identify run: one SceneUpdateInput; `fields` tells set-to-null from absent. */
  | { kind: 'update'; trigger: string; sceneId: string; fields?: string[]; input: Record<string, unknown> }
  /** scenesUpdate: fired per scene with the whole array as input (§4.2). */
  | { kind: 'updateMany'; trigger: string; sceneId: string; fields?: string[]; input: Record<string, unknown> }
  /** bulkSceneUpdate: fired per scene with the same bulk input; null fields omitted (§4.2). */
  | { kind: 'bulkUpdate'; trigger: string; sceneId?: string; sceneIds: string[]; fields?: string[]; input: Record<string, unknown> }
  /** Scene.Update.Post from a scan (a file added or changed): input null. */
  | { kind: 'scan'; trigger: string; sceneId: string }
  /** Scene.Create.Post (sceneCreate or a scan): input null. */
  | { kind: 'create'; trigger: string; sceneId: string }
  /** sceneDestroy / scenesDestroy / clean; `sceneIds` from the input when it lists them. */
  | { kind: 'destroy'; trigger: string; sceneId?: string; sceneIds: string[] }
  /**
   * Any other trigger: a tag, performer, studio or group change (src/follow/ reads `input` and
   * `fields`), or one this plugin does not subscribe to.
   */
  | { kind: 'other'; trigger: string; id?: string; input?: unknown; fields?: string[] };

export type HookEvent = SceneHookEvent;

function fail(msg: string): never {
  throw new StashInputError(msg);
}

function uniqueIds(values: unknown, where: string): string[] {
  const parsed = z.array(idSchema).safeParse(values);
  if (!parsed.success) fail(`${where} must be a list of scene ids`);
  return [...new Set(parsed.data)];
}

function classifyHook(ctx: z.infer<typeof hookContextSchema>): HookEvent {
  const trigger = ctx.type;
  const ctxId = ctx.id !== undefined && ctx.id > 0 ? String(ctx.id) : undefined;
  const fields = ctx.inputFields ?? undefined;
  const input = ctx.input ?? null;
  if (!trigger.startsWith('Scene.')) return { kind: 'other', trigger, id: ctxId, input, ...(fields ? { fields } : {}) };

  const needId = (what: string): string => ctxId ?? fail(`${trigger} hook for ${what} has no hookContext.id`);

  switch (trigger) {
    case 'Scene.Create.Post':
      // sceneCreate and scans send input null (§4.2); accept an object too, in case that changes.
      if (input !== null && (typeof input !== 'object' || Array.isArray(input))) fail(`${trigger} hook input must be null or an object`);
      return { kind: 'create', trigger, sceneId: needId('a created scene') };
    case 'Scene.Update.Post': {
      if (input === null) return { kind: 'scan', trigger, sceneId: needId('a scanned scene') };
      if (Array.isArray(input)) {
        const items = z.array(objectInput).safeParse(input);
        if (!items.success) fail(`${trigger} hook input array must hold scene update objects`);
        const sceneId = needId('scenesUpdate');
        const own = items.data.find((item) => idSchema.safeParse(item.id).data === sceneId);
        return { kind: 'updateMany', trigger, sceneId, fields, input: own ?? {} };
      }
      const obj = objectInput.safeParse(input);
      if (!obj.success) fail(`${trigger} hook input must be null, an object or an array`);
      if ('ids' in obj.data && obj.data.ids !== undefined) {
        const sceneIds = uniqueIds(obj.data.ids, `${trigger} bulk input "ids"`);
        return { kind: 'bulkUpdate', trigger, sceneId: ctxId, sceneIds, fields, input: obj.data };
      }
      const inputId = idSchema.safeParse(obj.data.id);
      const sceneId = ctxId ?? (inputId.success ? inputId.data : fail(`${trigger} hook input has no scene id`));
      return { kind: 'update', trigger, sceneId, fields, input: obj.data };
    }
    case 'Scene.Destroy.Post': {
      if (input === null) return { kind: 'destroy', trigger, sceneId: needId('a destroyed scene'), sceneIds: [] };
      const obj = objectInput.safeParse(input);
      if (!obj.success) fail(`${trigger} hook input must be null or an object`);
      const ids = obj.data.ids !== undefined && obj.data.ids !== null ? uniqueIds(obj.data.ids, `${trigger} input "ids"`) : [];
      const single = idSchema.safeParse(obj.data.id);
      const sceneIds = single.success && !ids.includes(single.data) ? [single.data, ...ids] : ids;
      if (!ctxId && sceneIds.length === 0) fail(`${trigger} hook names no scene (no hookContext.id and no ids in the input)`);
      return { kind: 'destroy', trigger, sceneId: ctxId, sceneIds };
    }
    default:
      return { kind: 'other', trigger, id: ctxId };
  }
}

// ---------------------------------------------------------------------------------------------

const argsSchema = z
  .record(z.string(), z.unknown())
  .nullish()
  .transform((a) => a ?? {});

const pluginInputSchema = z.object({
  server_connection: serverConnectionSchema,
  args: argsSchema,
});

export interface PluginInput {
  connection: ServerConnection;
  /** The task mode (`args.mode`), absent for hooks Stash starts without one. */
  mode?: string;
  /** Present exactly when Stash started us for a hook. */
  hook?: HookEvent;
  /** Every other arg, as Stash sent it (defaultArgs arrive as strings). */
  args: Record<string, unknown>;
}

function describeIssue(issue: z.ZodIssue): string {
  const where = issue.path.length ? issue.path.join('.') : 'input';
  return `${where}: ${issue.message}`;
}

/**
 * Parses Stash's stdin bytes. Throws `StashInputError` with one line naming what is wrong for empty
 * input, invalid JSON, a missing or malformed `server_connection`, or a hook input whose shape is
 * not one Stash sends.
 */
export function parsePluginInput(stdin: Buffer | string): PluginInput {
  const text = (typeof stdin === 'string' ? stdin : stdin.toString('utf8')).trim();
  if (text === '') {
    fail('PlexCourier received no input on stdin; it must be started by Stash (a scene hook or Settings > Tasks)');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    fail(`PlexCourier could not parse its input as JSON (${(err as Error).message}); it must be started by Stash`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    fail('PlexCourier input must be a JSON object with server_connection and args; it must be started by Stash');
  }
  const parsed = pluginInputSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    fail(`PlexCourier input is not what Stash sends (${first ? describeIssue(first) : 'invalid'})`);
  }
  const { hookContext, mode, ...rest } = parsed.data.args;
  const result: PluginInput = { connection: parsed.data.server_connection, args: rest };
  if (mode !== undefined && mode !== null) {
    if (typeof mode !== 'string' || mode.trim() === '') fail('args.mode must be a non-empty string');
    result.mode = mode.trim();
  }
  if (hookContext !== undefined && hookContext !== null) {
    const ctx = hookContextSchema.safeParse(hookContext);
    if (!ctx.success) {
      const first = ctx.error.issues[0];
      fail(`PlexCourier hook input is not what Stash sends (hookContext.${first ? describeIssue(first) : 'invalid'})`);
    }
    result.hook = classifyHook(ctx.data);
  }
  return result;
}
