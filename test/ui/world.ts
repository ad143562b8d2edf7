/**
 * The browser world: the e2e world (the built plugin run by test/stash-host against the fake Stash and
 * the fake Plex), the fake Stash answering runPluginOperation / runPluginTask / configurePlugin by
 * running that plugin as Stash does, the test host page standing in for Stash's web UI, and Debian's
 * Chromium driven by playwright-core.
 *
 *   const w = await startUiWorld({ scenes: 3 });
 *   await w.page.goto(w.url('/plugins/plexcourier'));
 *   await w.shot('page');                // test-artifacts/ui/page.png (gitignored)
 *   await w.close();
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GraphQLError } from 'graphql';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startEnv, type Env, type EnvOptions } from '../e2e/env';
import { loadManifest, startTask } from '../stash-host/host';
import { startUiHost, type UiHost } from '../ui-host/server';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ARTIFACTS = path.join(repo, 'test-artifacts', 'ui');
export const CHROMIUM = process.env.PLEXCOURIER_CHROMIUM ?? '/usr/bin/chromium';

export interface UiWorld {
  env: Env;
  host: UiHost;
  context: BrowserContext;
  page: Page;
  url(p: string): string;
  /** `node dist/plexcourier.cjs status --json` for this world's data directory. */
  statusJson(): Record<string, any>;
  shot(name: string, target?: { selector: string }): Promise<string>;
  close(): Promise<void>;
}

export async function startUiWorld(opts: EnvOptions = {}): Promise<UiWorld> {
  const env = await startEnv(opts);
  const manifest = loadManifest(env.yml);
  const tmp = path.dirname(path.dirname(env.pluginDir));
  const hostOpts = { env: env.processEnv, cwd: tmp, killAfterMs: 120_000 };
  env.stash.setPlugins([
    {
      id: manifest.id,
      name: manifest.name,
      // Stash lists a plugin's settings sorted by key (stash-plugin-protocol.md §1.2).
      settings: Object.keys(manifest.settings)
        .sort()
        .map((name) => ({ name, display_name: manifest.settings[name]!.displayName ?? null, description: manifest.settings[name]!.description ?? null, type: manifest.settings[name]!.type })),
      paths: { javascript: [`/plugin/${manifest.id}/javascript`], css: [`/plugin/${manifest.id}/css`] },
      runOperation: async (args) => {
        const r = await env.operation(args);
        if (r.error) throw new GraphQLError(r.error);
        return r.output;
      },
      runTask: (taskName, args) => startTask(env.yml, taskName, args, env.stash.connection, hostOpts).result,
    },
    // Another plugin: its panel must stay Stash's own.
    { id: 'otherplugin', name: 'Other Plugin', settings: [{ name: 'colour', display_name: 'Colour', description: 'Some other plugin setting', type: 'STRING' }] },
  ]);
  const host = await startUiHost({ stash: env.stash, pluginYml: env.yml });
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plexcourier-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 860 },
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-gpu', '--disable-quic'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  // React's development build warns through console.error (hooks, keys, props): any of it is a defect.
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) pageErrors.push(msg.text().slice(0, 500));
  });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return {
    env,
    host,
    context,
    page,
    url: (p) => `${host.url}${p}`,
    statusJson: () =>
      JSON.parse(
        execFileSync(process.execPath, [path.join(env.pluginDir, 'plexcourier.cjs'), 'status', '--json'], {
          env: { ...process.env, PLEXCOURIER_DATA_DIR: env.dataDir },
          encoding: 'utf8',
        }),
      ),
    shot: async (name, target) => {
      const file = path.join(ARTIFACTS, `${name}.png`);
      if (target) await page.locator(target.selector).screenshot({ path: file });
      else await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    close: async () => {
      await context.close().catch(() => undefined);
      await host.close();
      await env.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
      if (pageErrors.length) throw new Error(`errors in the page: ${pageErrors.join('; ')}`);
    },
  };
}
