/** Plex Web's page for an item of this server (the server's own /web, so no plex.tv account is involved). */
export function plexWebUrl(plexUrl: string, machineIdentifier: string, ratingKey: string): string {
  return `${plexUrl}/web/index.html#!/server/${encodeURIComponent(machineIdentifier)}/details?key=${encodeURIComponent(`/library/metadata/${ratingKey}`)}`;
}
