import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { QueueStore, StoreLockedError } from '../../src/queue';
import { killWorkers, startEnv, type Env } from './env';

let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The kernel releases a killed worker's lock at once, but a worker that lost an election may still be starting. */
async function openStoreWhenFree(dir: string): Promise<QueueStore> {
  for (let i = 0; ; i++) {
    try {
      return await QueueStore.open(dir);
    } catch (err) {
      if (!(err instanceof StoreLockedError) || i > 50) throw err;
      await sleep(100);
    }
  }
}

/** The kernel's view of a process: its state letter ('Z' for a zombie), or undefined when it is gone. */
function procState(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/**
 * A `node` for the launcher that gives every worker a parent which never reaps it, as Stash does
 * as PID 1 in its Docker image: a killed worker stays a zombie that `kill -0` still calls alive.
 */
function neverReapingNode(dir: string): string {
  const shim = path.join(dir, 'node-never-reaped');
  fs.writeFileSync(
    shim,
    [
      '#!/bin/sh',
      'case " $* " in',
      `  *" worker "*) exec python3 -c 'import os, sys, time`,
      'if os.fork() == 0:',
      '    os.execv(sys.argv[1], sys.argv[1:])',
      `time.sleep(900)' "$REAL_NODE" "$@" ;;`,
      'esac',
      'exec "$REAL_NODE" "$@"',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return shim;
}

describe('a worker killed at random moments under a parent that never reaps', () => {
  it('is replaced by the next hook every time, and every scene ends synced (or in the DLQ with a reason), none lost', async () => {
    const shimDir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'plexcourier-shim-'));
    const scenes = 2_000;
    env = await startEnv({ scenes, env: { PLEXCOURIER_NODE: neverReapingNode(shimDir), REAL_NODE: process.execPath } });
    const ids = Array.from({ length: scenes }, (_, i) => i + 1);
    const first = await env.hook({
      type: 'Scene.Update.Post',
      id: 1,
      input: { ids: ids.map(String), title: 'x' },
      inputFields: ['ids', 'title'],
    });
    expect(first.error).toBeNull();

    let zombies = 0;
    for (let kill = 0; kill < 20; kill++) {
      await sleep(150 + Math.floor(Math.random() * 600));
      const pid = env.workerPid();
      if (pid && procState(pid) && procState(pid) !== 'Z') {
        process.kill(pid, 'SIGKILL');
        await env.waitFor(() => procState(pid) !== 'R' && procState(pid) !== 'S', `worker ${pid} to die`, 5_000);
        if (procState(pid) === 'Z') zombies += 1;
      }
      const id = String(1 + Math.floor(Math.random() * scenes));
      const hook = await env.hook({ type: 'Scene.Update.Post', id: Number(id), input: { id, title: null }, inputFields: ['id', 'title'] });
      expect(hook.error).toBeNull();
      await env.waitFor(() => {
        const next = env!.workerPid();
        return next !== undefined && next !== pid && ['R', 'S', 'D'].includes(procState(next) ?? '');
      }, `a new worker after kill ${kill + 1}`, 15_000);
    }
    expect(zombies).toBeGreaterThan(0);

    await env.waitFor(() => {
      const c = env!.status().counts;
      return !!c && c.ready + c.delayed + c.active === 0;
    }, 'the queue to drain', 180_000);
    // Read the DLQ from the store itself, with the worker gone (the store is single-owner).
    killWorkers(env.dataDir);
    const store = await openStoreWhenFree(path.join(env.dataDir, 'queue'));
    const dead = store.dlqList({ limit: scenes });
    await store.close();
    for (const e of dead) expect(e.message, `DLQ reason of scene ${e.sceneId}`).not.toBe('');
    const inDlq = new Set(dead.map((e) => e.sceneId));
    const lost = ids.filter((id) => env!.plexItem(String(id)).scalars.title !== `Scene ${id}` && !inDlq.has(String(id)));
    expect(lost).toEqual([]);
    fs.rmSync(shimDir, { recursive: true, force: true });
  }, 300_000);
});
