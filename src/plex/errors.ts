/**
 * Plex failures as typed values the worker can act on (reference/plex-api.md §7).
 * Every message is one line a user can act on and never contains the token.
 */
export type PlexErrorKind =
  | 'unreachable' // refused, reset, DNS, TLS: Plex restarting or misconfigured URL
  | 'timeout' // no connection or no answer within the client's connect or read timeout
  | 'server' // 5xx, including the 503 "Maintenance" of a database migration
  | 'unauthorized' // 401: the token is wrong
  | 'rate_limited' // 429 from a reverse proxy in front of Plex
  | 'not_found' // the file is not in Plex yet, or the item vanished
  | 'bad_request' // 400/409 or a configuration error
  | 'ambiguous' // several candidate items for one file: never pick the first
  | 'lost_write' // Plex answered 200 but the read-back does not show the edit
  | 'invalid_response' // HTML/XML/empty/garbled body where JSON was expected
  | 'too_large'; // an image over Plex's 10 MB limit

// What each kind means for a job (retry, breaker, pause) is decided in one table: src/sync/errors.ts.

export interface PlexErrorDetails {
  status?: number;
  retryAfterMs?: number;
  /** The Plex-side path that was looked up (not_found, ambiguous). */
  plexPath?: string;
  /** Candidate items, for `ambiguous`. */
  candidates?: { ratingKey: string; sectionId: string; file: string }[];
  /** The field an image error concerns ('poster' | 'art'). */
  field?: string;
}

export class PlexError extends Error {
  readonly kind: PlexErrorKind;
  readonly retryAfterMs?: number;
  readonly status?: number;
  readonly details: PlexErrorDetails;

  constructor(kind: PlexErrorKind, message: string, details: PlexErrorDetails = {}) {
    // One line: a multi-line message would break Stash's log lines.
    super(message.replace(/\s*[\r\n]+\s*/g, ' '));
    this.name = 'PlexError';
    this.kind = kind;
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
    if (details.status !== undefined) this.status = details.status;
    this.details = details;
  }
}

export function isPlexError(e: unknown): e is PlexError {
  return e instanceof PlexError;
}

/** `Retry-After` is seconds or an HTTP date; anything else is ignored. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/**
 * Maps an HTTP status to an error. `what` names the request in the user's terms
 * ("reading item 123"); it must already be free of the token (it never holds a URL query).
 */
export function errorForStatus(
  status: number,
  what: string,
  retryAfterHeader?: string,
): PlexError {
  if (status === 401 || status === 403) {
    return new PlexError(
      'unauthorized',
      `Plex rejected the token (HTTP ${status}) while ${what}: check plex_token in the PlexCourier settings`,
      { status },
    );
  }
  if (status === 404) {
    return new PlexError('not_found', `Plex has no such item (HTTP 404) while ${what}`, { status });
  }
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(retryAfterHeader);
    const details: PlexErrorDetails = { status };
    if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs;
    return new PlexError('rate_limited', `Plex (or a proxy in front of it) is rate limiting (HTTP 429) while ${what}`, details);
  }
  if (status === 414) {
    return new PlexError('bad_request', `Plex refused an over-long request URL (HTTP 414) while ${what}`, { status });
  }
  if (status >= 500) {
    const retryAfterMs = parseRetryAfter(retryAfterHeader);
    const details: PlexErrorDetails = { status };
    if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs;
    const hint = status === 503 ? ' (Plex may be starting up or migrating its database)' : '';
    return new PlexError('server', `Plex server error (HTTP ${status}) while ${what}${hint}`, details);
  }
  return new PlexError('bad_request', `Plex refused the request (HTTP ${status}) while ${what}`, { status });
}

/** Node error codes (and the client's own) that mean a timeout rather than a refusal. */
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ECONNABORTED', 'PLEX_CONNECT_TIMEOUT', 'PLEX_READ_TIMEOUT']);

/** Network-level failures (no HTTP status) by Node error code. */
export function errorForNetwork(code: string | undefined, what: string, url: string): PlexError {
  const c = code ?? 'unknown';
  const tls = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|EPROTO/.test(c);
  if (tls) {
    const host = safeHost(url);
    const hint = /\.plex\.direct$/i.test(host)
      ? 'plex.direct certificates are valid only for the full https://<ip-with-dashes>.<hash>.plex.direct:32400 URL; copy it exactly from Plex'
      : /^\d+\.\d+\.\d+\.\d+$/.test(host)
        ? 'Plex certificates name *.plex.direct, not an IP: use the https://<ip-with-dashes>.<hash>.plex.direct:32400 URL, http:// on the LAN, a CA file, or the tlsInsecure option'
        : 'use a CA file (caFile) for a self-signed certificate, or the tlsInsecure option';
    return new PlexError('unreachable', `TLS verification of ${host} failed (${c}) while ${what}: ${hint}`);
  }
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused (is Plex running, and is plex_url right?)',
    ECONNRESET: 'connection reset by Plex',
    ENOTFOUND: 'host name not found (check plex_url)',
    EAI_AGAIN: 'DNS lookup failed temporarily',
    ETIMEDOUT: 'timed out',
    ECONNABORTED: 'timed out',
    PLEX_CONNECT_TIMEOUT: 'connect timeout (is the host reachable?)',
    PLEX_READ_TIMEOUT: 'read timeout (Plex is busy or hung)',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    EPIPE: 'connection closed by Plex',
    ERR_BAD_RESPONSE: 'malformed response',
  };
  return new PlexError(TIMEOUT_CODES.has(c) ? 'timeout' : 'unreachable', `Plex at ${safeHost(url)} unreachable: ${words[c] ?? c} while ${what}`);
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'the configured plex_url';
  }
}
