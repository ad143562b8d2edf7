/// <reference lib="dom" />
import { afterEach, describe, expect, it } from 'vitest';
import { startUiWorld, type UiWorld } from './world';

/**
 * The PlexCourier page, the scene badge and the settings panel, clicked through in Chromium inside the
 * test host page (Stash's UI stand-in), with the built plugin behind runPluginOperation.
 */
let w: UiWorld | undefined;
afterEach(async () => {
  const world = w;
  w = undefined;
  await world?.close();
});

const count = (id: string) => w!.page.getByTestId(`count-${id}`).locator('.value');

describe('the PlexCourier page', () => {
  it('shows the same counts as status --json, the failed entry by class, and retries it into Plex', async () => {
    w = await startUiWorld({ scenes: 3 });
    const { env, page } = w;
    await env.edit('2', { title: 'Synced before' });
    await env.waitFor(() => env.plexItem('2').scalars.title === 'Synced before', 'scene 2 synced once');
    const fault = env.plex.setFault({ kind: 'status', status: 400, method: 'PUT' });
    await env.edit('2', { title: 'Refused at first' });
    await env.waitFor(() => env.status().counts?.dlq === 1, 'the DLQ entry');
    env.plex.clearFault(fault);
    await env.edit('1', { title: 'Accepted' });
    await env.waitFor(() => env.plexItem('1').scalars.title === 'Accepted' && env.status().counts?.done >= 1 && env.status().counts?.active === 0, 'scene 1 synced');

    await page.goto(w.url('/plugins/plexcourier'));
    await page.getByText('Plex refused the change').waitFor();
    await env.waitFor(async () => (await count('done').textContent()) === String(w!.statusJson().counts.done), 'the page to catch up', 10_000);
    const status = w.statusJson();
    for (const key of ['ready', 'delayed', 'active', 'dlq', 'done']) expect(await count(key).textContent(), key).toBe(String(status.counts[key]));
    const row = page.locator('tr[data-scene-id="2"]');
    await expect.poll(() => row.locator('a').first().textContent()).toBe('Refused at first');
    expect(await row.locator('a').first().getAttribute('href')).toBe('/scenes/2');
    // Its Plex item, known from the earlier sync, links to Plex Web.
    await expect.poll(() => row.locator('.plexcourier-plex-item a').getAttribute('href'), { timeout: 10_000 }).toContain(`/server/${env.plex.machineIdentifier}/`);
    await w.shot('page');

    await row.getByRole('button', { name: 'Retry' }).click();
    await page.getByTestId('notice').getByText('re-queued 1').waitFor();
    await env.waitFor(() => env.plexItem('2').scalars.title === 'Refused at first', 'scene 2 in Plex after Retry on the page');
    await page.getByText('Nothing has failed.').waitFor({ timeout: 15_000 });
    await expect.poll(() => count('dlq').textContent(), { timeout: 10_000 }).toBe('0');
  });

  it('removes a failed entry and clears the list only after a confirmation, and neither reaches Plex', async () => {
    w = await startUiWorld({ scenes: 3 });
    const { env, page } = w;
    const fault = env.plex.setFault({ kind: 'status', status: 400, method: 'PUT' });
    for (const id of ['1', '2', '3']) await env.edit(id, { title: `Refused ${id}` });
    await env.waitFor(() => env.status().counts?.dlq === 3, 'three DLQ entries');
    env.plex.clearFault(fault);
    await page.goto(w.url('/plugins/plexcourier'));
    await page.locator('tr[data-scene-id="3"]').waitFor();

    await page.locator('tr[data-scene-id="3"]').getByRole('button', { name: 'Remove' }).click();
    const dialog = page.getByRole('dialog', { name: 'Remove from the failed list?' });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => dialog.count()).toBe(0);
    expect(env.status().counts.dlq).toBe(3);
    await page.locator('tr[data-scene-id="3"]').getByRole('button', { name: 'Remove' }).click();
    await dialog.getByRole('button', { name: 'Remove' }).click();
    await page.getByTestId('notice').getByText('removed 1 DLQ entry').waitFor();
    await expect.poll(() => count('dlq').textContent(), { timeout: 10_000 }).toBe('2');

    await page.getByRole('button', { name: 'Clear', exact: true }).click();
    await page.getByRole('dialog', { name: 'Clear the failed list?' }).getByRole('button', { name: 'Clear failed list' }).click();
    await page.getByText('Nothing has failed.').waitFor({ timeout: 15_000 });
    for (const id of ['1', '2', '3']) expect(env.plexItem(id).scalars.title).not.toBe(`Refused ${id}`);
  });

  it('shows the breaker open during a Plex outage and closed once Plex is back, and a health check names the problem', async () => {
    w = await startUiWorld({ scenes: 8 });
    const { env, page } = w;
    await page.goto(w.url('/plugins/plexcourier'));
    await page.getByTestId('breaker').waitFor();
    expect(await page.getByTestId('breaker').getAttribute('data-state')).toBe('closed');
    await env.plex.down();
    for (const id of ['1', '2', '3', '4', '5', '6', '7', '8']) await env.edit(id, { title: `Outage ${id}` });
    await page.locator('[data-testid="breaker"][data-state="open"]').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('breaker').textContent()).toMatch(/Plex is not answering: paused until \d\d:\d\d/);
    await page.getByRole('button', { name: 'Health Check' }).click();
    await page.locator('.plexcourier-health').getByText(/Health check: .*(refused|reach|connect)/i).waitFor({ timeout: 20_000 });
    await w.shot('page-outage');
    await env.plex.up();
    // The breaker probes again after its half-open delay (30 s); Process Queue brings the retries forward.
    await page.locator('[data-testid="breaker"][data-state="closed"]').waitFor({ timeout: 90_000 });
    await env.waitFor(() => ['1', '2', '3', '4', '5', '6', '7', '8'].every((id) => env.plexItem(id).scalars.title === `Outage ${id}`), 'every scene after the outage', 60_000);
    await page.getByRole('button', { name: 'Health Check' }).click();
    await page.locator('.plexcourier-health').getByText('Health check passed.').waitFor({ timeout: 20_000 });
    expect(await page.locator('.plexcourier-health').textContent()).toMatch(/Plex has 8 of 8 sampled scene files/);
  }, 180_000);

  it('runs Sync All as a Stash task and follows it to the end, every scene then in Plex', async () => {
    w = await startUiWorld({ scenes: 30 });
    const { env, page } = w;
    env.plex.setLatency(20);
    await page.goto(w.url('/plugins/plexcourier'));
    await page.getByTestId('count-ready').waitFor();
    await page.getByRole('button', { name: 'Sync All' }).click();
    await page.getByTestId('notice').getByText('Sync All started as a Stash task').waitFor();
    const bar = page.getByTestId('sync-all');
    await bar.waitFor();
    expect(await page.getByRole('button', { name: 'Sync All' }).isDisabled()).toBe(true);
    await page.locator('[data-testid="sync-all"][data-done="true"]').waitFor({ timeout: 90_000 });
    expect(await bar.textContent()).toMatch(/Sync All finished/);
    for (let id = 1; id <= 30; id++) expect(env.plexItem(String(id)).scalars.title).toBe(`Scene ${id}`);
    expect(env.stash.operationLog.some((o) => o.args.mode === 'ui_status')).toBe(true);
  }, 150_000);

  it('refreshes every few seconds while visible and stops while the tab is hidden', async () => {
    w = await startUiWorld({ scenes: 1 });
    const { env, page } = w;
    await page.goto(w.url('/plugins/plexcourier'));
    await page.getByTestId('count-ready').waitFor();
    const polls = () => env.stash.operationLog.filter((o) => o.args.mode === 'ui_status').length;
    await expect.poll(polls, { timeout: 15_000 }).toBeGreaterThanOrEqual(3);
    await page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await new Promise((r) => setTimeout(r, 1_000));
    const hiddenAt = polls();
    await new Promise((r) => setTimeout(r, 8_000));
    expect(polls()).toBe(hiddenAt);
    await page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await expect.poll(polls, { timeout: 10_000 }).toBeGreaterThan(hiddenAt);
  });

  it('is linked from the nav bar and once from Settings > Tools, and a reload of /plugins/plexcourier gets the page', async () => {
    w = await startUiWorld({ scenes: 1 });
    const { page } = w;
    await page.goto(w.url('/settings?tab=tools'));
    await page.getByText('Scene Filename Parser').waitFor();
    const toolsLinks = page.locator('.plexcourier-tools-link');
    await expect.poll(() => toolsLinks.count()).toBe(1);
    await toolsLinks.getByRole('button', { name: 'PlexCourier' }).click();
    await page.getByTestId('count-ready').waitFor();
    expect(new URL(page.url()).pathname).toBe('/plugins/plexcourier');
    await page.goto(w.url('/'));
    await page.locator('.plexcourier-nav').click();
    await page.getByTestId('count-ready').waitFor();
    await page.reload();
    await page.getByTestId('count-ready').waitFor();
  });
});
