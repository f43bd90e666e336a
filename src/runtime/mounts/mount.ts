/** One mount's live state (the Mount record) and the set of them that every room of the manager shares. */
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Entry } from '../../model/entry.js';
import type { RegistryConfig } from '../../config/config.js';
import { errorMessage, type Logger } from '../../util/log.js';
import { ToolError } from '../../model/tool-contract.js';
import type { AuditLog } from '../../governance/audit-log.js';
import type { AuditOutcome } from '../../governance/audit-record.js';
import { entryAtVersion } from '../../model/versions.js';
import type { PinStore, ToolCheck } from '../../governance/pins.js';
import type { Child } from '../child.js';
import { Namer } from '../../model/naming.js';
import type { Podman } from '../podman/podman.js';
import type { Governance, Policy } from '../../governance/policy.js';
import type { Redactor } from '../../governance/redact.js';
import type { MountInfo, MountState } from './mount-info.js';
import { containerLauncher } from './container-launcher.js';
import type { Launchers } from './launcher.js';
import { remoteLauncher } from './remote-launcher.js';
import { pociLauncher } from './poci-launcher.js';
import type { SecretStore, StateStore } from '../../store/state.js';
import type { Consent } from './approval.js';
import { policyStartGate, type StartGate } from '../../governance/start-gate.js';
import { defaultCallGate, type CallGate } from '../../governance/call-gate.js';

export interface MountManagerDeps {
  /** Entry lookup by id or alias (waits for the catalog to load); throws a ToolError naming close ids when there is none. */
  resolve(id: string): Promise<Entry>;
  runtime: RegistryConfig['runtime'];
  /** Podman and this instance's id, loaded on first use (podman.ts pulls in execa: not worth it before a start). */
  containers(): Promise<ContainerKit>;
  state: StateStore;
  secrets: SecretStore;
  /** The current policy (re-read when policy.yaml changed); throws when the file is invalid. */
  policy(): Promise<Policy>;
  /** The policy last loaded, without waiting (refreshes itself in the background); null before the first load. */
  policyNow?(): Policy | null;
  log: Logger;
  redactor: Redactor;
  /** Image and tool pins (governance/pins.ts): what was approved, so a changed server cannot slip in. */
  pins: PinStore;
  /** Where approvals given by elicitation are recorded (tool calls are audited by the server's wrappers). */
  audit?: AuditLog | null;
  notify: { toolsChanged(): void; resourcesChanged(): void; promptsChanged(): void };
  /** A package was built into a local image just now (the runtime's list of built images is read again). */
  onBuilt?(): void;
  /** How each kind of launch plan starts (default: podman for images, the guarded HTTP client for remotes). */
  launchers?: Partial<Launchers>;
  /** A server's tools as mounted at a start or list change (its own names): kept for tool search (store/learned-tools.ts). */
  onToolsSeen?(entryId: string, tools: Tool[]): void;
  /** "May this start now?" for every start (default: policy over the approvals in state; governance/start-gate.ts). */
  startGate?: StartGate;
  /** "May this call go through?" for every call to a mounted tool (default: governance/call-gate.ts). */
  callGate?: CallGate;
}

export interface ContainerKit {
  podman: Podman;
  /** This registry process's id, the value of the io.mcp-registry.instance label of its containers. */
  instance: string;
  mod: typeof import('../podman/podman.js');
}

export class Mount {
  state: MountState = 'starting';
  child: Child | null = null;
  readonly tools: Namer;
  readonly prompts: Namer;
  /** Stand-in URI tails of the last resources/list (runtime/mounts/listing-names.ts) → the child's own URIs. */
  readonly resourceTails = new Map<string, string>();
  /** Mounted (renamed) tools from the last listing: kept while stopped so calls can start the server again. */
  listed: Tool[] = [];
  startedAt?: string;
  restarts = 0;
  /**
   * When it crashed or failed to start, oldest first; only those within runtime.restartWindow count. A successful
   * run clears nothing: a server that is killed after every successful call still runs out of restarts.
   */
  failures: number[] = [];
  /** Set when the failures within the window went past runtime.maxRestarts: no automatic restart until registry-add. */
  gaveUp: { count: number; last: string } | null = null;
  lastError?: string;
  /** A start (or restart) in progress: calls wait for it. */
  pending: Promise<void> | null = null;
  /** Set from claim() until its restore has finished (successfully or not): calls wait for it. */
  restoring: Promise<void> | null = null;
  inFlight = 0;
  lastUsed = Date.now();
  idleTimer: NodeJS.Timeout | null = null;
  /** Bumped per child start, so late events of an old child are ignored. */
  generation = 0;
  removed = false;
  /** Tool names policy pins this entry to (undefined: all). */
  pinned?: string[];
  /** The version registry-add asked for (undefined: the latest at each start). */
  version?: string;
  /** Set by a container start where podman cannot enforce the limits the plan asks for (AddResult.limits). */
  limits?: string;
  /** The catalog entry as of the last start (policy rules are matched against its id, aliases and origin). */
  entry?: Entry;
  /** What the child presented last (original names, after policy's `tools`), before pins withheld anything. */
  presented: Tool[] = [];
  withheld: ToolCheck['withheld'] = [];
  readonly withheldNames = new Set<string>();
  removedTools: string[] = [];
  pinMessage?: string;
  /** Mounted name → tool, for the per-call lookups (annotations for the destructive gate). */
  listedByName = new Map<string, Tool>();
  /** Governance options under the policy object they were computed from; recomputed when policy.yaml changes. */
  gov?: { policy: Policy; g: Governance; blocked?: string };
  /** Tool-list updates (start, tools/list_changed, approvals) apply one at a time, in order. */
  toolsQueue: Promise<void> = Promise.resolve();
  /**
   * The user's consent to run this mount although it needs approval, given in this process: its restarts (crash,
   * idle stop, new settings) need no new question. Never saved: a restore after a registry restart asks again.
   */
  consent?: Consent;

