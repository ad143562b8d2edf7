/**
 * Writing the desired state onto Plex items: read, diff, one PUT, read back and verify
 * (reference/plex-api.md §4, §5). The batch form shares the reads: one GET of every item
 * before and one after, so a changed scene costs about one request plus images.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { PlexClient } from './client';
import type { DesiredItem, ImageSource } from './desired';
import {
  currentFromJson,
  desiredForType,
  editQuery,
  needsEdit,
  planEdit,
  type EditPlan,
} from './diff';
import { PlexError, isPlexError } from './errors';
import { buildQuery } from './query';
import { metadataResponse, type PlexItemJson } from './schema';
import { SEARCH_TYPE, type ItemType } from './sections';

export interface PlexItemRef {
  ratingKey: string;
  sectionId: string;
  type: ItemType;
  /** The Plex-side file the item was found by. */
  file: string;
}

export interface ApplyOptions {
  fillEmptyOnly?: boolean;
  /** sha256 of the poster last uploaded for this item; equal → no upload. */
  lastPosterSha256?: string;
  lastArtSha256?: string;
  /**
   * The items those images went to. An item not among them (Plex deleted and re-added the file under a new
   * ratingKey, or a second library holds it) shows Plex's own images, so it gets ours again.
   */
  imagesOnItems?: readonly string[];
}

export interface ApplyEntry {
  ref: PlexItemRef;
  desired: DesiredItem;
  opts?: ApplyOptions;
}

export interface ApplyResult {
  /** The item written: differs from the ref's when the item was re-keyed and found again by its file. */
  ref: PlexItemRef;
  changedFields: string[];
  /** Requests this entry sent, counting each shared batch read once. */
  requests: number;
  /** sha256 of the poster now on the item (uploaded now, or unchanged from lastPosterSha256). */
  posterSha256?: string;
  artSha256?: string;
  warnings: string[];
}

export interface WriterOptions {
  /** Finds the item again by its file after a 404 (the service re-validates its index). */
  relocate?: (ref: PlexItemRef) => Promise<PlexItemRef>;
  /** Above this URL length the summary goes in its own PUT (§4.1 "Long summaries"). Default 7000. */
  maxUrlBytes?: number;
}

/** Plex rejects images over 10 MB with a 500 (§5). */
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
/** Keys per batch read: keeps the URL short. */
const READ_CHUNK = 50;

interface Work {
  entry: ApplyEntry;
  ref: PlexItemRef;
  result?: ApplyResult;
  error?: PlexError;
  sent: EditPlan | undefined;
  requests: number;
}

export class PlexWriter {
  private readonly maxUrlBytes: number;
  constructor(
    private readonly client: PlexClient,
    private readonly options: WriterOptions = {},
  ) {
    this.maxUrlBytes = options.maxUrlBytes ?? 7000;
  }

  async applyDesired(ref: PlexItemRef, desired: DesiredItem, opts: ApplyOptions = {}): Promise<ApplyResult> {
    const [r] = await this.applyDesiredBatch([{ ref, desired, opts }]);
    if (!r) throw new PlexError('invalid_response', 'internal: no result for the item');
    if (r instanceof PlexError) throw r;
    return r;
  }

  /**
   * Per-entry results: one item's failure never fails the others. The entries are split into
   * lanes (of at least 8), each reading, writing and verifying on its own. There are twice as many
   * lanes as connections: while one lane parses its batch GET or plans its edits, the others keep
   * both connections busy (the client's agent still puts only maxInFlight on the wire).
   */
  async applyDesiredBatch(entries: readonly ApplyEntry[]): Promise<(ApplyResult | PlexError)[]> {
    const lanes = Math.max(1, Math.min(2 * this.client.maxInFlight, Math.floor(entries.length / 8) || 1));
    if (lanes === 1) return this.applyLane(entries);
    const size = Math.ceil(entries.length / lanes);
    const parts: ApplyEntry[][] = [];
    for (let i = 0; i < entries.length; i += size) parts.push(entries.slice(i, i + size));
    return (await Promise.all(parts.map((p) => this.applyLane(p)))).flat();
  }

