import { describe, expect, it } from 'vitest';
import { decideHook, PRIORITY } from '../../src/stash/hooks';
import type { HookEvent } from '../../src/stash/input';

const ratingOn = { syncRating: true };
const ratingOff = { syncRating: false };
const T = 'Scene.Update.Post';

function upd(fields: string[] | undefined, kind: 'update' | 'updateMany' = 'update'): HookEvent {
  return { kind, trigger: T, sceneId: '45', ...(fields ? { fields } : {}), input: {} };
}

describe('which edits can change Plex', () => {
  it('a title or tag edit queues the scene as a user edit', () => {
    expect(decideHook(upd(['id', 'tag_ids']), ratingOn)).toEqual({
      requests: [{ sceneId: '45', priority: PRIORITY.userEdit, trigger: 'Scene.Update.Post/update' }],
      removals: [],
    });
  });

  for (const field of ['o_counter', 'play_count', 'resume_time', 'play_duration']) {
    it(`a change of ${field} alone is ignored`, () => {
      const d = decideHook(upd(['id', field]), ratingOn);
      expect(d.requests).toEqual([]);
      expect(d.ignored).toMatch(field);
    });
  }

  it('resume time and play duration together are still ignored', () => {
    expect(decideHook(upd(['id', 'resume_time', 'play_duration']), ratingOn).requests).toEqual([]);
  });

  it('a rating change queues the scene only while rating sync is on', () => {
    expect(decideHook(upd(['id', 'rating100']), ratingOn).requests).toHaveLength(1);
    expect(decideHook(upd(['id', 'rating100']), ratingOff).requests).toEqual([]);
  });

  it('an input field PlexCourier does not know counts as a change', () => {
    expect(decideHook(upd(['id', 'some_future_field']), ratingOff).requests).toHaveLength(1);
  });

  it('without inputFields (nothing to tell) the scene is queued', () => {
    expect(decideHook(upd(undefined), ratingOff).requests).toHaveLength(1);
  });

  it('a scenesUpdate element is a user edit of its own scene', () => {
    expect(decideHook(upd(['id', 'title'], 'updateMany'), ratingOff).requests).toEqual([
      { sceneId: '45', priority: PRIORITY.userEdit, trigger: 'Scene.Update.Post/updateMany' },
    ]);
  });
});

describe('other events', () => {
  it('a created scene and a scan are queued at the hook-event priority', () => {
    expect(decideHook({ kind: 'create', trigger: 'Scene.Create.Post', sceneId: '5' }, ratingOff).requests).toEqual([
      { sceneId: '5', priority: PRIORITY.hookEvent, trigger: 'Scene.Create.Post/create' },
    ]);
    expect(decideHook({ kind: 'scan', trigger: T, sceneId: '5' }, ratingOff).requests[0]?.priority).toBe(PRIORITY.hookEvent);
  });

  it('a destroyed scene becomes a removal', () => {
    expect(decideHook({ kind: 'destroy', trigger: 'Scene.Destroy.Post', sceneId: '9', sceneIds: ['9'] }, ratingOff)).toEqual({ requests: [], removals: ['9'] });
  });

  it('events for other object types are ignored', () => {
    expect(decideHook({ kind: 'other', trigger: 'Tag.Update.Post', id: '3' }, ratingOff)).toMatchObject({ requests: [], removals: [] });
  });
});

describe('bulk edits', () => {
  const bulk = (sceneId: string | undefined, fields = ['ids', 'tag_ids']): HookEvent => ({
    kind: 'bulkUpdate', trigger: T, ...(sceneId ? { sceneId } : {}), sceneIds: ['3', '4', '5'], fields, input: {},
  });

  it('the hook of the first listed scene queues every id once, at bulk priority', () => {
    const d = decideHook(bulk('3'), ratingOff);
    expect(d.requests.map((u) => u.sceneId)).toEqual(['3', '4', '5']);
    expect(new Set(d.requests.map((u) => u.priority))).toEqual(new Set([PRIORITY.bulk]));
  });

  it('the hooks of the other scenes queue only their own scene', () => {
    expect(decideHook(bulk('4'), ratingOff).requests.map((u) => u.sceneId)).toEqual(['4']);
  });

  it('over the whole sequential run every id is queued, none missed', () => {
    const seen = new Set(['3', '4', '5'].flatMap((id) => decideHook(bulk(id), ratingOff).requests.map((u) => u.sceneId)));
    expect([...seen].sort()).toEqual(['3', '4', '5']);
  });

  it('without a hookContext id every listed id is queued', () => {
    expect(decideHook(bulk(undefined), ratingOff).requests.map((u) => u.sceneId)).toEqual(['3', '4', '5']);
  });

  it('a bulk edit of only the rating is ignored while rating sync is off', () => {
    expect(decideHook(bulk('3', ['ids', 'rating100']), ratingOff).requests).toEqual([]);
  });

  it('scenesDestroy: the first scene removes every id, the others themselves', () => {
    const ev = (id: string): HookEvent => ({ kind: 'destroy', trigger: 'Scene.Destroy.Post', sceneId: id, sceneIds: ['9', '10'] });
    expect(decideHook(ev('9'), ratingOff).removals).toEqual(['9', '10']);
    expect(decideHook(ev('10'), ratingOff).removals).toEqual(['10']);
  });
});