  constructor(
    readonly id: string,
    readonly prefix: string,
    readonly addedAt: string,
    /** The source whose launch runs (chosen at add, kept in the mount record); unset only for records from before. */
    public source?: string,
  ) {
    this.tools = new Namer(prefix);
    this.prompts = new Namer(prefix);
  }

  info(): MountInfo {
    return {
      id: this.id,
      prefix: this.prefix,
      state: this.state,
      tools: this.listed.map((t) => t.name),
      ...(this.startedAt ? { startedAt: this.startedAt } : {}),
      ...(this.version ? { version: this.version } : {}),
      restarts: this.restarts,
      ...(this.lastError ? { lastError: this.lastError } : {}),
      ...(this.withheld.length
        ? {
            withheld: this.withheld.map((w) => {
              const t = this.presented.find((p) => p.name === w.name);
              return { name: this.tools.mounted(w.name) ?? `${this.prefix}__${w.name}`, reason: w.reason, ...(t?.description ? { description: t.description } : {}) };
            }),
          }
        : {}),
      ...(this.removedTools.length ? { removedTools: this.removedTools } : {}),
      ...(this.withheld.length && this.pinMessage ? { approval: this.pinMessage } : {}),
      ...(this.source ? { source: this.source } : {}),
    };
  }
}

/** What every room of the manager shares: the mounts by id and by prefix, the dependencies, the launchers. */
export class MountSet {
  readonly byId = new Map<string, Mount>();
  readonly byPrefix = new Map<string, Mount>();
  readonly log: Logger;
  closed = false;
  /** Whether this instance ever ran `podman run` (else there is nothing to clean up at shutdown). */
  ranContainers = false;
  readonly launchers: Launchers;
  readonly startGate: StartGate;
  readonly callGate: CallGate;

  constructor(readonly deps: MountManagerDeps) {
    this.log = deps.log;
    this.startGate = deps.startGate ?? policyStartGate({ policy: () => this.policyOrFail(), approvals: () => this.approvals(), audit: deps.audit });
    this.callGate = deps.callGate ?? defaultCallGate;
    this.launchers = {
      container: containerLauncher({ containers: deps.containers, pins: deps.pins, log: deps.log, onContainersUsed: () => (this.ranContainers = true) }),
      remote: remoteLauncher(),
      poci: pociLauncher({ containers: deps.containers, log: deps.log, onContainersUsed: () => (this.ranContainers = true) }),
      ...deps.launchers,
    };
  }

  async policyOrFail(): Promise<Policy> {
    try {
      return await this.deps.policy();
    } catch (err) {
      throw new ToolError(`No server can start while the policy file is broken: ${errorMessage(err)}`);
    }
  }

  async approvals(): Promise<Record<string, { approvedAt: string; by: string }>> {
    return (await this.deps.state.read()).approvals;
  }

  register(m: Mount): void {
    this.byId.set(m.id, m);
    this.byPrefix.set(m.prefix, m);
  }

  unregister(m: Mount): void {
    if (this.byId.get(m.id) === m) this.byId.delete(m.id);
    if (this.byPrefix.get(m.prefix) === m) this.byPrefix.delete(m.prefix);
  }
}

/** A room of the manager (tool view, approval, start, lifecycle, calls, restore, values): it works on the shared set. */
export abstract class Room {
  constructor(protected readonly core: MountSet) {}

  protected get deps(): MountManagerDeps {
    return this.core.deps;
  }

  protected get log(): Logger {
    return this.core.log;
  }
}

export function outcomeOf(err: unknown): AuditOutcome | undefined {
  return (err as { auditOutcome?: AuditOutcome } | null)?.auditOutcome;
}

/** An error result; `outcome` rides along unseen by the client (not enumerable) for the audit record. */
export function errorResult(text: string, outcome?: AuditOutcome): CallToolResult {
  const r: CallToolResult = { content: [{ type: 'text', text }], isError: true };
  if (outcome) Object.defineProperty(r, 'auditOutcome', { value: outcome, enumerable: false });
  return r;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** The entry at the version a mount asked for (model/versions.ts), or the tool error saying which there are. */
export function atVersion(entry: Entry, version: string | undefined): Entry {
  const r = entryAtVersion(entry, version);
  if ('problem' in r) throw new ToolError(r.problem);
  return r.entry;
}
