import fs from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import axios, { type AxiosInstance } from 'axios';
import type { z } from 'zod';
import { writeFileAtomic } from '../atomic-write';
import { PlexError, errorForNetwork, errorForStatus } from './errors';
import { buildQuery, type QueryPairs } from './query';

export type PlexLog = (level: 'debug' | 'info' | 'warn', message: string) => void;

export interface PlexClientOptions {
  /** Base URL of the server, e.g. `http://192.168.1.10:32400` (a path prefix for a reverse proxy is kept). */
  url: string;
  /** Sent only as the X-Plex-Token header: never in a URL, a log line or an error (reference/plex-api.md §1). */
  token: string;
  /** File holding the stable X-Plex-Client-Identifier; created on first use (src/paths.ts `clientIdFile`). */
  clientIdFile: string;
  /** Requests in flight at once. Defaults to 2: PMS slows down under parallel load (§7, s2p's cascading timeouts). */
  maxInFlight?: number;
  /** TCP connect timeout. Defaults to 5 s (§7). */
  connectTimeoutMs?: number;
  /** Whole-response deadline for ordinary requests. Defaults to 30 s; listing pages get 4× this (§7: 120 s). */
  readTimeoutMs?: number;
  /** Skip certificate verification (self-signed certificate). Off by default. */
  tlsInsecure?: boolean;
  /** PEM file of a CA to trust in addition to the system ones. */
  caFile?: string;
  log?: PlexLog;
}

