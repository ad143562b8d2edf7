/**
 * The path index's file (plex-index.json): one JSON object, items as compact tuples, written whole,
 * durably (a lost index costs a full walk of every library) and streamed in chunks (one
 * JSON.stringify of 100k items would briefly cost tens of MB). A file of another format version, or
 * built for the other path case rule, is ignored: the index is rebuilt.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../atomic-write';
import type { IndexEntry, Rec } from './path-index';

const FORMAT_VERSION = 1;

type SectionState = Record<string, { maxAddedAt: number; builtAt: number }>;
/** [ratingKey, sectionId, type (1 movie, 4 episode), addedAt, [[file, size or null], ...]] */
type StoredEntry = [string, string, 1 | 4, number, [string, number | null][]];
interface StoredIndex {
  v: number;
  ci: boolean;
  sections: SectionState;
  items: StoredEntry[];
}

/**
 * Hands the stored sections, then each stored entry, to `into` (one at a time: no second copy of a
 * large index). False when the file is missing, corrupt or not for this case rule (`into` may have
 * been called before corruption was found: the caller then starts afresh).
 */
export async function readIndexFile(
  file: string,
  caseInsensitive: boolean,
  into: { sections(s: SectionState): void; put(entry: IndexEntry): void },
): Promise<boolean> {
  let raw: string;
  try {
    raw = await fs.readFile(file, 'utf8');
  } catch {
    return false;
  }
  try {
    const stored = JSON.parse(raw) as StoredIndex;
    if (stored.v !== FORMAT_VERSION || stored.ci !== caseInsensitive || !Array.isArray(stored.items)) return false;
    into.sections(stored.sections ?? {});
    for (const [ratingKey, sectionId, t, addedAt, files] of stored.items) {
      into.put({
        ratingKey,
        sectionId,
        type: t === 4 ? 'episode' : 'movie',
        addedAt,
        files: files.map(([f, size]) => (size === null ? { file: f } : { file: f, size })),
      });
    }
    return true;
  } catch {
    return false;
  }
}

export async function writeIndexFile(file: string, caseInsensitive: boolean, sections: SectionState, recs: Iterable<Rec>): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(
    file,
    async (fh) => {
      const head = JSON.stringify({ v: FORMAT_VERSION, ci: caseInsensitive, sections });
      await fh.write(`${head.slice(0, -1)},"items":[`);
      let chunk: StoredEntry[] = [];
      let first = true;
      const flush = async () => {
        if (!chunk.length) return;
        const text = JSON.stringify(chunk).slice(1, -1);
        await fh.write(first ? text : `,${text}`);
        first = false;
        chunk = [];
      };
      for (const r of recs) {
        chunk.push([r.rk, r.sid, r.t, r.added, r.files().map((f) => [f.file, f.size ?? null])]);
        if (chunk.length >= 2000) await flush();
      }
      await flush();
      await fh.write(']}');
    },
    { durable: true },
  );
}
