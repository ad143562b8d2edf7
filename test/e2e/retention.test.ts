import { afterEach, describe, expect, it } from 'vitest';
import { dataPaths } from '../../src/paths';
import { QueueStore } from '../../src/queue';
import { startEnv, type Env } from './env';

let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const DAY = 86_400_000;

describe('DLQ retention', () => {
  it('a user who keeps failed scenes 90 days still has a 40-day-old entry after another job is dead-lettered', async () => {
    env = await startEnv({ scenes: 2, settings: { dlq_retention_days: 90 } });
    // Scene 1 failed 40 days ago (written by an earlier worker whose clock we set back).
    const old = await QueueStore.open(dataPaths(env.dataDir).store, { now: () => Date.now() - 40 * DAY });
    await old.enqueue([{ sceneId: '1', priority: 1, trigger: 'Scene.Update.Post' }]);
    const [job] = await old.take(1);
    await old.deadLetter(job!, { class: 'permanent', message: 'Plex refused the edit' });
    await old.close();

    // Plex refuses scene 2's edit: a new dead-letter, which trims the DLQ.
    env.plex.setFault({ kind: 'status', status: 400, method: 'PUT' });
    await env.edit('2', { title: 'Title 2' });
    await env.waitFor(() => env!.status().counts?.dlq >= 1 && env!.status().lastErrors?.some((e: { sceneId: string }) => e.sceneId === '2'), 'scene 2 to be dead-lettered');

    expect(env.status().counts.dlq).toBe(2);
    expect(env.status().dlqExamples.map((e: { sceneId: string }) => e.sceneId)).toEqual(['1', '2']);
    // Purge Old DLQ Entries, with no days given, purges at the setting too.
    expect(await env.task('purge_dlq')).toMatchObject({ error: null });
    expect(env.status().counts.dlq).toBe(2);
  }, 60_000);
});
