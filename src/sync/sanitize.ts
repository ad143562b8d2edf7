/*
 * Text cleaning before anything goes to Plex. Follows Stash2Plex's sanitiser where it protects
 * Plex (stash2plex-inventory.md §3.5: NFC, no control or invisible format characters, collapsed
 * whitespace, length limits cut at a word) and leaves out what loses the user's text:
 * - summaries keep their line breaks (Stash2Plex strips every Cc, newlines included);
 * - typographic quotes and dashes stay as they are (Plex stores UTF-8; converting them to ASCII
 *   would make Plex differ from Stash, the source of truth);
 * - ZWJ/ZWNJ stay: emoji sequences and several scripts need them;
 * - a lone surrogate becomes U+FFFD, since it cannot be percent-encoded into the edit URL at all
 *   (plex-api.md §4.1: every value travels in the query string).
 */

/** Stash2Plex's limits (§3.5); Plex itself documents none (plex-api.md §4.3). */
export const LIMITS = Object.freeze({
  title: 255,
  studio: 255,
  tagline: 255,
  tagName: 255,
  contentRating: 64,
  summary: 10_000,
  performers: 50,
  tags: 100,
  collections: 20,
});

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// Format characters (zero-width space, BOM, bidi marks, soft hyphen …) except ZWNJ and ZWJ.
const FORMAT_CHARS = /(?![\u200C\u200D])\p{Cf}/gu;
const CONTROL_CHARS = /\p{Cc}/gu;

// Printable ASCII and ordinary whitespace: nothing to replace, strip or normalise (the common case).
const PLAIN = /^[\x20-\x7E\t\n\r]*$/;

function base(value: string): string {
  if (PLAIN.test(value)) return value;
  return value.replace(LONE_SURROGATE, '\uFFFD').normalize('NFC').replace(FORMAT_CHARS, '');
}

/** A one-line value: controls and runs of whitespace become one space; trimmed; at most `max` characters. */
export function cleanLine(value: string | null | undefined, max: number): string {
  if (!value) return '';
  const s = base(value).replace(CONTROL_CHARS, ' ').replace(/\s+/gu, ' ').trim();
  return truncate(s, max);
}

/** Multi-line text: line breaks kept (at most one blank line in a row), other controls removed. */
export function cleanText(value: string | null | undefined, max: number): string {
  if (!value) return '';
  const s = base(value)
    .replace(/\r\n?/g, '\n')
    .replace(/[^\S\n]+/gu, ' ') // tabs and other spaces, not newlines
    .replace(/(?!\n)\p{Cc}/gu, '')
    .split('\n')
    .map((line) => line.trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return truncate(s, max);
}

/**
 * At most `max` characters (code points, so a surrogate pair is never split), ending in "…" when
 * cut; the cut moves back to a word break when one lies in the last 20 %.
 */
export function truncate(value: string, max: number): string {
  if (value.length <= max) return value; // UTF-16 length ≥ code points
  const chars = Array.from(value);
  if (chars.length <= max) return value;
  if (max <= 1) return chars.slice(0, max).join('');
  let cut = chars.slice(0, max - 1).join('');
  const space = cut.search(/\s\S*$/u);
  if (space >= 0 && Array.from(cut.slice(0, space)).length >= 0.8 * max) cut = cut.slice(0, space);
  return `${cut.trimEnd()}…`;
}

/**
 * Cleans a list of names: empties dropped, duplicates (ignoring case, after cleaning) dropped
 * keeping the first, at most `maxItems`, order kept.
 */
export function cleanNames(names: readonly (string | null | undefined)[], maxItems: number, maxLength: number = LIMITS.tagName): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const name of names) {
    if (out.length >= maxItems) break;
    const clean = cleanLine(name, maxLength);
    const key = clean.toLowerCase();
    if (!clean || seen.has(key)) continue;
    seen.add(key);
    out.push(clean);
  }
  return out;
}
