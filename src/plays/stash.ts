import { z } from 'zod';
import { StashError, type StashClient } from '../stash/graphql';

/**
 * The Stash side of plays: read a scene's play history and resume point, add one play, save a resume
 * point. Every text is validated against Stash's schema by test/plays/stash.test.ts
 * (reference/stash-graphql-schema: Scene.play_history: [Time!]!, sceneAddPlay(id, times: [Timestamp!]),
 * sceneSaveActivity(id, resume_time, playDuration)). None of these mutations fires a plugin hook in Stash
 * (reference/stash-plugin-protocol.md §4.2), so a play written here cannot start a Stash→Plex sync.
 */

export const SCENE_PLAYS_QUERY = `query PlexCourierScenePlays($ids: [ID!]) {
  findScenes(ids: $ids, filter: { per_page: -1 }) { scenes { id play_history resume_time } }
}`;

// Not idempotent: every call adds `times` to the scene's play history (hence the journal).
export const ADD_PLAY_MUTATION = `mutation PlexCourierAddPlay($id: ID!, $times: [Timestamp!]) {
  sceneAddPlay(id: $id, times: $times) { count history }
}`;

// Without playDuration, which Stash would ADD to the scene's total: only the resume point is set.
export const SAVE_RESUME_MUTATION = `mutation PlexCourierSaveResume($id: ID!, $resume_time: Float) {
  sceneSaveActivity(id: $id, resume_time: $resume_time)
}`;

export const PLAYS_QUERIES = { SCENE_PLAYS_QUERY, ADD_PLAY_MUTATION, SAVE_RESUME_MUTATION } as const;

const scenePlaysSchema = z.object({
  findScenes: z.object({
    scenes: z.array(z.object({ id: z.string(), play_history: z.array(z.string()).nullish(), resume_time: z.number().nullish() })),
  }),
});

export interface ScenePlays {
  /** Play times in epoch seconds. */
  playTimes: number[];
  resumeTime: number | null;
}

/** Stash takes RFC 3339; whole seconds, as Plex's viewedAt is. */
export function stashTime(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Stash answers Time in its own zone (`…+02:00`); compared as epoch seconds. */
export function epochSeconds(time: string): number | undefined {
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

function parse<S extends z.ZodType>(schema: S, data: unknown, what: string): z.output<S> {
  const r = schema.safeParse(data);
  if (!r.success) throw new StashError('invalid_response', `Stash returned ${what} in an unexpected shape`);
  return r.data;
}

/** Play history and resume point of these scenes; a scene Stash no longer has is missing from the map. */
export async function scenePlays(client: StashClient, ids: readonly string[]): Promise<Map<string, ScenePlays>> {
  const out = new Map<string, ScenePlays>();
  if (ids.length === 0) return out;
  const scenes = await client.requestKnownScenes(
    ids,
    async (known) => parse(scenePlaysSchema, await client.request(SCENE_PLAYS_QUERY, { ids: known }), 'the play history of scenes').findScenes.scenes,
    [],
  );
  for (const s of scenes) {
    out.set(s.id, {
      playTimes: (s.play_history ?? []).map(epochSeconds).filter((t): t is number => t !== undefined),
      resumeTime: s.resume_time ?? null,
    });
  }
  return out;
}

/** Adds one play at `viewedAt` (epoch s) to the scene. */
export async function addPlay(client: StashClient, sceneId: string, viewedAt: number): Promise<void> {
  const data = await client.request(ADD_PLAY_MUTATION, { id: sceneId, times: [stashTime(viewedAt)] });
  parse(z.object({ sceneAddPlay: z.object({ count: z.number() }) }), data, `the play added to scene ${sceneId}`);
}

/** Sets the scene's resume point in seconds (0: start from the beginning). */
export async function saveResume(client: StashClient, sceneId: string, seconds: number): Promise<void> {
  await client.request(SAVE_RESUME_MUTATION, { id: sceneId, resume_time: seconds });
}
