/** Start-up and shutdown of the mounts: claim and restore the saved ones, stop every child and remove leftover containers. */
import { errorMessage } from '../../util/log.js';
import type { MountRecord } from '../../store/state.js';
import { Mount, type MountSet, Room, sleep } from './mount.js';
import type { Lifecycle } from './lifecycle.js';
import type { ToolView } from './tool-view.js';

/** How long the children may take to exit at shutdown before their containers are removed by force; kept short: a client gives the whole registry about 2 s before it sends SIGTERM. */
const SHUTDOWN_GRACE_MS = 750;
/** Saved mounts restored at once at start-up (10 containers at once take ~1 s here; more only queue in podman). */
const RESTORE_CONCURRENCY = 4;

/**
 * Restore the saved mounts in the background: their prefixes are claimed at once, so a call to one of their tools
 * waits for the start instead of failing as unknown. At shutdown, every child of this instance stops.
 */
export class Restorer extends Room {
  private readonly claimed: { mount: Mount; open: () => void }[] = [];

  constructor(
    core: MountSet,
    private readonly lifecycle: Lifecycle,
    private readonly view: ToolView,
  ) {
    super(core);
  }

  /**
   * Claim the saved mounts (synchronously, from records read at start-up) so calls to their tools wait instead of
   * failing as unknown; `restore()` then starts them.
   */
  claim(records: MountRecord[]): void {
    for (const r of records) {
      if (this.core.byId.has(r.id) || this.core.byPrefix.has(r.prefix)) continue;
      const mount = new Mount(r.id, r.prefix, r.addedAt, r.source);
      mount.version = r.version;
      this.core.register(mount);
      // Claimed now: a call arriving before its start begins waits on this gate instead of failing as unknown.
      let open!: () => void;
      mount.restoring = new Promise<void>((res) => (open = res));
      this.claimed.push({ mount, open });
    }
  }

  /** Start the claimed mounts in the background, a few at a time. Resolves when every one has finished. */
  restore(): Promise<void> {
    const queue = this.claimed.splice(0);
    if (!queue.length) return Promise.resolve();
    this.log.info(`restoring ${queue.length} mounted server(s): ${queue.map((q) => q.mount.id).join(', ')}`);
    const worker = async () => {
      for (let q = queue.shift(); q; q = queue.shift()) {
        await this.restoreOne(q.mount).catch(() => {});
        q.mount.restoring = null;
        q.open();
      }
    };
    return Promise.all(Array.from({ length: Math.min(RESTORE_CONCURRENCY, queue.length) }, worker)).then(() => {});
  }

  private async restoreOne(mount: Mount): Promise<void> {
    // Started (or removed) since it was claimed — a config-set restart, an add — while the catalog loaded: nothing
    // to restore, and a second start would replace its container.
    if (mount.pending) await mount.pending.catch(() => {});
    if (mount.removed || (mount.child?.alive && mount.state === 'running')) return;
    try {
      // The start answers to the policy of now: a deny stops it, and so does a missing approval (one given "this
      // time" ended with the process that asked). Such a mount stays claimed: its next call or registry-add asks.
      await this.lifecycle.start(mount);
      this.log.info(`restored ${mount.id} (${mount.listed.length} tools)`);
    } catch (err) {
      mount.state = 'failed';
      mount.lastError = errorMessage(err);
      this.log.warn(`could not restore ${mount.id}: ${mount.lastError}`);
      throw err;
    }
  }

  /** Stop every child of this instance and remove any container of it that outlived its process. */
  async shutdown(): Promise<void> {
    if (this.core.closed) return;
    this.core.closed = true;
    this.view.stopWatching();
    const mounts = [...this.core.byId.values()];
    for (const m of mounts) if (m.idleTimer) clearTimeout(m.idleTimer);
    const t0 = Date.now();
    // Closing stdin ends a well-behaved server (and `podman run --rm` with it); give them a moment together. What is
    // left then (a server that ignores EOF, a start still in flight) is removed by force in one podman call, so the
    // whole stop stays within about SHUTDOWN_GRACE_MS + 2 s.
    const closing = Promise.all(mounts.map((m) => this.lifecycle.stopChild(m, { force: false })));
    const clean = await Promise.race([closing.then(() => true), sleep(SHUTDOWN_GRACE_MS).then(() => false)]);
    await this.removeInstanceContainers();
    if (!clean) await Promise.race([closing, sleep(1_000)]);
    if (mounts.length) this.log.info(`stopped ${mounts.length} server(s) in ${Date.now() - t0} ms`);
  }

  async removeInstanceContainers(): Promise<void> {
    if (!this.core.ranContainers) return;
    try {
      const { podman, instance, mod } = await this.deps.containers();
      // Secrets of a start the shutdown did not wait for (removeSecrets never throws).
      const secrets = podman.removeOwnSecrets();
      const removed = await podman.removeLabelled(mod.INSTANCE_LABEL, instance).finally(() => secrets);
      if (removed.length) this.log.info(`removed ${removed.length} container(s) of this instance that were still there`);
    } catch (err) {
      this.log.debug(`container clean-up skipped: ${errorMessage(err)}`);
    }
  }
}
