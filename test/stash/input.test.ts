import { describe, expect, it } from 'vitest';
import { parsePluginInput, stashBaseUrl, StashInputError } from '../../src/stash/input';
import { buildStdin, loadManifest, type StashConnection } from '../stash-host/host';
import { PLUGIN_YML } from './fixtures';

const manifest = loadManifest(PLUGIN_YML);
const conn: StashConnection = { Port: 9999, sessionCookie: 'MTcw-cookie-value' };

/** Stdin exactly as Stash writes it for a hook (built by the test host). */
function hookStdin(hookContext: Record<string, unknown>, c: StashConnection = conn): string {
  return buildStdin(manifest, c, { hookContext });
}

// Example A of reference/stash-plugin-protocol.md §2.2: every SceneUpdateInput key present, absent ones null.
const sceneUpdateInput = {
  clientMutationId: null, id: '45', title: null, code: null, details: null, director: null, url: null, urls: null,
  date: null, rating100: null, o_counter: null, organized: null, studio_id: null, gallery_ids: null, performer_ids: null,
  movies: null, groups: null, tag_ids: ['21'], cover_image: null, stash_ids: null, resume_time: null, play_duration: null,
  play_count: null, primary_file_id: null,
};

describe('server_connection', () => {
  it('reads Go field names and maps the 0.0.0.0 listen host to loopback', () => {
    const input = parsePluginInput(hookStdin({ id: 45, type: 'Scene.Update.Post', input: sceneUpdateInput, inputFields: ['id', 'tag_ids'] }));
    expect(input.connection).toMatchObject({ scheme: 'http', host: '127.0.0.1', port: 9999, sessionCookie: { name: 'session', value: 'MTcw-cookie-value' } });
    expect(input.connection.pluginDir).toBe(manifest.pluginDir);
    expect(stashBaseUrl(input.connection)).toBe('http://127.0.0.1:9999');
  });

  it('maps :: and an empty host to loopback and brackets IPv6 in the URL', () => {
    const v6 = parsePluginInput(buildStdin(manifest, { ...conn, Host: '::', Scheme: 'https' }, { mode: 'status' }));
    expect(stashBaseUrl(v6.connection)).toBe('https://[::1]:9999');
    const empty = parsePluginInput(buildStdin(manifest, { ...conn, Host: '' }, { mode: 'status' }));
    expect(empty.connection.host).toBe('127.0.0.1');
    const named = parsePluginInput(buildStdin(manifest, { ...conn, Host: 'stash.lan' }, { mode: 'status' }));
    expect(named.connection.host).toBe('stash.lan');
  });

  it('accepts a null SessionCookie (Stash could not encode one)', () => {
    const input = parsePluginInput(buildStdin(manifest, { ...conn, sessionCookie: null }, { mode: 'status' }));
    expect(input.connection.sessionCookie).toBeUndefined();
  });

  it('rejects a scheme other than http or https with a line naming it', () => {
    const text = buildStdin(manifest, conn, { mode: 'status' }).replace('"Scheme":"http"', '"Scheme":"ftp"');
    expect(() => parsePluginInput(text)).toThrow(/server_connection\.Scheme/);
  });
});

describe('tasks', () => {
  it('reads args.mode and keeps the other default args as strings', () => {
    const input = parsePluginInput(buildStdin(manifest, conn, { mode: 'sync_recent', hours: '24' }));
    expect(input.mode).toBe('sync_recent');
    expect(input.args).toEqual({ hours: '24' });
    expect(input.hook).toBeUndefined();
  });
});