  private async applyLane(entries: readonly ApplyEntry[]): Promise<(ApplyResult | PlexError)[]> {
    const work: Work[] = entries.map((entry) => ({ entry, ref: entry.ref, sent: undefined, requests: 0 }));
    const items = await this.readAll(work);

    // Items that vanished: re-validate by file once (§7 "404 on item: re-resolve once").
    const moved = work.filter((w) => !w.error && !items.has(w.ref.ratingKey));
    if (moved.length) {
      await Promise.all(
        moved.map(async (w) => {
          try {
            if (!this.options.relocate) throw this.gone(w.ref);
            w.ref = await this.options.relocate(w.ref);
          } catch (e) {
            w.error = toPlexError(e);
          }
        }),
      );
      const again = await this.readAll(moved.filter((w) => !w.error));
      for (const [k, v] of again) items.set(k, v);
      for (const w of moved) if (!w.error && !items.has(w.ref.ratingKey)) w.error = this.gone(w.ref);
    }

    const writes: Promise<void>[] = [];
    for (const w of work) {
      const item = items.get(w.ref.ratingKey);
      if (w.error || !item) continue;
      writes.push(
        this.writeOne(w, item).catch((e: unknown) => {
          w.error = toPlexError(e);
        }),
      );
      // One item planned per turn of the event loop: answers and queued requests go out in between,
      // instead of the connections idling while a whole lane's edits are planned.
      await nextTurn();
    }
    await Promise.all(writes);

    const toVerify = work.filter((w) => !w.error && w.sent);
    if (toVerify.length) {
      const after = await this.readAll(toVerify);
      for (const w of toVerify) {
        const item = after.get(w.ref.ratingKey);
        if (!item) {
          if (!w.error) w.error = this.gone(w.ref);
          continue;
        }
        const lost = lostFields(w, item);
        if (lost.length) {
          w.error = new PlexError(
            'lost_write',
            `Plex accepted the edit of item ${w.ref.ratingKey} but does not show it (${lost.join(', ')}); it will be retried`,
          );
        }
      }
    }
    for (const w of work) if (w.result) w.result.requests = w.requests;
    return work.map((w) => w.error ?? w.result ?? this.gone(w.ref));
  }

  private gone(ref: PlexItemRef): PlexError {
    return new PlexError('not_found', `Plex item ${ref.ratingKey} for ${ref.file} no longer exists`, { plexPath: ref.file });
  }

  /**
   * One GET per chunk of ratingKeys (§3.1: comma-separated keys). A 404 on a multi-key read
   * falls back to single reads, so one vanished item does not hide the others.
   */
  private async readAll(work: Work[]): Promise<Map<string, PlexItemJson>> {
    const out = new Map<string, PlexItemJson>();
    const keys = [...new Set(work.map((w) => w.ref.ratingKey))];
    for (let i = 0; i < keys.length; i += READ_CHUNK) {
      const chunk = keys.slice(i, i + READ_CHUNK);
      const members = work.filter((w) => chunk.includes(w.ref.ratingKey));
      try {
        for (const it of await this.read(chunk, members)) out.set(it.ratingKey, it);
      } catch (e) {
        const err = toPlexError(e);
        if (err.kind === 'not_found' && chunk.length > 1) {
          for (const k of chunk) {
            try {
              for (const it of await this.read([k], members.filter((w) => w.ref.ratingKey === k))) out.set(it.ratingKey, it);
            } catch (e2) {
              const err2 = toPlexError(e2);
              if (err2.kind !== 'not_found') for (const w of members) if (w.ref.ratingKey === k) w.error = err2;
            }
          }
        } else if (err.kind !== 'not_found') {
          for (const w of members) w.error = err;
        }
      }
    }
    return out;
  }

  private async read(keys: string[], members: Work[]): Promise<PlexItemJson[]> {
    for (const w of members) w.requests++;
    const res = await this.client.getJson(`/library/metadata/${keys.map(encodeURIComponent).join(',')}`, metadataResponse, {
      what: keys.length === 1 ? `reading Plex item ${keys[0]}` : `reading ${keys.length} Plex items`,
    });
    return res.Metadata.map((m) => (m.librarySectionID === undefined && res.librarySectionID !== undefined ? { ...m, librarySectionID: res.librarySectionID } : m));
  }

