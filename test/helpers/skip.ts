/** The one rule for tests that need a machine part (podman, PostgreSQL): fail in CI, skip loudly elsewhere. */
export interface SkipContext {
  skip: (note?: string) => never;
  task: { name: string };
}

/** `what` names the kind of test ("container", "PostgreSQL"); `fix` is the command that provides the missing part. */
export function skipOrFail(ctx: SkipContext, what: string, why: string, fix: string): never {
  if (process.env.CI) throw new Error(`${what} tests must run in CI, but ${why}. Fix: ${fix}`);
  const msg = `SKIPPED "${ctx.task.name}": ${why}. To run it: ${fix}`;
  process.stderr.write(`\n${'!'.repeat(100)}\n!!! ${msg}\n${'!'.repeat(100)}\n`);
  return ctx.skip(msg);
}
