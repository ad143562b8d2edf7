import { afterEach, describe, expect, it } from 'vitest';
import { StashClient } from '../../src/stash/graphql';
import { addPlay, PLAYS_QUERIES, saveResume, scenePlays } from '../../src/plays/stash';
import { startFakeStash, validateAgainstStash, type FakeStash } from '../fake-stash/server';

let stash: FakeStash | undefined;
afterEach(async () => {
  await stash?.close();
  stash = undefined;
});

const client = (s: FakeStash) => new StashClient({ url: s.url, sessionCookie: s.connection.sessionCookie });

describe('the plays queries validate against the real Stash schema', () => {
  for (const [name, query] of Object.entries(PLAYS_QUERIES)) {
    it(name, () => expect(validateAgainstStash(query)).toEqual([]));
  }
});

describe('plays in the fake Stash', () => {
  it('sceneAddPlay is not idempotent: the same time sent twice is two plays, as in Stash', async () => {
    stash = await startFakeStash({ scenes: [{ id: '3', title: 'A' }] });
    const c = client(stash);
    await addPlay(c, '3', 1_700_000_000);
    await addPlay(c, '3', 1_700_000_000);
    await addPlay(c, '3', 1_600_000_000);
    expect(stash.getScene('3')!.play_history).toEqual(['2020-09-13T12:26:40Z', '2023-11-14T22:13:20Z', '2023-11-14T22:13:20Z']);
    expect(stash.getScene('3')!.play_count).toBe(3);
    const plays = await scenePlays(c, ['3', '99']);
    expect(plays.get('3')).toEqual({ playTimes: [1_600_000_000, 1_700_000_000, 1_700_000_000], resumeTime: null });
    expect(plays.has('99')).toBe(false);
    expect(stash.violations).toEqual([]);
  });

  it('sceneSaveActivity sets the resume point and leaves play duration alone when none is sent', async () => {
    stash = await startFakeStash({ scenes: [{ id: '3', title: 'A', play_duration: 120 }] });
    await saveResume(client(stash), '3', 93.5);
    expect(stash.getScene('3')).toMatchObject({ resume_time: 93.5, play_duration: 120 });
    expect((await scenePlays(client(stash), ['3'])).get('3')!.resumeTime).toBe(93.5);
    expect(stash.violations).toEqual([]);
  });

  it('a play for a scene Stash does not have is a GraphQL error the caller sees', async () => {
    stash = await startFakeStash({ scenes: [] });
    await expect(addPlay(client(stash), '8', 1_700_000_000)).rejects.toThrow(/scene with id 8 not found/);
  });
});
