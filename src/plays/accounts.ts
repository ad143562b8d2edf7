import type { PlexAccount } from './plex-history';

/** The server owner's account id on a local server (plexapi's MyPlexAccount.history() asks for accountID=1). */
export const OWNER_ACCOUNT_ID = 1;

export interface ResolvedAccounts {
  /** Account ids whose plays count, in setting order. */
  ids: number[];
  /** Labels for the log and status, e.g. "alice (5)". */
  labels: string[];
  /** One line per entry of plex_accounts that names no account on this server. */
  problems: string[];
}

/**
 * Which accounts' plays count: `plex_accounts` entries are names (case-insensitive) or ids; empty
 * means the owner only. Pure, so the setting's rules are tested without a server.
 */
export function resolveAccounts(setting: readonly string[], accounts: readonly PlexAccount[]): ResolvedAccounts {
  const label = (a: PlexAccount) => (a.name ? `${a.name} (${a.id})` : `account ${a.id}`);
  if (setting.length === 0) {
    const owner = accounts.find((a) => a.id === OWNER_ACCOUNT_ID);
    return { ids: [OWNER_ACCOUNT_ID], labels: [owner ? label(owner) : `owner (${OWNER_ACCOUNT_ID})`], problems: [] };
  }
  const ids: number[] = [];
  const labels: string[] = [];
  const problems: string[] = [];
  for (const wanted of setting) {
    const byId = /^\d+$/.test(wanted) ? accounts.find((a) => a.id === Number(wanted)) : undefined;
    const byName = byId ?? accounts.find((a) => a.name !== '' && a.name.toLowerCase() === wanted.toLowerCase());
    if (!byName) {
      const known = accounts.filter((a) => a.name !== '').map(label).join(', ') || 'none';
      problems.push(`setting plex_accounts: Plex has no account "${wanted}" (known: ${known}); its plays are not imported`);
      continue;
    }
    if (ids.includes(byName.id)) continue;
    ids.push(byName.id);
    labels.push(label(byName));
  }
  return { ids, labels, problems };
}
