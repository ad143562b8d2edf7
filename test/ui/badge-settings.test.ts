/// <reference lib="dom" />
import { afterEach, describe, expect, it } from 'vitest';
import { readLog } from '../e2e/env';
import { startUiWorld, type UiWorld } from './world';

let w: UiWorld | undefined;
afterEach(async () => {
  const world = w;
  w = undefined;
  await world?.close();
});

describe('the scene badge', () => {
  it('follows a scene from queued to synced, jumps the queue with Sync to Plex now, and links to Plex Web', async () => {
    w = await startUiWorld({ scenes: 700 });
    const { env, page } = w;
    // A slow Plex and a Sync All of 700 scenes: bulk rounds take 200 at a time, so the last scenes wait their turn.
    env.plex.setLatency(15);
    const sync = env.startTask('sync_all', { force: 'true' });
    await env.waitFor(() => readLog(env.dataDir).includes('queued 700 scene(s)'), 'the Sync All backlog', 30_000);

    await page.goto(w.url('/scenes/700'));
    const badge = page.getByTestId('plex-badge');
    await badge.locator('.badge', { hasText: 'Plex: queued' }).waitFor({ timeout: 10_000 });
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { seen: string[] }).seen = seen;
      const el = document.querySelector('[data-testid="plex-badge"]')!;
      new MutationObserver(() => {
        const state = el.getAttribute('data-state')!;
        if (seen[seen.length - 1] !== state) seen.push(state);
      }).observe(el, { attributes: true, subtree: true, childList: true, characterData: true });
    });
    await w.shot('badge-queued', { selector: '.scene-tabs' });
    await badge.getByRole('button', { name: 'Sync to Plex now' }).click();
    // It joins the next round taken after the ones already in flight (one being written, one prepared).
    await badge.locator('.badge', { hasText: /Plex: synced (just now|\d+ s ago)/ }).waitFor({ timeout: 90_000 });
    // High priority: scene 700 reached Plex before scene 699, queued before it by the same Sync All.
    expect(env.plexItem('700').scalars.title).toBe('Scene 700');
    expect(env.plexItem('699').scalars.title).toBe('scene-699');
    const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    expect(seen.at(-1)).toBe('synced');
    expect(seen.filter((s) => s !== 'synced')).toEqual(expect.arrayContaining([expect.stringMatching(/queued|in_progress/)]));
    const rk = env.plexItem('700').ratingKey;
    await expect.poll(() => badge.getByRole('link', { name: 'Open in Plex' }).getAttribute('href'), { timeout: 15_000 }).toBe(
      `${env.plex.url}/web/index.html#!/server/${env.plex.machineIdentifier}/details?key=${encodeURIComponent(`/library/metadata/${rk}`)}`,
    );
    await w.shot('badge', { selector: '.scene-tabs' });
    env.plex.setLatency(0);
    await sync.result;
  }, 180_000);

  it('says when a scene failed, in words', async () => {
    w = await startUiWorld({ scenes: 2 });
    const { env, page } = w;
    const fault = env.plex.setFault({ kind: 'status', status: 400, method: 'PUT' });
    await env.edit('2', { title: 'Refused' });
    await env.waitFor(() => env.status().counts?.dlq === 1, 'the DLQ entry');
    env.plex.clearFault(fault);
    await page.goto(w.url('/scenes/2'));
    await page.getByTestId('plex-badge').locator('.badge', { hasText: /^Plex: failed: .*Plex refused the request \(HTTP 400\)/ }).waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('plex-badge').getAttribute('data-state')).toBe('failed');
  });
});

