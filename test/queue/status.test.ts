import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { QueueStore } from '../../src/queue';
import { readStatus, statusSnapshot, StatusWriter } from '../../src/status';
import { Clock, useTempDirs } from './helpers';

const tempDir = useTempDirs();

describe('status.json', () => {
  it('a snapshot holds counts per state, the DLQ by error class, the oldest waiting job, pid, heartbeat and extra fields', async () => {
    const clock = new Clock();
    const store = await QueueStore.open(path.join(tempDir(), 'queue'), { now: clock.now });
    await store.enqueue([
      { sceneId: '1', priority: 1, trigger: 'hook' },
      { sceneId: '2', priority: 1, trigger: 'hook' },
      { sceneId: '3', priority: 1, trigger: 'hook' },
    ]);
    const [one, two] = await store.take(2);
    await store.deadLetter(one!, { class: 'not-found', message: 'no Plex item for /media/a.mp4' });
    await store.retry(two!, clock.t + 1000, { class: 'transient', message: 'timeout' });
    const snap = statusSnapshot(store, { breaker: 'closed', version: '0.1.0' }, 1234);
    expect(snap).toEqual({
      counts: { ready: 1, delayed: 1, active: 0, dlq: 1, done: 0 },
      dlqByClass: { 'not-found': 1 },
      oldestWaiting: { jobId: expect.any(String), sceneId: '2', state: 'delayed', since: clock.t },
      pid: process.pid,
      heartbeatAt: 1234,
      breaker: 'closed',
      version: '0.1.0',
    });
    await store.close();
  });

  it('many updates within a second are coalesced into few atomic writes, and the last one wins', async () => {
    const file = path.join(tempDir(), 'status.json');
    const writer = new StatusWriter(file, { minIntervalMs: 60_000 });
    const base = { counts: { ready: 0, delayed: 0, active: 0, dlq: 0, done: 0 }, dlqByClass: {}, pid: 1, heartbeatAt: 0 };
    for (let i = 0; i < 50; i++) writer.update({ ...base, heartbeatAt: i });
    await writer.close();
    expect(writer.writes).toBe(2); // the first at once, the other 49 coalesced into one
    expect((await readStatus(file))?.heartbeatAt).toBe(49);
    expect(readdirSync(path.dirname(file))).toEqual(['status.json']); // no tmp left behind
    expect(JSON.parse(readFileSync(file, 'utf8')).pid).toBe(1);
  });

  it('readStatus tolerates a missing, torn or foreign file', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'status.json');
    expect(await readStatus(file)).toBeUndefined();
    writeFileSync(file, '{"counts":{"ready":1,');
    expect(await readStatus(file)).toBeUndefined();
    writeFileSync(file, '{"hello":"world"}');
    expect(await readStatus(file)).toBeUndefined();
  });
});