export interface RequestOptions {
  /** What the request does, in the user's words, for error messages ("reading item 12"). */
  what: string;
  query?: QueryPairs;
  headers?: Record<string, string>;
  body?: Buffer;
  contentType?: string;
  timeoutMs?: number;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

const PRODUCT_VERSION = '0.1.0';

/** Limits the requests handed to axios; FIFO so no caller starves. */
class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly max: number) {}
  async acquire(): Promise<void> {
    if (this.active < this.max) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

/** Arms a connect timeout on each new socket; keep-alive reuse skips it, as it should. */
function withConnectTimeout<A extends http.Agent>(agent: A, ms: number): A {
  const a = agent as unknown as { createConnection: (o: unknown, cb?: unknown) => Duplex };
  const original = a.createConnection.bind(agent);
  a.createConnection = (options: unknown, cb?: unknown) => {
    const socket = original(options, cb);
    const timer = setTimeout(() => {
      const err = Object.assign(new Error('connect timeout'), { code: 'PLEX_CONNECT_TIMEOUT' });
      socket.destroy(err);
    }, ms);
    timer.unref();
    socket.once('connect', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
    return socket;
  };
  return agent;
}

export class PlexClient {
  readonly baseUrl: string;
  /** Requests sent so far (benchmarks and request-budget tests read it). */
  requestCount = 0;
  private readonly token: string;
  private readonly opts: PlexClientOptions;
  private readonly gate: Gate;
  private readonly http: AxiosInstance;
  private readonly httpAgent: http.Agent;
  private httpsAgent: https.Agent | undefined;
  private clientId: Promise<string> | undefined;
  /** The headers every request carries, built once the client identifier is known. */
  private fixedHeaders: Record<string, string> | undefined;
  private readonly connectTimeoutMs: number;
  readonly readTimeoutMs: number;
  /** The in-flight limit: batch writers size their lanes by it. */
  readonly maxInFlight: number;

  constructor(opts: PlexClientOptions) {
    let parsed: URL;
    try {
      parsed = new URL(opts.url);
    } catch {
      throw new PlexError('bad_request', 'plex_url is not a valid URL: set it to e.g. http://192.168.1.10:32400');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new PlexError('bad_request', `plex_url must start with http:// or https:// (got ${parsed.protocol})`);
    }
    if (/x-plex-token/i.test(parsed.search)) {
      // The token belongs in plex_token; a URL carrying it would leak into logs.
      throw new PlexError('bad_request', 'plex_url contains X-Plex-Token: remove it from the URL and put the token in plex_token');
    }
    if (!opts.token || !opts.token.trim()) {
      throw new PlexError('unauthorized', 'plex_token is empty: set the Plex token in the PlexCourier settings');
    }
    this.opts = opts;
    this.token = opts.token.trim();
    this.baseUrl = `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 2);
    // The agents' maxSockets is what limits requests on the wire. The gate lets as many more wait
    // inside the agent, fully prepared, so each is written the moment a connection frees instead
    // of after axios has built it: the connections stay busy while this thread does other work.
    this.gate = new Gate(this.maxInFlight * 2);
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 5_000;
    this.readTimeoutMs = opts.readTimeoutMs ?? 30_000;
    const maxSockets = Math.max(1, opts.maxInFlight ?? 2);
    this.httpAgent = withConnectTimeout(new http.Agent({ keepAlive: true, maxSockets }), this.connectTimeoutMs);
    this.http = axios.create({
      adapter: 'http',
      httpAgent: this.httpAgent,
      proxy: false,
      maxRedirects: 0,
      responseType: 'arraybuffer',
      // Bodies are Buffers (or none) both ways: axios's own conversions would only cost time.
      transformRequest: [(d: unknown) => d],
      transformResponse: [(d: unknown) => d],
      validateStatus: () => true,
      maxBodyLength: Infinity,
      maxContentLength: Infinity,
    });
  }

  private async agentForHttps(): Promise<https.Agent> {
    if (!this.httpsAgent) {
      const options: https.AgentOptions = {
        keepAlive: true,
        maxSockets: Math.max(1, this.opts.maxInFlight ?? 2),
        rejectUnauthorized: !this.opts.tlsInsecure,
      };
      if (this.opts.caFile) {
        let ca: Buffer;
        try {
          ca = await fs.readFile(this.opts.caFile);
        } catch {
          throw new PlexError('bad_request', `the Plex CA file ${this.opts.caFile} cannot be read: fix the path or remove the option`);
        }
        // Trust the extra CA alongside the system ones rather than instead of them.
        const tls = await import('node:tls');
        options.ca = [...tls.rootCertificates, ca.toString('utf8')];
      }
      this.httpsAgent = withConnectTimeout(new https.Agent(options), this.connectTimeoutMs);
    }
    return this.httpsAgent;
  }

  /** The persisted client identifier; generated once and reused for ever (reference/plex-api.md §1). */
  identifier(): Promise<string> {
    this.clientId ??= (async () => {
      const file = this.opts.clientIdFile;
      try {
        const existing = (await fs.readFile(file, 'utf8')).trim();
        if (/^[A-Za-z0-9-]{8,64}$/.test(existing)) return existing;
      } catch {
        // Absent: create below.
      }
      const id = randomUUID();
      try {
        await fs.mkdir(path.dirname(file), { recursive: true });
        // Durable: a lost id makes Plex see a new device on every start.
        await writeFileAtomic(file, id + '\n', { durable: true });
      } catch (e) {
        const code = (e as { code?: string }).code ?? 'error';
        throw new PlexError('bad_request', `cannot write the Plex client id file ${file} (${code}): make the PlexCourier data directory writable`);
      }
      return id;
    })().catch((e: unknown) => {
      this.clientId = undefined; // try again next time
      throw e;
    });
    return this.clientId;
  }

  private async headers(extra: Record<string, string> | undefined): Promise<Record<string, string>> {
    this.fixedHeaders ??= {
      Accept: 'application/json',
      'X-Plex-Token': this.token,
      'X-Plex-Client-Identifier': await this.identifier(),
      'X-Plex-Product': 'PlexCourier',
      'X-Plex-Version': PRODUCT_VERSION,
      'X-Plex-Platform': 'Node.js',
      'X-Plex-Platform-Version': process.versions.node,
      'X-Plex-Device': os.platform(),
      'X-Plex-Device-Name': 'PlexCourier',
    };
    return { ...this.fixedHeaders, ...extra };
  }

  /** Removes the token from any text that might reach a log or an error. */
  redact(s: string): string {
    return this.token ? s.split(this.token).join('<token>') : s;
  }

  /** Sends one request; non-2xx statuses and network failures become PlexError. */
  async request(method: 'GET' | 'PUT' | 'POST' | 'DELETE', urlPath: string, o: RequestOptions): Promise<RawResponse> {
    const qs = o.query && o.query.length ? `?${buildQuery(o.query)}` : '';
    const url = `${this.baseUrl}${urlPath}${qs}`;
    const headers = await this.headers(o.headers);
    if (o.contentType) headers['Content-Type'] = o.contentType;
    const timeoutMs = o.timeoutMs ?? this.readTimeoutMs;
    const httpsAgent = url.startsWith('https:') ? await this.agentForHttps() : undefined;
    await this.gate.acquire();
    this.requestCount++;
    const started = Date.now();
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    try {
      const res = await this.http.request<Buffer>({
        method,
        url,
        headers,
        data: o.body,
        signal: controller.signal,
        ...(httpsAgent ? { httpsAgent } : {}),
      });
      const body = Buffer.isBuffer(res.data) ? res.data : Buffer.from(res.data ?? '');
      const flat: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers ?? {})) if (v !== undefined && v !== null) flat[k.toLowerCase()] = String(v);
      this.opts.log?.('debug', this.redact(`plex ${method} ${urlPath} -> ${res.status} in ${Date.now() - started} ms`));
      if (res.status < 200 || res.status >= 300) {
        throw errorForStatus(res.status, o.what, flat['retry-after']);
      }
      return { status: res.status, headers: flat, body };
    } catch (e) {
      if (e instanceof PlexError) throw e;
      const err = e as { code?: string; cause?: { code?: string } };
      const code = timedOut ? 'PLEX_READ_TIMEOUT' : (err.cause?.code ?? err.code);
      const pe = errorForNetwork(code, o.what, this.baseUrl);
      this.opts.log?.('debug', this.redact(`plex ${method} ${urlPath} failed: ${pe.message}`));
      throw pe;
    } finally {
      clearTimeout(timer);
      this.gate.release();
    }
  }

  /** GET and validate JSON against `schema`. */
  async getJson<S extends z.ZodType>(urlPath: string, schema: S, o: RequestOptions): Promise<z.output<S>> {
    const res = await this.request('GET', urlPath, o);
    return parseBody(res, schema, o.what);
  }

  /** PUT with the edit in the query string and an empty body (§4.1); returns the (text) body. */
  async put(urlPath: string, o: RequestOptions): Promise<string> {
    const res = await this.request('PUT', urlPath, o);
    return res.body.toString('utf8');
  }

  async post(urlPath: string, o: RequestOptions): Promise<string> {
    const res = await this.request('POST', urlPath, o);
    return res.body.toString('utf8');
  }

  /** Closes idle keep-alive sockets. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent?.destroy();
  }
}

/**
 * Error bodies and some success bodies are HTML, XML or text whatever Accept says
 * (reference/plex-api.md §1 "JSON", §7): never JSON.parse blindly.
 */
export function parseBody<S extends z.ZodType>(res: RawResponse, schema: S, what: string): z.output<S> {
  const text = res.body.toString('utf8');
  const trimmed = text.trimStart();
  if (!trimmed) {
    throw new PlexError('invalid_response', `Plex sent an empty body while ${what}`, { status: res.status });
  }
  if (trimmed.startsWith('<')) {
    const kind = /^<(!doctype html|html)/i.test(trimmed) ? 'an HTML page' : 'XML';
    throw new PlexError(
      'invalid_response',
      `Plex sent ${kind} instead of JSON while ${what}: check that plex_url points at Plex itself, not a proxy or login page`,
      { status: res.status },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PlexError('invalid_response', `Plex sent malformed JSON (${res.body.length} bytes) while ${what}`, { status: res.status });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join('.')}: ${issue.message}` : 'unknown';
    throw new PlexError('invalid_response', `Plex sent JSON of an unexpected shape (${where}) while ${what}`, { status: res.status });
  }
  return parsed.data;
}