describe('hook shapes', () => {
  it('sceneUpdate: the scene and the fields the client sent', () => {
    const { hook } = parsePluginInput(hookStdin({ id: 45, type: 'Scene.Update.Post', input: sceneUpdateInput, inputFields: ['id', 'tag_ids'] }));
    expect(hook).toMatchObject({ kind: 'update', sceneId: '45', fields: ['id', 'tag_ids'] });
  });

  it('scenesUpdate: the whole array as input, the scene from hookContext.id', () => {
    const input = [{ ...sceneUpdateInput, id: '7', title: 'A' }, { ...sceneUpdateInput, id: '8', rating100: 80 }];
    const { hook } = parsePluginInput(hookStdin({ id: 8, type: 'Scene.Update.Post', input, inputFields: ['id', 'rating100'] }));
    expect(hook).toMatchObject({ kind: 'updateMany', sceneId: '8', fields: ['id', 'rating100'] });
    expect(hook?.kind === 'updateMany' && hook.input.rating100).toBe(80);
  });

  it('bulkSceneUpdate: ids listed, null fields omitted', () => {
    const input = { ids: ['3', '4', '5', '4'], tag_ids: { ids: ['21'], mode: 'ADD' } };
    const { hook } = parsePluginInput(hookStdin({ id: 4, type: 'Scene.Update.Post', input, inputFields: ['ids', 'tag_ids'] }));
    expect(hook).toMatchObject({ kind: 'bulkUpdate', sceneId: '4', sceneIds: ['3', '4', '5'], fields: ['ids', 'tag_ids'] });
  });

  it('Scene.Create.Post with input null and no inputFields', () => {
    const text = hookStdin({ id: 12, type: 'Scene.Create.Post', input: null });
    expect(text).not.toContain('inputFields');
    expect(parsePluginInput(text).hook).toEqual({ kind: 'create', trigger: 'Scene.Create.Post', sceneId: '12' });
  });

  it('a scan touching an existing scene: Scene.Update.Post with input null', () => {
    expect(parsePluginInput(hookStdin({ id: 12, type: 'Scene.Update.Post', input: null })).hook).toEqual({
      kind: 'scan', trigger: 'Scene.Update.Post', sceneId: '12',
    });
  });

  it('sceneDestroy: the flattened destroy input', () => {
    const input = { id: '9', delete_file: false, delete_generated: true, checksum: null, oshash: 'abc', path: '/media/x.mp4' };
    expect(parsePluginInput(hookStdin({ id: 9, type: 'Scene.Destroy.Post', input })).hook).toMatchObject({ kind: 'destroy', sceneId: '9', sceneIds: ['9'] });
  });

  it('scenesDestroy: fired per scene with every id', () => {
    const input = { ids: ['9', '10'], delete_file: false, delete_generated: true, checksum: null, oshash: 'abc', path: '/media/y.mp4' };
    expect(parsePluginInput(hookStdin({ id: 10, type: 'Scene.Destroy.Post', input })).hook).toMatchObject({ kind: 'destroy', sceneId: '10', sceneIds: ['9', '10'] });
  });

  it('an identify run: a SceneUpdateInput with only its non-nil fields listed', () => {
    const input = { ...sceneUpdateInput, id: '30', tag_ids: ['1', '2'], title: 'Found', stash_ids: [{ endpoint: 'https://stashdb.org/graphql', stash_id: 'u' }] };
    const { hook } = parsePluginInput(hookStdin({ id: 30, type: 'Scene.Update.Post', input, inputFields: ['id', 'title', 'tag_ids', 'stash_ids'] }));
    expect(hook).toMatchObject({ kind: 'update', sceneId: '30' });
  });

  it('another object type is classified as other, keeping its input and inputFields for src/follow', () => {
    expect(parsePluginInput(hookStdin({ id: 3, type: 'Tag.Update.Post', input: { id: '3', name: 'B' }, inputFields: ['id', 'name'] })).hook).toEqual({
      kind: 'other',
      trigger: 'Tag.Update.Post',
      id: '3',
      input: { id: '3', name: 'B' },
      fields: ['id', 'name'],
    });
  });

  it('Go-escaped characters in strings decode normally', () => {
    const text = hookStdin({ id: 45, type: 'Scene.Update.Post', input: { ...sceneUpdateInput, title: 'A & B <C>' }, inputFields: ['id', 'title'] });
    expect(text).toContain('\\u0026');
    const { hook } = parsePluginInput(text);
    expect(hook?.kind === 'update' && hook.input.title).toBe('A & B <C>');
  });
});

describe('malformed input', () => {
  const cases: [string, string, RegExp][] = [
    ['empty stdin', '', /no input on stdin/],
    ['whitespace only', '  \n', /no input on stdin/],
    ['truncated JSON', '{"server_connection":{"Scheme":"http"', /could not parse its input as JSON/],
    ['a JSON array', '[1,2]', /must be a JSON object/],
    ['no server_connection', '{"args":{}}', /server_connection/],
    ['Port as a string', JSON.stringify({ server_connection: { Scheme: 'http', Host: '', Port: '9999' }, args: {} }), /server_connection\.Port/],
    ['hookContext without type', JSON.stringify({ server_connection: { Scheme: 'http', Port: 1 }, args: { hookContext: { id: 1 } } }), /hookContext\.type/],
    ['hook id as text', JSON.stringify({ server_connection: { Scheme: 'http', Port: 1 }, args: { hookContext: { id: 'x', type: 'Scene.Update.Post' } } }), /hookContext\.id/],
    ['bulk ids not a list', JSON.stringify({ server_connection: { Scheme: 'http', Port: 1 }, args: { hookContext: { id: 1, type: 'Scene.Update.Post', input: { ids: 'all' } } } }), /ids/],
    ['update without any scene id', JSON.stringify({ server_connection: { Scheme: 'http', Port: 1 }, args: { hookContext: { type: 'Scene.Update.Post', input: { title: 'x' } } } }), /no scene id/],
    ['create without an id', JSON.stringify({ server_connection: { Scheme: 'http', Port: 1 }, args: { hookContext: { type: 'Scene.Create.Post', input: null } } }), /no hookContext\.id/],
    ['mode not a string', JSON.stringify({ server_connection: { Scheme: 'http', Port: 1 }, args: { mode: 3 } }), /args\.mode/],
  ];
  for (const [name, text, message] of cases) {
    it(`${name}: one line naming the problem`, () => {
      let caught: unknown;
      try {
        parsePluginInput(text);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(StashInputError);
      expect((caught as Error).message).toMatch(message);
      expect((caught as Error).message).not.toContain('\n');
    });
  }
});
