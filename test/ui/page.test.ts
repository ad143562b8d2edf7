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
    await expect.poll(() => row.locator('a').textContent()).toBe('Refused at first');
    expect(await row.locator('a').getAttribute('href')).toBe('/scenes/2');
    await w.shot('page');

    await row.getByRole('button', { name: 'Retry' }).click();
    await page.getByTestId('notice').getByText('re-queued 1').waitFor();
    await env.waitFor(() => env.plexItem('2').scalars.title === 'Refused at first', 'scene 2 in Plex after Retry on the page');
    await page.getByText('Nothing has failed.').waitFor({ timeout: 15_000 });
    await expect.poll(() => count('dlq').textContent(), { timeout: 10_000 }).toBe('0');
  });
});