describe('the settings panel', () => {
  it('replaces Stash\'s list for PlexCourier only, saves one change without losing the others, and its connection test names a wrong token', async () => {
    w = await startUiWorld({ scenes: 1, settings: { dlq_retention_days: 0, debug: false } });
    const { env, page } = w;
    const before = { ...(await savedSettings()) };
    await page.goto(w.url('/settings?tab=plugins'));
    const panel = page.locator('.plexcourier-settings');
    await panel.waitFor();
    // Sections in the order a user needs them, connection first; Advanced folded.
    expect(await panel.locator('.plexcourier-section').evaluateAll((els) => els.map((e) => e.getAttribute('data-section')))).toEqual(['connection', 'fields', 'matching', 'retries', 'plays', 'advanced']);
    expect(await panel.locator('[data-section="connection"] .plexcourier-setting').evaluateAll((els) => els.map((e) => e.getAttribute('data-key')))).toEqual(['plex_url', 'plex_token', 'plex_libraries', 'path_map', 'stash_api_key']);
    expect(await panel.locator('[data-key="plex_connect_timeout"]').count()).toBe(0);
    // The other plugin keeps Stash's own panel.
    await page.getByTestId('stash-plugin-settings-otherplugin').waitFor();
    // The token is masked until revealed.
    const token = panel.locator('#plexcourier-setting-plex_token');
    expect(await token.getAttribute('type')).toBe('password');
    expect(await token.inputValue()).toBe(env.plex.token);
    await panel.locator('[data-key="plex_token"]').getByRole('button', { name: 'Show' }).click();
    expect(await token.getAttribute('type')).toBe('text');
    await panel.locator('[data-key="plex_token"]').getByRole('button', { name: 'Hide' }).click();
    // Effective values.
    expect(await page.getByTestId('effective-dlq_retention_days').textContent()).toBe('30 days — default');
    expect(await page.getByTestId('effective-max_retries').textContent()).toBe('12 attempts — default');
    await w.shot('settings', { selector: '.plexcourier-settings' });

    // One change saved: every other setting kept.
    const retries = panel.locator('#plexcourier-setting-max_retries');
    await retries.fill('5');
    expect(await page.getByTestId('effective-max_retries').textContent()).toBe('5 attempts');
    await retries.press('Enter');
    await panel.getByTestId('settings-status').getByText('Saved').waitFor();
    expect(await savedSettings()).toEqual({ ...before, max_retries: 5 });
    // A switch shown the positive way round: unchecking "Title" saves skip_title = true.
    await panel.locator('[data-key="skip_title"] label').click();
    await expect.poll(async () => (await savedSettings()).skip_title).toBe(true);
    expect(await savedSettings()).toEqual({ ...before, max_retries: 5, skip_title: true });
    expect(env.stash.configureLog.every((c) => c.pluginId === 'plexcourier')).toBe(true);

    // Test connection with a wrong token typed but not saved.
    await panel.locator('[data-section="advanced"] button').click();
    await panel.locator('[data-key="plex_connect_timeout"]').waitFor();
    // Typed, not saved: the field offers Save; the test uses what is typed.
    await token.fill('wrong-token-typed-here');
    await panel.locator('[data-key="plex_token"]').getByRole('button', { name: 'Save' }).waitFor();
    await panel.getByRole('button', { name: 'Test connection' }).click();
    const result = page.getByTestId('connection-result');
    await result.waitFor({ timeout: 20_000 });
    expect(await result.textContent()).toMatch(/token/i);
    expect(await result.getAttribute('class')).toContain('alert-danger');
    expect((await savedSettings()).plex_token).toBe(env.plex.token);
    expect(JSON.stringify(env.stash.operationLog.filter((o) => o.args.mode !== 'health'))).not.toContain(env.plex.token);
    await token.press('Escape');
    expect(await token.inputValue()).toBe(env.plex.token);
    await panel.getByRole('button', { name: 'Test connection' }).click();
    await result.getByText(/^Connected to .*token accepted; libraries: Videos/).waitFor({ timeout: 20_000 });
  });
});

async function savedSettings(): Promise<Record<string, unknown>> {
  const res = await fetch(`${w!.host.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ configuration { plugins(include: ["plexcourier"]) } }' }),
  });
  return ((await res.json()) as { data: { configuration: { plugins: Record<string, Record<string, unknown>> } } }).data.configuration.plugins.plexcourier!;
}
