import { describe, expect, it } from 'vitest';
import { decideEntityHook } from '../../src/follow/events';
import { SCENES_USING_QUERY, usingFilter } from '../../src/follow/follower';
import { filesOf, linkOf, linksAny, linksOf } from '../../src/follow/links';
import { parsePluginInput } from '../../src/stash/input';
import { stashSceneSchema } from '../../src/stash/scene';
import { DEFAULT_MAP_OPTIONS, type MapOptions } from '../../src/sync/map';
import { stashSchema, validateAgainstStash } from '../fake-stash/server';
import { parse, validate } from 'graphql';

/** The hook event a real Stash writes for this hookContext (parsed as the worker parses it). */
function event(type: string, id: number | undefined, input: unknown, inputFields?: string[]) {
  const hookContext: Record<string, unknown> = { type, input };
  if (id) hookContext.id = id;
  if (inputFields) hookContext.inputFields = inputFields;
  const stdin = JSON.stringify({ server_connection: { Scheme: 'http', Port: 9999 }, args: { hookContext } });
  return parsePluginInput(stdin).hook!;
}

const tagUpdate = (fields: string[]) => {
  // A real Stash (v0.30.1) sends a tag's input with the keys sent only, and inputFields naming them.
  const input: Record<string, unknown> = { id: '7' };
  for (const f of fields) if (f !== 'id') input[f] = 'x';
  return event('Tag.Update.Post', 7, input, fields);
};

const opts = (o: Partial<MapOptions> = {}): MapOptions => ({ ...DEFAULT_MAP_OPTIONS, ...o });

describe('which tag, performer, studio and group changes reach Plex', () => {
  it('a tag rename is a change of that tag', () => {
    expect(decideEntityHook(tagUpdate(['id', 'name']), opts())).toEqual({ changes: [{ entity: 'tag', op: 'update', id: '7', trigger: 'Tag.Update.Post' }] });
  });

  it("a tag's description or image only queues nothing", () => {
    expect(decideEntityHook(tagUpdate(['id', 'description']), opts())).toMatchObject({ ignored: expect.stringContaining('description') });
    expect(decideEntityHook(tagUpdate(['id', 'image', 'aliases']), opts())).toHaveProperty('ignored');
  });

  it('a tag rename queues nothing when tags are not synced', () => {
    expect(decideEntityHook(tagUpdate(['id', 'name']), opts({ tags: 'off' }))).toHaveProperty('ignored');
  });

  it('before the settings are read, every change counts', () => {
    expect(decideEntityHook(tagUpdate(['id', 'description']), undefined)).toHaveProperty('changes');
  });

  it('a performer rename as a real Stash sends it (every key, absent ones null) counts by its inputFields', () => {
    const input = { id: '1', name: 'Perf One renamed', disambiguation: null, url: null, urls: null, gender: null, aliases: null, tag_ids: null, image: null };
    expect(decideEntityHook(event('Performer.Update.Post', 1, input, ['id', 'name']), opts())).toEqual({
      changes: [{ entity: 'performer', op: 'update', id: '1', trigger: 'Performer.Update.Post' }],
    });
    expect(decideEntityHook(event('Performer.Update.Post', 1, { ...input, name: null, favorite: true }, ['id', 'favorite']), opts())).toHaveProperty('ignored');
  });

  it('a performer disambiguation counts only when it is shown', () => {
    const ev = event('Performer.Update.Post', 3, { id: '3', disambiguation: 'UK' }, ['id', 'disambiguation']);
    expect(decideEntityHook(ev, opts())).toHaveProperty('ignored');
    expect(decideEntityHook(ev, opts({ performerDisambiguation: true }))).toHaveProperty('changes');
  });

  it("a studio's parent counts only when the parent's name shows", () => {
    const ev = event('Studio.Update.Post', 4, { id: '4', parent_id: '1' }, ['id', 'parent_id']);
    expect(decideEntityHook(ev, opts())).toHaveProperty('ignored');
    expect(decideEntityHook(ev, opts({ studio: 'parent' }))).toMatchObject({ changes: [{ entity: 'studio', id: '4' }] });
  });

  it('a group rename counts only with groups as collections', () => {
    const ev = event('Group.Update.Post', 5, { id: '5', name: 'G' }, ['id', 'name']);
    expect(decideEntityHook(ev, opts())).toHaveProperty('ignored');
    expect(decideEntityHook(ev, opts({ groupCollections: true }))).toMatchObject({ changes: [{ entity: 'group', op: 'update', id: '5' }] });
  });

  it('a tag merge names its destination; a destroy its id', () => {
    expect(decideEntityHook(event('Tag.Merge.Post', 9, { source: ['2', '3'], destination: '9' }, ['source', 'destination']), opts())).toEqual({
      changes: [{ entity: 'tag', op: 'merge', id: '9', trigger: 'Tag.Merge.Post' }],
    });
    expect(decideEntityHook(event('Performer.Destroy.Post', 3, { id: '3' }), opts())).toEqual({
      changes: [{ entity: 'performer', op: 'destroy', id: '3', trigger: 'Performer.Destroy.Post' }],
    });
  });

  it('scene events are not entity changes', () => {
    expect(decideEntityHook(event('Scene.Update.Post', 1, { id: '1', title: 'x' }, ['id', 'title']), opts())).toBeUndefined();
    expect(decideEntityHook(event('Image.Update.Post', 1, { id: '1' }, ['id']), opts())).toBeUndefined();
  });
});

describe('links kept in sync records', () => {
  const scene = stashSceneSchema.parse({
    id: '1',
    created_at: '2024-01-01T00:00:00Z',
    updated_at: '2024-01-01T00:00:00Z',
    tags: [{ id: '12', name: 'a' }, { id: '40', name: 'b' }],
    performers: [{ id: '3', name: 'p' }],
    studio: { id: '4', name: 's', parent_studio: { id: '1', name: 'n' } },
    groups: [{ group: { id: '7', name: 'g' } }],
    files: [{ id: 'f1', path: '/b.mp4', basename: 'b.mp4', size: 1 }, { id: 'f2', path: '/a.mp4', basename: 'a.mp4', size: 1 }],
  });

  it('name every tag, performer, studio (and its parent) and group compactly', () => {
    expect(linksOf(scene)).toBe('t12 t40 p3 s4 s1 g7');
    expect(linksAny(linksOf(scene), new Set([linkOf('studio', '1')]))).toBe(true);
    expect(linksAny(linksOf(scene), new Set([linkOf('tag', '1')]))).toBe(false);
  });

  it('the files digest ignores order and changes with the set of files', () => {
    const swapped = { ...scene, files: [...scene.files].reverse() };
    expect(filesOf(swapped)).toBe(filesOf(scene));
    expect(filesOf({ ...scene, files: scene.files.slice(0, 1) })).not.toBe(filesOf(scene));
  });
});

describe("the follower's Stash query", () => {
  it("validates against Stash's schema with every entity's filter", () => {
    expect(validateAgainstStash(SCENES_USING_QUERY)).toEqual([]);
    for (const entity of ['tag', 'performer', 'studio', 'group'] as const) {
      // The variables must fit SceneFilterType too: checked by inlining them as a literal.
      const literal = JSON.stringify(usingFilter(entity, ['1', '2'])).replace(/"(\w+)":/g, '$1:').replace(/"(INCLUDES)"/g, '$1');
      const inline = `query Q { findScenes(filter: { page: 1, per_page: 10 }, scene_filter: ${literal}) { count scenes { id } } }`;
      expect(validate(stashSchema(), parse(inline)).map((e) => e.message)).toEqual([]);
    }
  });
});