  private async writeOne(w: Work, item: PlexItemJson): Promise<void> {
    const opts = w.entry.opts ?? {};
    const current = currentFromJson(item);
    const sectionId = item.librarySectionID ?? w.ref.sectionId;
    const ref: PlexItemRef = { ...w.ref, sectionId, type: current.type };
    w.ref = ref;
    const plan = planEdit(current, w.entry.desired, opts);
    const result: ApplyResult = { ref, changedFields: [...plan.changedFields], requests: 0, warnings: [...plan.warnings] };

    const sameItem = opts.imagesOnItems === undefined || opts.imagesOnItems.includes(ref.ratingKey);
    const poster = await this.image(w, 'poster', w.entry.desired.poster, sameItem ? opts.lastPosterSha256 : undefined, result);
    if (poster !== undefined) result.posterSha256 = poster;
    const art = await this.image(w, 'art', w.entry.desired.art, sameItem ? opts.lastArtSha256 : undefined, result);
    if (art !== undefined) result.artSha256 = art;
    // Lock the image fields we just set, so a refresh cannot replace them (§5).
    if (result.changedFields.includes('poster') && !current.locks.has('thumb')) plan.locks.push('thumb');
    if (result.changedFields.includes('art') && !current.locks.has('art')) plan.locks.push('art');

    if (needsEdit(plan)) {
      const searchType = SEARCH_TYPE[current.type];
      const path = `/library/sections/${encodeURIComponent(sectionId)}/all`;
      let q = editQuery(plan, ref.ratingKey, searchType);
      const summary = plan.values.find((v) => v.field === 'summary');
      if (summary && this.client.baseUrl.length + path.length + 1 + buildQuery(q).length > this.maxUrlBytes) {
        // Everything travels in the URL; a long summary goes alone so the rest is not at risk (§4.1).
        q = editQuery({ ...plan, values: plan.values.filter((v) => v !== summary) }, ref.ratingKey, searchType);
        await this.put(w, path, q, ref);
        await this.put(w, path, editQuery({ values: [summary], tags: [], locks: [] }, ref.ratingKey, searchType), ref);
      } else {
        await this.put(w, path, q, ref);
      }
      w.sent = plan;
    }
    if (plan.userRating !== undefined) {
      w.requests++;
      await this.client.put('/:/rate', {
        what: `rating Plex item ${ref.ratingKey}`,
        query: [
          ['key', ref.ratingKey],
          ['identifier', 'com.plexapp.plugins.library'],
          ['rating', plan.userRating === null ? '-1' : String(plan.userRating)],
        ],
      });
      w.sent ??= { ...plan, values: [], tags: [], locks: [] };
    }
    w.result = result;
  }

  private async put(w: Work, path: string, q: [string, string][], ref: PlexItemRef): Promise<void> {
    w.requests++;
    await this.client.put(path, { what: `editing Plex item ${ref.ratingKey}`, query: q });
  }

  /** Uploads the image bytes when their hash differs from the last upload; failures stay with the field. */
  private async image(
    w: Work,
    field: 'poster' | 'art',
    src: ImageSource | undefined,
    last: string | undefined,
    result: ApplyResult,
  ): Promise<string | undefined> {
    if (!src) return last;
    if (src.sha256 === last) return last;
    if (src.bytes.length > MAX_IMAGE_BYTES) {
      const mb = (src.bytes.length / 1024 / 1024).toFixed(1);
      result.warnings.push(`${field} is ${mb} MB, over Plex's 10 MB limit: not uploaded; use a smaller image`);
      return last;
    }
    try {
      w.requests++;
      await this.client.post(`/library/metadata/${encodeURIComponent(w.ref.ratingKey)}/${field === 'poster' ? 'posters' : 'arts'}`, {
        what: `uploading the ${field} of Plex item ${w.ref.ratingKey}`,
        body: src.bytes,
        contentType: src.contentType || 'application/octet-stream',
      });
    } catch (e) {
      const err = toPlexError(e);
      // A refused image is that field's problem; an unreachable or unauthorised server is everyone's.
      if (err.kind === 'server' || err.kind === 'bad_request') {
        result.warnings.push(`${field} upload failed: ${err.message}`);
        return last;
      }
      throw err;
    }
    result.changedFields.push(field);
    return src.sha256;
  }
}

/** Fields that were sent but do not show on the re-read item. */
function lostFields(w: Work, item: PlexItemJson): string[] {
  const sent = w.sent;
  if (!sent) return [];
  const current = currentFromJson(item);
  const desired = desiredForType(w.entry.desired, current.type);
  const onlySent: DesiredItem = { scalars: {}, tags: {} };
  for (const v of sent.values) onlySent.scalars[v.field] = desired.scalars[v.field] ?? null;
  for (const t of sent.tags) onlySent.tags[t.field] = t.set;
  if (sent.userRating !== undefined) onlySent.userRating = sent.userRating;
  const again = planEdit(current, onlySent, {});
  const lost = [...again.changedFields];
  for (const l of sent.locks) if (!current.locks.has(l)) lost.push(`${l} lock`);
  for (const l of again.locks) if (!lost.includes(`${l} lock`)) lost.push(`${l} lock`);
  return lost;
}

function toPlexError(e: unknown): PlexError {
  if (isPlexError(e)) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new PlexError('invalid_response', `unexpected failure talking to Plex: ${msg}`);
}
