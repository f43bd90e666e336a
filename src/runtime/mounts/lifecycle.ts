/** A mount's lifecycle: start (shared by concurrent callers), crash → restart with back-off → restart limit, idle stop → start on the next call. */
import { formatDuration } from '../../config/config.js';
import { errorMessage } from '../../util/log.js';
import { ToolError, type ToolContext } from '../../model/tool-contract.js';
import { withOutcome } from '../../governance/audit-log.js';
import type { Child } from '../child.js';
import { type Mount, type MountSet, outcomeOf, Room, sleep } from './mount.js';
import type { Approval, Consent, Grant } from './approval.js';
import type { Starter } from './start.js';
import type { ToolView } from './tool-view.js';

/** Back-off before restart n (1-based) after a crash or failed start. */
export function restartDelay(consecutive: number): number {
  if (consecutive <= 0) return 0;
  return Math.min(30_000, 250 * 2 ** (consecutive - 1));
}

/**
 * Keeps a mount's child running while it is used: one start at a time (calls wait for it), a restart after a crash
 * or failed start with back-off and a limit (runtime.maxRestarts within runtime.restartWindow), a stop after
 * runtime.idleTimeout without calls and a start again on the next one.
 */
export class Lifecycle extends Room {
  constructor(
    core: MountSet,
    private readonly starter: Starter,
    private readonly view: ToolView,
    private readonly approval: Approval,
  ) {
    super(core);
  }

  /** A live child for the mount: waits for a start in progress; restarts after a crash (back-off, limit) or idle stop. */
  async ensureRunning(mount: Mount, ctx?: ToolContext): Promise<Child> {
    if (mount.restoring) await mount.restoring;
    for (let attempt = 0; attempt < 3; attempt++) {
      if (mount.pending) await mount.pending.catch(() => {});
      if (mount.removed) throw new ToolError(`${mount.id} was removed; registry-add it again to use it.`);
      if (mount.child?.alive && mount.state === 'running') return mount.child;
      if (mount.pending) continue;
      if (mount.gaveUp) throw new ToolError(this.gaveUpMessage(mount));
      // Back-off by the failures still in the window: a server that crashes rarely restarts at once.
      const recent = mount.failures.filter((t) => t > Date.now() - this.deps.runtime.restartWindow).length;
      if (mount.state === 'crashed' || (mount.state === 'failed' && recent > 0)) {
        const wait = (mount.failures.at(-1) ?? 0) + restartDelay(recent) - Date.now();
        if (wait > 0) await sleep(wait, ctx?.signal);
        if (mount.pending) continue;
        mount.restarts++;
        this.log.info(`restarting ${mount.id} (restart ${mount.restarts}; ${mount.lastError ?? ''})`);
      }
      try {
        await this.start(mount, ctx);
      } catch (err) {
        const e = new ToolError(mount.gaveUp ? this.gaveUpMessage(mount) : `${mount.id} could not be started: ${errorMessage(err)}`);
        const outcome = outcomeOf(err);
        throw outcome ? withOutcome(e, outcome) : e;
      }
    }
    if (mount.child?.alive) return mount.child;
    throw new ToolError(`${mount.id} is not running: ${mount.lastError ?? 'it keeps stopping'}`);
  }

  /**
   * Start (or restart) the mount's child; concurrent callers share one start. `consent`: the user approved it just
   * now (registry-add asked); recorded only if this start succeeds.
   */
  start(mount: Mount, ctx?: ToolContext, consent?: Consent): Promise<void> {
    if (mount.pending) return mount.pending;
    const grant: Grant = { consent };
    const p = (async () => {
      mount.state = 'starting';
      const gen = ++mount.generation;
      try {
        const child = await this.starter.launch(mount, gen, ctx, grant, { onExit: (reason) => this.onChildExit(mount, gen, reason), nextStep: () => this.nextStep(mount) });
        try {
          // Checked against the pins before anything is mounted: a changed tool is never listed, not even briefly.
          await this.view.applyTools(mount, child.tools, gen, !!grant.consent);
          // Next to its pins: the next start connects in the era found now, without probing again.
          await this.deps.pins.recordEra(mount.id, child.verdict).catch((err) => this.log.warn(`${mount.id}: could not record its protocol era: ${errorMessage(err)}`));
        } catch (err) {
          await child.close();
          throw new ToolError(`${mount.id}: could not check its tools against the approved ones: ${errorMessage(err)}`);
        }
        if (mount.removed || this.core.closed) {
          await child.close();
          throw new ToolError(`${mount.id} was removed while it was starting.`);
        }
        if (grant.consent) await this.approval.recordConsent(mount, grant.consent, grant.image);
        mount.child = child;
        mount.state = 'running';
        mount.startedAt = new Date().toISOString();
        mount.lastUsed = Date.now();
        this.armIdle(mount);
        if (child.hasResources) this.deps.notify.resourcesChanged();
        if (child.hasPrompts) this.deps.notify.promptsChanged();
      } catch (err) {
        mount.state = 'failed';
        mount.lastError = errorMessage(err);
        // A refusal is no crash: no back-off, no restart limit; every call checks again (an approval may have come).
        if (outcomeOf(err) !== 'refused') this.countFailure(mount, mount.lastError);
        if (grant.consent) await this.approval.auditConsent(mount.id, grant.consent, 'error', `not started, so nothing was recorded: ${mount.lastError}`);
        throw err;
      }
    })().finally(() => {
      if (mount.pending === p) mount.pending = null;
    });
    mount.pending = p;
    return p;
  }

