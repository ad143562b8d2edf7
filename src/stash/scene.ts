import { z } from 'zod';

/**
 * The scene as the sync pipeline sees it: exactly the fields `SCENE_FIELDS` asks Stash for.
 * Field names follow reference/stash-graphql-schema/types/scene.graphql; GraphQL omits
 * nothing, but lists may be empty and scalars null.
 */
export const SCENE_FIELDS = `
  id title code details director urls date rating100 organized created_at updated_at
  studio { id name parent_studio { id name } }
  performers { id name disambiguation }
  tags { id name }
  groups { group { id name } scene_index }
  files { id path basename size duration }
  paths { screenshot }
  stash_ids { endpoint stash_id }
`;

const named = z.object({ id: z.string(), name: z.string() });

export const stashSceneSchema = z.object({
  id: z.string(),
  title: z.string().nullish(),
  code: z.string().nullish(),
  details: z.string().nullish(),
  director: z.string().nullish(),
  urls: z.array(z.string()).nullish().transform((v) => v ?? []),
  date: z.string().nullish(),
  rating100: z.number().int().nullish(),
  organized: z.boolean().nullish().transform((v) => v ?? false),
  created_at: z.string(),
  updated_at: z.string(),
  studio: named.extend({ parent_studio: named.nullish() }).nullish(),
  performers: z.array(named.extend({ disambiguation: z.string().nullish() })).nullish().transform((v) => v ?? []),
  tags: z.array(named).nullish().transform((v) => v ?? []),
  groups: z
    .array(z.object({ group: named, scene_index: z.number().int().nullish() }))
    .nullish()
    .transform((v) => v ?? []),
  files: z
    .array(z.object({ id: z.string(), path: z.string(), basename: z.string(), size: z.number(), duration: z.number().nullish() }))
    .nullish()
    .transform((v) => v ?? []),
  paths: z.object({ screenshot: z.string().nullish() }).nullish(),
  stash_ids: z.array(z.object({ endpoint: z.string(), stash_id: z.string() })).nullish().transform((v) => v ?? []),
});

export type StashScene = z.infer<typeof stashSceneSchema>;
