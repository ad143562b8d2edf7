import { createHash } from 'node:crypto';
import type { StashScene } from '../stash/scene';
import type { Entity } from './events';

const LETTER: Record<Entity, string> = { tag: 't', performer: 'p', studio: 's', group: 'g' };

/**
 * The entities a scene's Plex item shows, compact (`t12 t40 p3 s4 s1 g7`): kept in its sync record so a
 * deletion can be traced to the scenes it touches after Stash has forgotten them. The parent studio
 * is listed too: its name can show on the item (studio 'parent', parent collections).
 */
export function linksOf(scene: StashScene): string {
  const out: string[] = [];
  for (const t of scene.tags) out.push(`t${t.id}`);
  for (const p of scene.performers) out.push(`p${p.id}`);
  if (scene.studio) out.push(`s${scene.studio.id}`);
  if (scene.studio?.parent_studio) out.push(`s${scene.studio.parent_studio.id}`);
  for (const g of scene.groups) out.push(`g${g.group.id}`);
  return [...new Set(out)].join(' ');
}

/** The link token of one entity, as `linksOf` writes it. */
export function linkOf(entity: Entity, id: string): string {
  return `${LETTER[entity]}${id}`;
}

/** Whether a record's links name any of `tokens`. */
export function linksAny(links: string | undefined, tokens: ReadonlySet<string>): boolean {
  if (!links) return false;
  for (const t of links.split(' ')) if (tokens.has(t)) return true;
  return false;
}

/**
 * A digest of the scene's file paths (order-free). A scene's metadata goes to every file's item, so a
 * file that arrives (a scene merge, a new copy) must be written even when the metadata is unchanged.
 */
export function filesOf(scene: StashScene): string {
  return filesDigest(scene.files.map((f) => f.path));
}

/** The digest `filesOf` makes, for the paths of the files whose items were written (a file Plex lacks is left out, so it is tried again). */
export function filesDigest(paths: readonly string[]): string {
  return createHash('sha1').update([...paths].sort().join('\0')).digest('base64url').slice(0, 16);
}
