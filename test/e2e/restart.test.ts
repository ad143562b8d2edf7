import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { makeScene, readLog, startEnv, type Env } from './env';

let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

it('after a machine restart the worker queues the scenes changed since the last event it took in, and says events could have been lost', async () => {
  const boot = Date.now() - os.uptime() * 1000;
  const lastEventAt = boot - 10 * 60_000;
  env = await startEnv({
    scenes: [
      makeScene('1'),
      makeScene('2', { updated_at: iso(boot - 5 * 60_000) }), // edited just before the power cut; its event never reached the disk
      makeScene('3', { updated_at: iso(lastEventAt - 60 * 60_000) }),
    ],
  });
  fs.mkdirSync(path.join(env.dataDir, 'inbox'), { recursive: true });
  fs.writeFileSync(path.join(env.dataDir, 'inbox', 'last-event.json'), JSON.stringify({ bootId: 'a-boot-before-this-one', lastEventAt }));

  await env.edit('1', { title: 'After the restart' });
  await env.waitFor(() => env!.plexItem('1').scalars.title === 'After the restart', 'the new edit to reach Plex');
  await env.waitFor(() => env!.plexItem('2').scalars.title === 'Scene 2', 'the scene changed before the restart to be synced');
  expect(env.plexItem('3').scalars.title).toBe('scene-3');
  expect(readLog(env.dataDir)).toMatch(/Stash has 1 scene\(s\) changed between that event and the restart \(2\): their events could have been lost, so they are queued again/);
  const bootId = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  await env.waitFor(() => JSON.parse(fs.readFileSync(path.join(env!.dataDir, 'inbox', 'last-event.json'), 'utf8')).bootId === bootId, 'the record of this boot');
});
