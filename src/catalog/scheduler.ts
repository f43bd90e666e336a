/** The background refresh on refresh.schedule (node-cron): each tick refreshes the sources that are stale. */
import type { ScheduledTask } from 'node-cron';
import { nodeCron } from '../config/cron.js';
import type { Catalog } from './catalog.js';
import { errorMessage, type Logger } from '../util/log.js';

/**
 * Background refresh on the configured cron schedule. Each tick refreshes the sources whose minInterval has passed
 * (the catalog skips the others); a tick never overlaps the previous one, and searches never wait for it.
 */
export class RefreshScheduler {
  private task: ScheduledTask | null = null;
  private current: Promise<unknown> | null = null;
  private stopped = false;
  private scheduled: string | undefined;

  constructor(
    private readonly catalog: Catalog,
    private readonly log: Logger,
  ) {}

  /** Starts the schedule (config validation has checked it). node-cron loads here, not at start-up. */
  async start(): Promise<void> {
    if (this.stopped) return;
    const { schedule } = this.catalog.config.refresh;
    this.task = nodeCron().schedule(schedule, () => void this.tick('schedule'), { noOverlap: true, name: 'mcp-registry-refresh' });
    this.scheduled = schedule;
  }

  /** Follow a changed refresh.schedule (config.yaml edited while running). */
  async reschedule(): Promise<void> {
    if (this.stopped || !this.task || this.catalog.config.refresh.schedule === this.scheduled) return;
    await this.task.destroy();
    this.task = null;
    await this.start();
    this.log.info(`refresh schedule is now "${this.scheduled}"`);
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
