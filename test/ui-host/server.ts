/**
 * Serves the test host page (a stand-in for Stash's web UI) next to the fake Stash, the way Stash serves
 * its own UI: the page and its libraries, the plugin's UI files at /plugin/<id>/javascript and
 * /plugin/<id>/css (every file the manifest lists, concatenated, as Stash's plugin routes do), and
 * /graphql passed to the fake Stash with a valid session cookie (the browser's logged-in session).
 *
 *   const host = await startUiHost({ stash, pluginYml });   // host.url: open it in the browser
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FakeStash } from '../fake-stash/server';
import { loadManifest } from '../stash-host/manifest';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const nm = (p: string) => path.join(repo, 'node_modules', p);

/**
 * React and the router at the versions Stash v0.30 ships (stash-ui-plugins.md), from npm. The development
 * builds: they report misused hooks, missing keys and bad props on the console, which the tests fail on.
 */
const VENDOR: Record<string, [string, string]> = {
  '/vendor/react.js': [nm('react/umd/react.development.js'), 'text/javascript'],
  '/vendor/react-dom.js': [nm('react-dom/umd/react-dom.development.js'), 'text/javascript'],
  '/vendor/react-router-dom.js': [nm('react-router-dom/umd/react-router-dom.js'), 'text/javascript'],
  '/vendor/bootstrap.css': [nm('bootstrap/dist/css/bootstrap.min.css'), 'text/css'],
  '/host/app.js': [path.join(here, 'app.js'), 'text/javascript'],
  '/host/stash-theme.css': [path.join(here, 'stash-theme.css'), 'text/css'],
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<base href="/">
<title>Stash</title>
<link rel="stylesheet" href="/vendor/bootstrap.css">
<link rel="stylesheet" href="/host/stash-theme.css">
<script src="/vendor/react.js"></script>
<script src="/vendor/react-dom.js"></script>
<script src="/vendor/react-router-dom.js"></script>
</head>
<body>
<div id="root"></div>
<script src="/host/app.js"></script>
</body>
</html>
`;

export interface UiHost {
  url: string;
  close(): Promise<void>;
}

export async function startUiHost(opts: { stash: FakeStash; pluginYml: string }): Promise<UiHost> {
  const manifest = loadManifest(opts.pluginYml);
  const cookie = `session=${opts.stash.newSession()}`;
  const pluginFiles = (kind: 'javascript' | 'css') => manifest.ui[kind].filter((f) => !/^https?:/.test(f)).map((f) => fs.readFileSync(path.join(manifest.pluginDir, f)));

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/graphql') {
      const upstream = http.request(`${opts.stash.url}/graphql`, { method: req.method, headers: { 'content-type': req.headers['content-type'] ?? 'application/json', cookie } }, (up) => {
        res.writeHead(up.statusCode ?? 502, { 'content-type': up.headers['content-type'] ?? 'application/json' });
        up.pipe(res);
      });
      upstream.on('error', (err) => {
        res.writeHead(502);
        res.end(err.message);
      });
      req.pipe(upstream);
      return;
    }
    const plugin = /^\/plugin\/([^/]+)\/(javascript|css)$/.exec(url.pathname);
    if (plugin) {
      if (plugin[1] !== manifest.id) return void res.writeHead(404).end();
      const kind = plugin[2] as 'javascript' | 'css';
      res.writeHead(200, { 'content-type': kind === 'css' ? 'text/css' : 'text/javascript' });
      res.end(Buffer.concat(pluginFiles(kind).flatMap((b) => [b, Buffer.from('\n')])));
      return;
    }
    const vendor = VENDOR[url.pathname];
    if (vendor) {
      res.writeHead(200, { 'content-type': vendor[1] });
      res.end(fs.readFileSync(vendor[0]));
      return;
    }
    // Stash's server owns /plugin/… (it 404s client routes there); everything else gets the UI.
    if (url.pathname.startsWith('/plugin/')) return void res.writeHead(404).end('404 page not found');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(PAGE);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
