import { afterEach, describe, expect, it } from 'vitest';
import type { Job, SyncRecord } from '../../src/queue/types';
import { StashClient } from '../../src/stash/graphql';
import { DEFAULT_MAP_OPTIONS } from '../../src/sync/map';
import { prepareRound, writeRound, type Outcome, type RoundContext } from '../../src/sync/round';
import { makeScene, PLEX_ROOT, sceneFile, STASH_ROOT } from '../e2e/env';
import { startFakeStash, type FakeStash } from '../fake-stash/server';
import { useFakePlex } from '../plex/harness';

const fakePlex = useFakePlex();
let stash: FakeStash | undefined;
afterEach(async () => {
  await stash?.close();
  stash = undefined;
});

function job(sceneId: string, force = false): Job {
  return { id: `j${sceneId}`, sceneId, priority: 1, trigger: 'Scene.Update.Post', force, attempts: 0, crashCount: 0, nextRunAt: 0, createdAt: 0, updatedAt: 0, state: 'active', seq: 1 };
}

/** Stash with scenes 1–3; Plex with items for scenes 1 and 2 only; records as the store would keep them. */
async function world() {
  stash = await startFakeStash({ auth: false, scenes: ['1', '2', '3'].map((id) => makeScene(id, { title: `Title ${id}` })) });
  const h = await fakePlex({ sections: [{ title: 'Videos', type: 'movie', locations: [PLEX_ROOT] }] });
  const items = h.plex.addItems(['1', '2'].map((id) => ({ file: sceneFile(id, PLEX_ROOT), size: 1000 + Number(id), title: `scene-${id}` })));
  const records = new Map<string, SyncRecord>();
  const ctx = (stashUrl = stash!.url): RoundContext => ({
    stash: new StashClient({ url: stashUrl }),
    plex: h.service({ pathMap: `${STASH_ROOT}=>${PLEX_ROOT}` }),
    records: async (ids) => ids.map((id) => records.get(id)),
    settings: { map: Object.freeze({ ...DEFAULT_MAP_OPTIONS }), preservePlexEdits: false, poster: true, background: false },
    claims: new Map(),
    now: () => 1_700_000_000_000,
  });
  return { h, items, records, ctx };
}

const kinds = (outcomes: Outcome[]) => outcomes.map((o) => [o.job.sceneId, o.kind, o.kind === 'failed' ? o.error.class : '']);

describe('one sync round', () => {
  it('returns one outcome per job: the scenes found are written, a scene Stash lacks is gone, a file Plex lacks fails not_found', async () => {
    const { h, items, ctx } = await world();
    const c = ctx();
    const prepared = await prepareRound([job('1'), job('2'), job('3'), job('4')], c);
    expect(prepared.stashError).toBeUndefined();
    expect(kinds(prepared.decided)).toEqual([
      ['3', 'failed', 'not_found'],
      ['4', 'gone', ''],
    ]);
    expect(prepared.pending.map((p) => p.job.sceneId)).toEqual(['1', '2']);

    const written = await writeRound(prepared.pending, c);
    expect(kinds(written)).toEqual([
      ['1', 'synced', ''],
      ['2', 'synced', ''],
    ]);
    const first = written[0]!;
    expect(first.kind === 'synced' && first.record).toMatchObject({ ratingKeys: [items[0]!.ratingKey], syncedAt: 1_700_000_000_000 });
    expect(first.kind === 'synced' && first.summary).toMatch(/^updated .*title/);
    expect(h.plex.item(items[0]!.ratingKey).scalars.title).toBe('Title 1');
    expect(h.plex.item(items[1]!.ratingKey).scalars.title).toBe('Title 2');
  });

  it('a scene unchanged since its record costs no Plex request, unless the job is forced', async () => {
    const { h, records, ctx } = await world();
    const c = ctx();
    for (const o of await writeRound((await prepareRound([job('1'), job('2')], c)).pending, c)) {
      if (o.kind === 'synced') records.set(o.job.sceneId, o.record);
    }
    h.plex.clearLog();
    const again = await prepareRound([job('1'), job('2', true)], c);
    expect(kinds(again.decided)).toEqual([['1', 'unchanged', '']]);
    expect(again.pending.map((p) => p.job.sceneId)).toEqual(['2']);
    expect(h.plex.requestLog.filter((r) => r.path.includes('/library/metadata/'))).toEqual([]);
  });

  it('Stash not answering is the round\'s error, not any job\'s: nothing is decided', async () => {
    const { ctx } = await world();
    const gone = await startFakeStash({ auth: false });
    const url = gone.url;
    await gone.close();
    const prepared = await prepareRound([job('1'), job('2')], ctx(url));
    expect(prepared.stashError?.class).toBe('stash_unreachable');
    expect(prepared.decided).toEqual([]);
    expect(prepared.pending).toEqual([]);
  });
});
