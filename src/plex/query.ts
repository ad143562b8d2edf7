/**
 * Plex query-string encoding, pure. Edits travel entirely in the query string
 * (reference/plex-api.md §4.1), so the encoding is part of the contract:
 * values are percent-encoded like Python's quote(safe='') — `+` must be %2B because PMS
 * decodes `+` as a space — and tag removals are double-encoded (§4.3).
 */
export type QueryPairs = ReadonlyArray<readonly [string, string]>;

/** encodeURIComponent plus the five characters it leaves raw, so only [A-Za-z0-9._~-] stay literal. */
export function encodeValue(v: string): string {
  return encodeURIComponent(v).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/** Keys keep their brackets raw, as plexapi sends them (§4.1); anything else unusual is encoded. */
export function encodeKey(k: string): string {
  return k.replace(/[^A-Za-z0-9._~\-[\]]/g, (c) => encodeValue(c));
}

export function buildQuery(pairs: QueryPairs): string {
  return pairs.map(([k, v]) => `${encodeKey(k)}=${encodeValue(v)}`).join('&');
}

/**
 * The value of `<tag>[].tag.tag-`: each name encoded, joined with literal commas; buildQuery then
 * encodes the whole again. PMS splits on commas before decoding each name, so names containing
 * commas survive (§4.3, plexapi's live test tag `Test Tag !@#$%^&*()-_=+[];:'"/?,.`).
 */
export function tagRemovalValue(names: readonly string[]): string {
  return names.map(encodeValue).join(',');
}
