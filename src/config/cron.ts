/** Cron schedules: the default refresh schedule, lazy loading of node-cron, why an expression is invalid. */
import { createRequire } from 'node:module';

type NodeCron = typeof import('node-cron');
let loaded: NodeCron | undefined;

/**
 * node-cron, loaded on first use (nothing needs it before the catalog is up) and synchronously, because config
 * validation is synchronous; validation and the scheduler share this one copy.
 */
export function nodeCron(): NodeCron {
  return (loaded ??= createRequire(import.meta.url)('node-cron') as NodeCron);
}

export const DEFAULT_SCHEDULE = '17 */6 * * *';

/** Why a cron expression would not schedule, or undefined when it would. */
export function cronProblem(expression: string): string | undefined {
  // The default is known to be good: checking it would load node-cron (~15 ms) on every start for nothing.
  if (expression === DEFAULT_SCHEDULE) return undefined;
  const res = nodeCron().validateDetailed(expression);
  if (res.valid) return undefined;
  return res.errors.map((e) => e.message).join('; ') || 'not a cron expression';
}