  async restart(mount: Mount, ctx?: ToolContext, consent?: Consent): Promise<void> {
    await this.stopChild(mount);
    await this.start(mount, ctx, consent);
  }

  private onChildExit(mount: Mount, gen: number, reason: string): void {
    if (mount.generation !== gen || mount.removed) return;
    mount.child = null;
    if (mount.idleTimer) clearTimeout(mount.idleTimer);
    mount.idleTimer = null;
    mount.state = 'crashed';
    mount.lastError = `${reason} at ${new Date().toISOString()}`;
    this.countFailure(mount, mount.lastError);
    this.log.warn(`${mount.id} stopped unexpectedly: ${reason}; ${this.nextStep(mount)}`);
  }

  /**
   * Count a crash or failed start. Past runtime.maxRestarts within runtime.restartWindow the mount gives up: state
   * failed, and no call restarts it until registry-add (or new settings) asks for a fresh start.
   */
  private countFailure(mount: Mount, reason: string): void {
    const now = Date.now();
    mount.failures.push(now);
    const since = now - this.deps.runtime.restartWindow;
    while (mount.failures.length && mount.failures[0]! <= since) mount.failures.shift();
    const n = mount.failures.length;
    const limit = this.deps.runtime.maxRestarts;
    if (n <= limit) return;
    mount.gaveUp = { count: n, last: reason };
    mount.state = 'failed';
    mount.lastError = `restart limit reached (${n} crashes or failed starts within ${formatDuration(this.deps.runtime.restartWindow)}; runtime.maxRestarts is ${limit}); last failure: ${reason}`;
    this.log.warn(`${mount.id}: ${mount.lastError}; not restarted again until registry-add`);
  }

  /** What happens after the mount's child exited, for messages: a restart on the next call, or none. */
  private nextStep(mount: Mount): string {
    return mount.gaveUp ? `it is not restarted again: ${this.gaveUpMessage(mount)}` : 'the next call restarts it';
  }

  private gaveUpMessage(mount: Mount): string {
    const window = formatDuration(this.deps.runtime.restartWindow);
    return (
      `${mount.id} crashed or failed to start ${mount.gaveUp?.count ?? 0} times within ${window} (runtime.maxRestarts is ${this.deps.runtime.maxRestarts}, runtime.restartWindow ${window}), so it is not restarted automatically. ` +
      `Last failure: ${mount.gaveUp?.last ?? 'unknown'}. Fix the cause (registry-config-set for settings), then call registry-add ${mount.id} for a fresh start.`
    );
  }

  async stopChild(mount: Mount, close?: Parameters<Child['close']>[0]): Promise<void> {
    if (mount.idleTimer) clearTimeout(mount.idleTimer);
    mount.idleTimer = null;
    if (mount.pending) await mount.pending.catch(() => {});
    const child = mount.child;
    mount.child = null;
    mount.generation++;
    if (child) await child.close(close);
  }

  /** Stop a child nobody used for runtime.idleTimeout; its tools stay listed and the next call starts it again. */
  private armIdle(mount: Mount): void {
    const idle = this.deps.runtime.idleTimeout;
    if (!idle || idle <= 0) return;
    if (mount.idleTimer) clearTimeout(mount.idleTimer);
    const check = () => {
      mount.idleTimer = null;
      if (mount.removed || mount.state !== 'running' || !mount.child) return;
      const quiet = Date.now() - mount.lastUsed;
      if (mount.inFlight > 0 || quiet < idle) {
        mount.idleTimer = setTimeout(check, Math.max(50, idle - quiet));
        mount.idleTimer.unref();
        return;
      }
      this.log.info(`${mount.id} idle for ${Math.round(quiet / 1000)} s: stopping it (the next call starts it again)`);
      const child = mount.child;
      mount.child = null;
      mount.generation++;
      mount.state = 'idle';
      void child.close();
    };
    mount.idleTimer = setTimeout(check, idle);
    mount.idleTimer.unref();
  }
}
