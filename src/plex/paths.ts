/**
 * Stash → Plex path mapping and comparison, pure (reference/plex-api.md §3.3 "Path comparison rules").
 */
import { PlexError } from './errors';

export interface PathRule {
  stashPrefix: string;
  plexPrefix: string;
}
export type PathMap = readonly PathRule[];

/**
 * Parses `path_map`: `STASH_PREFIX=>PLEX_PREFIX; …`. Empty → no mapping (paths are the same on both sides).
 */
export function parsePathMap(s: string | undefined | null): PathRule[] {
  if (!s || !s.trim()) return [];
  const rules: PathRule[] = [];
  for (const raw of s.split(';')) {
    const pair = raw.trim();
    if (!pair) continue;
    const parts = pair.split('=>');
    const stash = parts[0]?.trim() ?? '';
    const plex = parts[1]?.trim() ?? '';
    if (parts.length !== 2 || !stash || !plex) {
      throw new PlexError(
        'bad_request',
        `path_map entry "${pair}" is not STASH_PREFIX=>PLEX_PREFIX: write pairs like /data/stash=>/media/stash, separated by ";"`,
      );
    }
    rules.push({ stashPrefix: stash, plexPrefix: plex });
  }
  return rules;
}

/**
 * One spelling for one file: `\\?\` and `\\?\UNC\` prefixes stripped (PMS reports them for long
 * Windows paths), separators as `/`, Unicode NFC, no duplicate or trailing separators.
 * With `caseInsensitive` (a Windows server) the result is lower-cased for comparison.
 */
export function normalizePath(p: string, caseInsensitive = false): string {
  let s = p.trim();
  if (s.startsWith('\\\\?\\UNC\\')) s = '\\\\' + s.slice(8);
  else if (s.startsWith('\\\\?\\')) s = s.slice(4);
  s = s.replace(/\\/g, '/').normalize('NFC');
  const unc = s.startsWith('//');
  s = s.replace(/\/{2,}/g, '/');
  if (unc) s = '/' + s;
  if (s.length > 1 && s.endsWith('/') && !/^[A-Za-z]:\/$/.test(s)) s = s.slice(0, -1);
  return caseInsensitive ? s.toLowerCase() : s;
}

/** The last path component, for the basename fallback. */
export function baseName(p: string): string {
  const n = normalizePath(p);
  const i = n.lastIndexOf('/');
  return i >= 0 ? n.slice(i + 1) : n;
}

/** The parent directory, keeping Windows separators for a Windows-style path (Plex wants its own form). */
export function dirName(p: string): string {
  const n = normalizePath(p);
  const i = n.lastIndexOf('/');
  const dir = i < 0 ? n : i === 0 ? '/' : n.slice(0, i);
  return isWindowsStyle(p) ? dir.replace(/\//g, '\\') : dir;
}

function startsWithDir(path: string, prefix: string): boolean {
  if (prefix === '/' || prefix === '') return path.startsWith('/');
  return path === prefix || path.startsWith(prefix + '/');
}

/** Looks like a Windows path (drive letter or UNC), so the Plex side wants backslashes. */
export function isWindowsStyle(p: string): boolean {
  return /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');
}

/**
 * Maps a Stash path to the Plex path: the longest matching Stash prefix wins (on whole path
 * components, so `/data/a` does not match `/data/ab`). Without a matching rule the path is
 * returned normalised. The result uses the separators of the Plex prefix.
 */
export function mapPath(stashPath: string, map: PathMap): string {
  const path = normalizePath(stashPath);
  let best: PathRule | undefined;
  let bestLen = -1;
  for (const rule of map) {
    const prefix = normalizePath(rule.stashPrefix);
    // Stash may run on Windows too: its prefixes match case-insensitively there.
    const hit = isWindowsStyle(rule.stashPrefix)
      ? startsWithDir(path.toLowerCase(), prefix.toLowerCase())
      : startsWithDir(path, prefix);
    if (hit && prefix.length > bestLen) {
      best = rule;
      bestLen = prefix.length;
    }
  }
  if (!best) return path;
  const rest = path.slice(bestLen === 1 ? 0 : bestLen).replace(/^\//, '');
  const plexPrefix = normalizePath(best.plexPrefix);
  const joined = rest ? (plexPrefix.endsWith('/') ? plexPrefix + rest : `${plexPrefix}/${rest}`) : plexPrefix;
  return isWindowsStyle(best.plexPrefix) ? joined.replace(/\//g, '\\') : joined;
}

/** Compares two paths as the Plex server would see them. */
export function samePath(a: string, b: string, caseInsensitive: boolean): boolean {
  return normalizePath(a, caseInsensitive) === normalizePath(b, caseInsensitive);
}

/** True when `dir` contains `path` (or is it), both as Plex sees them. */
export function isUnder(path: string, dir: string, caseInsensitive: boolean): boolean {
  return startsWithDir(normalizePath(path, caseInsensitive), normalizePath(dir, caseInsensitive));
}
