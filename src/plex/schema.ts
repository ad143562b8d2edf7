import { z } from 'zod';

/**
 * Zod schemas for the Plex JSON we read. Plex omits empty arrays (reference/plex-api.md §1
 * "Quirks of JSON responses"), so every list defaults to []; ratingKey may arrive as a number
 * and booleans as 0/1/"1", so both are coerced. Unknown keys are dropped.
 */
const list = <T extends z.ZodType>(item: T) =>
  z
    .array(item)
    .nullish()
    .transform((v) => (v ?? []) as z.infer<T>[]);

// Union members are ordered by what Plex sends, so the first one usually matches: a failed
// member costs an issue object, which made these reads several times slower.
const key = z.union([z.string(), z.number()]).transform((v) => String(v));
/** librarySectionID arrives as a number. */
const numericKey = z.union([z.number(), z.string()]).transform((v) => String(v));
const num = z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/)]).transform((v) => Number(v));
const bool = z
  .union([z.boolean(), z.number(), z.string()])
  .transform((v) => v === true || v === 1 || v === '1' || v === 'true');
const text = z.union([z.string(), z.number()]).transform((v) => String(v));

export const tagSchema = z.object({
  tag: text,
  id: num.optional(),
  role: z.string().optional(),
  thumb: z.string().optional(),
});

export const partSchema = z.object({
  id: num.optional(),
  file: z.string(),
  size: num.optional(),
});

export const mediaSchema = z.object({
  id: num.optional(),
  Part: list(partSchema),
});

export const fieldSchema = z.object({ name: z.string(), locked: bool.optional() });

export const itemSchema = z.object({
  ratingKey: key,
  type: z.string(),
  title: text.optional(),
  titleSort: text.optional(),
  originalTitle: text.optional(),
  summary: text.optional(),
  tagline: text.optional(),
  studio: text.optional(),
  contentRating: text.optional(),
  originallyAvailableAt: text.optional(),
  year: num.optional(),
  userRating: num.optional(),
  addedAt: num.optional(),
  updatedAt: num.optional(),
  librarySectionID: numericKey.optional(),
  thumb: z.string().optional(),
  art: z.string().optional(),
  Media: list(mediaSchema),
  Genre: list(tagSchema),
  Label: list(tagSchema),
  Collection: list(tagSchema),
  Director: list(tagSchema),
  Role: list(tagSchema),
  Field: list(fieldSchema),
});
export type PlexItemJson = z.infer<typeof itemSchema>;

/**
 * A listing item: only what the path index keeps (reference/plex-api.md §3.1 "Listing").
 * Kept to plain checks without unions or transforms: a 100k-item library is 100 pages of
 * 1000 and this schema is the hot path (about 5× faster than the tolerant form above).
 * Plex sends ratingKey as a string and addedAt/size as numbers (§1); arrays may be absent.
 */
export const listItemSchema = z.object({
  ratingKey: z.string(),
  type: z.string(),
  addedAt: z.number().optional(),
  Media: z
    .array(z.object({ Part: z.array(z.object({ file: z.string(), size: z.number().optional() })).nullish() }))
    .nullish(),
});
export type PlexListItemJson = z.infer<typeof listItemSchema>;

/** Every response is `{ MediaContainer: {...} }`; the schemas unwrap it. */
function container<T extends z.ZodType>(inner: T) {
  return z.object({ MediaContainer: inner }).transform((v) => (v as { MediaContainer: z.output<T> }).MediaContainer);
}

export const metadataResponse = container(z.object({
  librarySectionID: numericKey.optional(),
  Metadata: list(itemSchema),
}));

export const listResponse = container(z.object({
  size: num.optional(),
  totalSize: num.optional(),
  offset: num.optional(),
  librarySectionID: numericKey.optional(),
  Metadata: z.array(listItemSchema).nullish(),
}));

export const sectionSchema = z.object({
  key: key,
  title: text,
  type: z.string(),
  agent: z.string().optional(),
  scanner: z.string().optional(),
  refreshing: bool.optional(),
  Location: list(z.object({ id: num.optional(), path: z.string() })),
});
export type PlexSectionJson = z.infer<typeof sectionSchema>;

export const sectionsResponse = container(z.object({ Directory: list(sectionSchema) }));

export const rootResponse = container(z.object({
  friendlyName: text.optional(),
  machineIdentifier: text.optional(),
  version: text.optional(),
  platform: text.optional(),
  platformVersion: text.optional(),
}));

export const identityResponse = container(z.object({
  machineIdentifier: text.optional(),
  version: text.optional(),
  claimed: bool.optional(),
}));
