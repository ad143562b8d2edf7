import type { QueueStore } from '../queue/store';
import type { Config } from './config';
import type { Logger } from './filelog';

const DAY = 86_400_000;

/**
 * Hands the `dlq_retention_days` setting to the store, which owns DLQ retention: every dead-letter
 * and recovery then trims at it. When it is new or changed, the DLQ is purged at once (this is the
 * purge "when a worker starts" the README promises, done as soon as the settings are known).
 */
export async function applyDlqRetention(store: QueueStore, config: Config, log: Pick<Logger, 'info'>): Promise<void> {
  const retention = config.dlqRetentionMs();
  if (retention === undefined || retention === store.dlqRetentionMs()) return;
  store.setDlqRetention(retention);
  const purged = await store.purgeDlq();
  if (purged > 0) log.info(`purged ${purged} DLQ entr${purged === 1 ? 'y' : 'ies'} older than ${retention / DAY} days (dlq_retention_days)`);
}
