import type { ScheduledTask } from 'node-cron';
import type { Catalog } from './catalog.js';
import { errorMessage, type Logger } from '../log.js';

/**
 * Background refresh on the configured cron schedule. Each tick refreshes the sources whose minInterval has passed
 * (the catalog skips the others); a tick never overlaps the previous one, and searches never wait for it.
 */
export class RefreshScheduler {
  private task: ScheduledTask | null = null;
  private current: Promise<unknown> | null = null;
  private stopped = false;

  constructor(
    private readonly catalog: Catalog,
    private readonly log: Logger,
  ) {}

  /** Starts the schedule. node-cron loads here, not at start-up: nothing needs it before the catalog is up. */
  async start(): Promise<void> {
    const { default: cron } = await import('node-cron');
    if (this.stopped) return;
    const { schedule } = this.catalog.config.refresh;
    if (!cron.validate(schedule)) {
      this.log.error(`refresh.schedule "${schedule}" is not a valid cron expression; background refresh is off. Fix it in config.yaml (e.g. "17 */6 * * *").`);
      return;
    }
    this.task = cron.schedule(schedule, () => void this.tick('schedule'), { noOverlap: true, name: 'mcp-registry-refresh' });
  }

  /** Refresh stale sources now, in the background. */
  tick(reason: string): Promise<unknown> {
    if (this.current) return this.current;
    this.log.debug(`background refresh (${reason})`);
    this.current = this.catalog
      .refresh({})
      .catch((err) => this.log.warn(`background refresh failed: ${errorMessage(err)}`))
      .finally(() => (this.current = null));
    return this.current;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.task?.destroy();
    this.task = null;
  }
}
