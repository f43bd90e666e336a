/** Following the database: re-merging the catalog when another replica writes a source's snapshot. */
import { errorMessage } from '../../util/log.js';
import { INSTANCE } from '../file-stores.js';
import type { Notification, PgDatabase } from './db.js';

/** What following needs of the catalog (catalog/catalog.ts's Catalog): merge again, and a log to warn on. */
export interface FollowingCatalog {
  reload(): Promise<unknown>;
  log: { warn(msg: string): void };
}

/**
 * Keep an in-memory catalog in step with the database: merge again when another process wrote a source's data, and
 * after every (re)connection (what was written meanwhile). Notifications that arrive during a merge coalesce into
 * one more (Catalog.reload queues at most one).
 */
export function followDatabase(catalog: FollowingCatalog, db: PgDatabase): void {
  const reload = (why: string) =>
    void catalog.reload().catch((err) => catalog.log.warn(`could not merge the catalog from the database after ${why}: ${errorMessage(err)}; still serving the previous one`));
  db.on('notify', (n: Notification) => {
    // Our own write was merged when it was made.
    if (n.kind === 'source' && n.from !== INSTANCE) reload(`a change to source ${n.source}`);
  });
  db.on('up', () => reload('connecting'));
  // Connected before this was wired (the first 'up' is gone).
  if (db.available) reload('connecting');
}
