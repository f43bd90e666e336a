/** The refresher election: the replica holding the advisory lock refreshes; emits acquired and lost. */
import { EventEmitter } from 'node:events';
import type { Client } from 'pg';
import { errorMessage, type Logger } from '../../util/log.js';
import { LOCKS, type PgDatabase } from './db.js';

/**
 * Which replica refreshes the sources: the one holding the refresher advisory lock. Every replica tries to take it
 * every `pollMs`; the holder checks its lock connection on the same beat. PostgreSQL frees a session lock when its
 * connection ends, so a refresher that dies (or loses the database) is replaced within about one poll by another.
 * Emits `acquired` and `lost`.
 */
export class RefresherElection extends EventEmitter {
  private lock: { client: Client; release(): Promise<void> } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private stopped = false;

  constructor(
    private readonly db: PgDatabase,
    private readonly pollMs: number,
    private readonly log: Logger,
  ) {
    super();
  }

  get isRefresher(): boolean {
    return this.lock !== null;
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => void this.beat(), this.pollMs);
    this.timer.unref();
    void this.beat();
  }

  private async beat(): Promise<void> {
    if (this.busy || this.stopped) return;
    this.busy = true;
    try {
      if (this.lock) {
        try {
          await this.lock.client.query('SELECT 1');
        } catch (err) {
          this.lose(`its database connection failed (${errorMessage(err)})`);
        }
        return;
      }
      if (!this.db.available) return;
      const lock = await this.db.tryLock(LOCKS.refresher).catch(() => null);
      if (!lock || this.stopped) {
        await lock?.release();
        return;
      }
      this.lock = lock;
      lock.client.on('error', (err) => this.lose(`its database connection failed (${errorMessage(err)})`));
      lock.client.on('end', () => this.lose('its database connection closed'));
      this.log.info('this replica refreshes the sources now (it holds the refresher lock)');
      this.emit('acquired');
    } finally {
      this.busy = false;
    }
  }

  private lose(why: string): void {
    if (!this.lock) return;
    const l = this.lock;
    this.lock = null;
    void l.release();
    if (!this.stopped) this.log.warn(`this replica stopped refreshing: ${why}; another replica (or this one, once the database answers) takes over`);
    this.emit('lost');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const l = this.lock;
    this.lock = null;
    if (l) {
      this.emit('lost');
      await l.release();
    }
  }
}
