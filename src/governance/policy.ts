/** policy.yaml: its rules, loading it, and the decisions it makes (visible, allowed, approvable, overrides). */
import { readFile, stat } from 'node:fs/promises';
import type { Entry } from '../model/entry.js';
import { describeLaunchRef, pickLaunch, sourceIdOf, type LaunchChoice } from '../model/launch-choice.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { errorMessage } from '../util/log.js';
import { withFileLock } from '../util/file-lock.js';
import { dockerHubPath, tryQualifyImageRef } from '../model/image-ref.js';
import { patternToRegExp } from '../util/patterns.js';
import { approvalNeededFor, catalogRefusal, prodRefusal, saidBy, withCatalogLifecycle } from './catalog-lifecycle.js';
import { signatureStanding } from './launch-signature.js';
import { addItem, NEW_FILE, ONCE, parsePolicy, PolicyError, PolicySchema, removeItem, type EntryRule, type PolicyData, type RemoteRule } from './policy-file.js';

/**
 * The allowlist, policy.yaml:
 *
 *   allow: [docker/*, official/io.github.me/*]   # ids or patterns; "*" matches anything ("/" included), "?" one char
 *   deny:  [mcpservers/*]                         # a deny always wins
 *   trust: { fileSources: true, dockerBuilt: true }   # the defaults below; set false to require approval
 *   entries:                                      # per-entry rules; several patterns may match, the most specific wins
 *     "docker/github-official":
 *       status: active | deprecated | disabled    # disabled: never starts and is hidden; deprecated: starts, flagged
 *       message: "use docker/github-remote"       # shown with a deprecated or disabled status
 *       environments: [dev, prod]                 # only in these (config.yaml `environment`)
 *       network: none | default                   # container overrides, consumed by planLaunch
 *       memory: 256m
 *       cpus: "0.5"
 *       pidsLimit: 128
 *       user: "1000:1000"
 *       readOnly: true
 *       image: ghcr.io/github/github-mcp-server@sha256:…   # pin
 *       tools: [get_issue, list_issues]           # pin: only these tools are mounted (the mount manager applies it)
 *       mounts: ["/srv/data:/data", "/srv/out:/out:rw", "named-vol:/cache"]
 *                                                 # host paths (or named volumes) its catalog entry may mount: exactly
 *                                                 # these, read-only unless ":rw"; the engine socket, /, /etc, /proc,
 *                                                 # /sys, /dev, /run and home directories never, whatever this says
 *       sunset: 2026-12-31                        # deprecated until then (shown with the warning), disabled after
 *       remote: { allowPrivate: true }            # and the governance options below, per entry
 *   # governance (globally; an `entries` rule may override each for its entries):
 *   remote: { allowPrivate: false, allowHttp: false, allowHosts: [] }   # remote URL guard (governance/url-guard.ts)
 *   requireDigest: false        # true: refuse images not named by @sha256: digest
 *   requireSigned: false        # true: only entries whose signature verifies (file source verify.keys) start
 *   requireApproval: { dataAccess: [pii] }   # catalog data_access classes that always need approval
 *   scanSecrets: off            # warn: log a warning when tool arguments or results look like credentials
 *   destructive: allow          # ask: confirm calls to tools annotated destructiveHint (refuse when the client cannot ask); deny: refuse them
 *
 * Without a rule, an entry is allowed when the launch that would start comes from one of the user's own `file`
 * sources, or is an image under `mcp/` (built and signed by Docker) from a `docker` source. Anything else needs
 * approval: either a one-time approval recorded in state (`state.approvals`, passed to decide()) or a durable
 * `mcp-registry allow <id>`.
 *
 * Trust follows the launch, never the merge: a merged entry is judged by the source of the launch that would start
 * (its image, run block and settings all come from that one source). An allow rule or approval counts for that
 * launch when it names the id under which that launch's source lists the server (or an id no source claims).
 */

export interface PolicyDecision {
  allowed: boolean;
  reason: string;
  /** True when the user could approve it (it is not denied or disabled). */
  needsApproval: boolean;
  /** The command that allows it for good, e.g. "mcp-registry allow docker/foo". */
  command?: string;
  /** Allowed, but worth saying (deprecated). */
  warning?: string;
  /** The launch judged: its source, and the id under which that source lists the entry (approvals are kept there). */
  launch?: { source: string; sourceId: string };
}

export interface PolicyChange {
  changed: boolean;
  message: string;
}

/** Whether policy lists an entry in the configured environment, and as what (what the HTTP API serves, too). */
export interface EntryVisibility {
  /** False when disabled, past its sunset, or outside this environment. */
  visible: boolean;
  status: 'active' | 'deprecated';
  /** Why it is deprecated (the HTTP API's `statusMessage`). */
  statusMessage?: string;
}

/** Container settings policy imposes on an entry (`entries` rules), consumed by planLaunch. */
export interface LaunchOverrides {
  network?: 'none' | 'default';
  memory?: string;
  cpus?: string;
  pidsLimit?: number;
  user?: string;
  readOnly?: boolean;
  /** Image pin from policy (e.g. a digest), replacing the catalog's reference. */
  image?: string;
  /** Mounts policy grants this entry (`host:container[:ro|:rw]`, read-only unless `:rw`). */
  mounts?: string[];
}

export interface PolicyOptions {
  /** config.yaml `environment`: entries restricted to other environments are hidden and never start. */
  environment?: string;
  /** Clock for sunset dates (default Date.now). */
  now?: () => number;
}

/** The governance options in effect for one entry (global values, overridden by its `entries` rules). */
export interface Governance {
  remote: { allowPrivate: boolean; allowHttp: boolean; allowHosts: string[] };
  requireDigest: boolean;
  /** MCPB bundles without a published fileSha256 may be built (policy.yaml allowUnverifiedBundles). */
  allowUnverifiedBundles: boolean;
  scanSecrets: 'warn' | 'off';
  destructive: 'ask' | 'allow' | 'deny';
}

/** What registry-info / registry-find show about an entry's standing under policy. */
export type TrustView = {
  /** Whether it may start: allowed, denied (or disabled), or waiting for approval. */
  status: 'allowed' | 'denied' | 'needs-approval';
  lifecycle: 'active' | 'deprecated' | 'disabled';
  /** False when policy hides it here (disabled, past its sunset, or not allowed in this environment). */
  visible: boolean;
  reason: string;
  warning?: string;
  /** The date a deprecated entry stops being available (YYYY-MM-DD). */
  sunset?: string;
  message?: string;
  /** The command that allows it, when it waits for approval. */
  command?: string;
  environment?: string;
  /** The environments policy restricts it to, when it does. */
  environments?: string[];
  /** The signature outcome of the launch judged, when policy requires signatures (requireSigned). */
  signature?: 'verified' | 'unsigned' | 'bad';
};

/** Source name → type, as Policy.load wants it, from config.yaml's sources. */
export function sourceTypesOf(sources: readonly { name: string; type: string }[]): Record<string, string> {
  return Object.fromEntries(sources.map((s) => [s.name, s.type]));
}

/** More literal characters = more specific; an exact id beats every pattern. */
function specificity(p: string): number {
  const literal = p.replace(/[*?]/g, '').length;
  return /[*?]/.test(p) ? literal : 1_000_000 + literal;
}

export class Policy {
  private allowRe: [string, RegExp][] = [];
  private denyRe: [string, RegExp][] = [];
  private entryRules: [string, RegExp, EntryRule][] = [];
  private current!: PolicyData;

  private constructor(
    readonly file: string,
    data: PolicyData,
    private readonly sourceTypes: Record<string, string>,
    readonly environment: string | undefined,
    /** Whether the file existed when loaded. */
    private existed: boolean,
    /** The clock for sunset dates (tests set it). */
    private readonly now: () => number = Date.now,
  ) {
    this.setData(data);
  }

  get data(): PolicyData {
    return this.current;
  }

  get exists(): boolean {
    return this.existed;
  }

  private setData(data: PolicyData): void {
    this.current = data;
    this.allowRe = data.allow.map((p) => [p, patternToRegExp(p)]);
    this.denyRe = data.deny.map((p) => [p, patternToRegExp(p)]);
    this.entryRules = Object.entries(data.entries)
      .sort(([a], [b]) => specificity(a) - specificity(b))
      .map(([p, r]) => [p, patternToRegExp(p), r]);
  }

  /**
   * Read policy.yaml; a missing file means the defaults. Invalid YAML or an invalid rule is a PolicyError naming
   * the file, line and column, and what is expected there.
   */
  static async load(file: string, sourceTypes: Record<string, string> = {}, opts: PolicyOptions = {}): Promise<Policy> {
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new PolicyError(`cannot read ${file}: ${errorMessage(err)}`);
    }
    const data = text === undefined ? PolicySchema.parse({}, ONCE) : parsePolicy(text, file).data;
    return new Policy(file, data, sourceTypes, opts.environment, text !== undefined, opts.now);
  }

  /** Build from YAML text (tests, or a policy held elsewhere). */
  static fromText(text: string, file: string, sourceTypes: Record<string, string> = {}, opts: PolicyOptions = {}): Policy {
    return new Policy(file, parsePolicy(text, file).data, sourceTypes, opts.environment, true, opts.now);
  }

  private ids(entry: Pick<Entry, 'id' | 'aliases'>): string[] {
    return [entry.id, ...(entry.aliases ?? [])];
  }

  private match(list: [string, RegExp][], entry: Pick<Entry, 'id' | 'aliases'>): string | undefined {
    const ids = this.ids(entry);
    return list.find(([, re]) => ids.some((id) => re.test(id)))?.[0];
  }

  /** The merged rule of every `entries` pattern matching the entry (most specific last, so it wins). */
  entryRule(entry: Pick<Entry, 'id' | 'aliases'>): EntryRule & { matched: string[] } {
    const ids = this.ids(entry);
    const out: EntryRule & { matched: string[] } = { matched: [] };
    for (const [p, re, rule] of this.entryRules) {
      if (!ids.some((id) => re.test(id))) continue;
      out.matched.push(p);
      for (const [k, v] of Object.entries(rule)) {
        if (v === undefined) continue;
        // remote: each key on its own, so `docker/*: {remote: {allowHttp}}` and a more specific allowHosts combine;
        // mounts add up (each one is an exact grant).
        (out as Record<string, unknown>)[k] = k === 'remote' ? { ...out.remote, ...(v as RemoteRule) } : k === 'mounts' ? [...new Set([...(out.mounts ?? []), ...(v as string[])])] : v;
      }
    }
    return out;
  }

  /** Container settings policy imposes on this entry (planLaunch's `overrides`). */
  overridesFor(entry: Pick<Entry, 'id' | 'aliases'>): LaunchOverrides {
    const r = this.entryRule(entry);
    const o: LaunchOverrides = {};
    if (r.network) o.network = r.network;
    if (r.memory) o.memory = r.memory;
    if (r.cpus) o.cpus = r.cpus;
    if (r.pidsLimit !== undefined) o.pidsLimit = r.pidsLimit;
    if (r.user) o.user = r.user;
    if (r.readOnly !== undefined) o.readOnly = r.readOnly;
    if (r.image) o.image = r.image;
    if (r.mounts?.length) o.mounts = r.mounts;
    return o;
  }

  /** Tool names an entry is pinned to, when policy pins them. */
  toolsFor(entry: Pick<Entry, 'id' | 'aliases'>): string[] | undefined {
    return this.entryRule(entry).tools;
  }

  /** Remote guard, digest, secret-scan and destructive-tool options for this entry (global, then its rules). */
  governanceFor(entry: Pick<Entry, 'id' | 'aliases'>): Governance {
    const r = this.entryRule(entry);
    const g = this.data;
    return {
      remote: {
        allowPrivate: r.remote?.allowPrivate ?? g.remote.allowPrivate ?? false,
        allowHttp: r.remote?.allowHttp ?? g.remote.allowHttp ?? false,
        allowHosts: [...new Set([...(g.remote.allowHosts ?? []), ...(r.remote?.allowHosts ?? [])])],
      },
      requireDigest: r.requireDigest ?? g.requireDigest,
      allowUnverifiedBundles: r.allowUnverifiedBundles ?? g.allowUnverifiedBundles,
      scanSecrets: r.scanSecrets ?? g.scanSecrets,
      destructive: r.destructive ?? g.destructive,
    };
  }

  /** `requireSigned` for this entry (global, then its rules): only verified signatures start. */
  requireSignedFor(entry: Pick<Entry, 'id' | 'aliases'>): boolean {
    return this.entryRule(entry).requireSigned ?? this.data.requireSigned;
  }

  /**
   * Where an entry stands in its life under policy: a `sunset` makes it deprecated until that date and disabled
   * from the day after; `status` says the rest.
   */
  private lifecycle(rule: EntryRule): { state: 'active' | 'deprecated' | 'disabled'; expired: boolean } {
    if (rule.status === 'disabled') return { state: 'disabled', expired: false };
    if (rule.sunset && this.now() >= Date.parse(`${rule.sunset}T00:00:00Z`) + 86_400_000) return { state: 'disabled', expired: true };
    if (rule.status === 'deprecated' || rule.sunset) return { state: 'deprecated', expired: false };
    return { state: 'active', expired: false };
  }

  private inEnvironment(rule: EntryRule): boolean {
    return !rule.environments || (!!this.environment && rule.environments.includes(this.environment));
  }

  /** Ids of the entry that speak for `source`'s launch: its own id there, and ids no source claims. */
  private idsFor(entry: Pick<Entry, 'id' | 'aliases' | 'sources'>, source: string): string[] {
    const owner = new Map(entry.sources.map((s) => [s.id, s.source]));
    return this.ids(entry).filter((id) => (owner.get(id) ?? source) === source);
  }

  /**
   * Whether the entry may start, judged by the launch that would start: `opts.source` when the user chose one,
   * else the default (launch-choice.ts). The decision names that launch.
   */
  decide(entry: Entry, approvals?: Record<string, unknown>, opts: { source?: string } = {}): PolicyDecision {
    const pick = pickLaunch(entry, opts.source);
    const source = pick.ok ? pick.choice.source : (opts.source ?? entry.sources[0]!.source);
    const sourceId = pick.ok ? pick.choice.sourceId : sourceIdOf(entry, source);
    const launch = { source, sourceId };
    const command = `mcp-registry allow ${sourceId}`;
    const denied = this.match(this.denyRe, entry);
    if (denied) return { allowed: false, needsApproval: false, reason: `denied by ${this.file} (deny: "${denied}")` };

    const policyRule = this.entryRule(entry);
    // The catalog's status/envs count where policy's rule is silent (governance/catalog-lifecycle.ts).
    const rule = withCatalogLifecycle(policyRule, entry);
    const where = rule.matched.length ? `entries."${rule.matched[rule.matched.length - 1]}"` : '';
    const life = this.lifecycle(rule);
    if (life.state === 'disabled') {
      const what = life.expired ? `past its sunset date ${rule.sunset}` : 'disabled';
      return { allowed: false, needsApproval: false, reason: `${what} ${saidBy(rule, 'status', `in ${this.file} (${where})`)}${rule.message ? `: ${rule.message}` : ''}` };
    }
    if (!this.inEnvironment(rule) && rule.environments) {
      return {
        allowed: false,
        needsApproval: false,
        reason: `allowed only in environment${rule.environments.length === 1 ? '' : 's'} ${rule.environments.join(', ')} ${saidBy(rule, 'environments', `by ${this.file} (${where})`)}; this registry runs in "${this.environment ?? 'unset'}" (config.yaml environment)`,
      };
    }
    const held = catalogRefusal(entry, this.environment, source, policyRule.requireSigned ?? this.data.requireSigned);
    if (held) return { allowed: false, needsApproval: false, reason: held, launch };
    const warning =
      life.state === 'deprecated'
        ? `${entry.id} is deprecated ${rule.catalog?.status ? 'by its catalog' : 'by policy'}${rule.message ? `: ${rule.message}` : ''}${rule.sunset ? ` (available until ${rule.sunset})` : ''}`
        : undefined;
    const ok = (reason: string): PolicyDecision => ({ allowed: true, needsApproval: false, reason, launch, ...(warning ? { warning } : {}) });

    const trustedIds = this.idsFor(entry, source);
    // A launch read from a detail page (no catalog published it) is vouched for only by its own id: no pattern, no trust.
    const inferred = pick.ok && (pick.choice.launch.type === 'package' || pick.choice.launch.type === 'image') ? pick.choice.launch.inferred : undefined;
    const allowed = this.allowRe.find(([p, re]) => (!inferred || !/[*?]/.test(p)) && trustedIds.some((id) => re.test(id)))?.[0];
    if (allowed) return ok(`allowed by ${this.file} (allow: "${allowed}")`);
    for (const id of trustedIds) {
      const a = approvals?.[id] as { approvedAt?: unknown; by?: unknown; source?: unknown } | undefined;
      // An approval names the source whose launch was approved; one from before that was recorded counts for its id's.
      if (a && (typeof a.source !== 'string' || a.source === source)) {
        return ok(`approved${typeof a.by === 'string' ? ` by ${a.by}` : ''}${typeof a.approvedAt === 'string' ? ` at ${a.approvedAt}` : ''}`);
      }
    }
    const askFirst = inferred
      ? `its launch (\`${inferred.snippet}\`) was inferred from ${inferred.page}, not published by a catalog, so it always needs approval`
      : approvalNeededFor(entry, this.data.requireApproval.dataAccess);
    if (!askFirst && this.data.trust.fileSources && this.sourceTypes[source] === 'file') return ok(`from your own catalog (source "${source}")`);
    if (!askFirst && this.data.trust.dockerBuilt && pick.ok) {
      const image = dockerBuiltImage(pick.choice, this.sourceTypes);
      if (image) return ok(`Docker-built and signed image ${image} from the Docker catalog`);
    }
    const otherAllow = this.match(this.allowRe, entry);
    return {
      allowed: false,
      needsApproval: true,
      reason:
        (askFirst ? `${entry.id} needs approval: ${askFirst}` : `${entry.id} is not on the allowlist (${describeOrigin(entry, pick.ok ? pick.choice : undefined, source, this.sourceTypes)})`) +
        (otherAllow ? `; allow "${otherAllow}" names another source's listing of it, which does not vouch for this launch` : '') +
        this.otherTrustedLaunches(entry, source),
      command,
      launch,
      ...(warning ? { warning } : {}),
    };
  }

  /** Where the entry's own trusted sources (file) list it too: say so, and how to run that launch instead. */
  private otherTrustedLaunches(entry: Entry, judged: string): string {
    if (!this.data.trust.fileSources) return '';
    const notes: string[] = [];
    for (const s of new Set(entry.sources.map((x) => x.source))) {
      if (s === judged || this.sourceTypes[s] !== 'file') continue;
      const own = pickLaunch(entry, s);
      notes.push(
        own.ok
          ? `your own catalog (source "${s}") lists it too, with ${describeLaunchRef(own.choice.launch)}: to run that instead, call registry-add with "source": "${s}"`
          : `your own catalog (source "${s}") lists it too, but with no launch this registry can run, so it does not vouch for the one from "${judged}"`,
      );
    }
    return notes.length ? `; ${notes.join('; ')}` : '';
  }

  /** Whether an entry is listed at all in this environment, and as what (disabled or out-of-environment: hidden). */
  visibility(entry: Entry): EntryVisibility {
    const rule = withCatalogLifecycle(this.entryRule(entry), entry);
    const life = this.lifecycle(rule);
    if (life.state === 'disabled') return { visible: false, status: 'active' };
    if (!this.inEnvironment(rule)) return { visible: false, status: 'active' };
    if (prodRefusal(entry, this.environment)) return { visible: false, status: 'active' };
    if (entry.status === 'deleted') return { visible: false, status: 'active' };
    if (life.state === 'deprecated' || entry.status === 'deprecated') {
      const msg = [rule.message, rule.sunset ? `available until ${rule.sunset}` : undefined].filter(Boolean).join('; ');
      return { visible: true, status: 'deprecated', ...(msg ? { statusMessage: msg } : {}) };
    }
    return { visible: true, status: 'active' };
  }

  /** Everything registry-info and registry-find show about an entry under policy, in one object. */
  trustView(entry: Entry, approvals?: Record<string, unknown>, opts: { source?: string } = {}): TrustView {
    const rule = withCatalogLifecycle(this.entryRule(entry), entry);
    const life = this.lifecycle(rule);
    const d = this.decide(entry, approvals, opts);
    const vis = this.visibility(entry);
    const lifecycle = life.state === 'disabled' ? 'disabled' : vis.status === 'deprecated' ? 'deprecated' : 'active';
    const warning = d.warning ?? (lifecycle === 'deprecated' ? `${entry.id} is deprecated${vis.statusMessage ? `: ${vis.statusMessage}` : ''}` : undefined);
    return {
      status: d.allowed ? 'allowed' : d.needsApproval ? 'needs-approval' : 'denied',
      lifecycle,
      visible: vis.visible,
      reason: d.reason,
      ...(warning ? { warning } : {}),
      ...(rule.sunset ? { sunset: rule.sunset } : {}),
      ...(rule.message ? { message: rule.message } : {}),
      ...(d.command ? { command: d.command } : {}),
      ...(this.environment ? { environment: this.environment } : {}),
      ...(rule.environments ? { environments: rule.environments } : {}),
      ...(this.requireSignedFor(entry) ? { signature: signatureStanding(entry, d.launch?.source).outcome } : {}),
    };
  }

  /** A short trust status for listings: allowed / denied / needs-approval, with the reason. */
  trust(entry: Entry, approvals?: Record<string, unknown>, opts: { source?: string } = {}): { status: 'allowed' | 'denied' | 'needs-approval'; reason: string; warning?: string } {
    const d = this.decide(entry, approvals, opts);
    return { status: d.allowed ? 'allowed' : d.needsApproval ? 'needs-approval' : 'denied', reason: d.reason, ...(d.warning ? { warning: d.warning } : {}) };
  }

  /** Add `id` to allow (and drop it from deny) in policy.yaml, keeping its comments. */
  allow(id: string): Promise<PolicyChange> {
    return this.edit(id, 'allow', 'deny');
  }

  /** Add `id` to deny (and drop it from allow) in policy.yaml, keeping its comments. */
  deny(id: string): Promise<PolicyChange> {
    return this.edit(id, 'deny', 'allow');
  }

  private async edit(id: string, addTo: 'allow' | 'deny', removeFrom: 'allow' | 'deny'): Promise<PolicyChange> {
    const pattern = id.trim();
    if (!pattern || /\s/.test(pattern)) throw new PolicyError(`"${id}" is not an entry id or pattern (e.g. docker/postgres or docker/*)`);
    const result = await withFileLock(this.file, async () => {
      // Re-read under the lock: another process may have edited the file since this Policy was loaded.
      let text: string | undefined;
      let mode = 0o644;
      try {
        text = await readFile(this.file, 'utf8');
        mode = (await stat(this.file)).mode & 0o777;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new PolicyError(`cannot read ${this.file}: ${errorMessage(err)}`);
      }
      const { doc } = parsePolicy(text ?? NEW_FILE, this.file);
      const removed = removeItem(doc, removeFrom, pattern);
      const added = addItem(doc, addTo, pattern);
      if (added || removed || text === undefined) await writeFileAtomic(this.file, doc.toString(), mode);
      const fresh = parsePolicy(doc.toString(), this.file).data;
      return { added, removed, fresh };
    });
    this.setData(result.fresh);
    this.existed = true;
    const parts: string[] = [];
    if (result.added) parts.push(`added "${pattern}" to ${addTo}`);
    if (result.removed) parts.push(`removed it from ${removeFrom}`);
    let message = parts.length ? `${capitalize(parts.join(' and '))} in ${this.file}.` : `"${pattern}" was already in ${addTo} in ${this.file}; nothing changed.`;
    if (addTo === 'allow') {
      const blocker = this.denyRe.find(([, re]) => re.test(pattern))?.[0];
      if (blocker) message += ` Note: deny pattern "${blocker}" still matches it, and a deny always wins; remove that line from deny to let it start.`;
    }
    return { changed: result.added || result.removed, message };
  }

  toJSON(): unknown {
    return {
      file: this.file,
      exists: this.exists,
      environment: this.environment,
      allow: this.data.allow,
      deny: this.data.deny,
      trust: this.data.trust,
      remote: { allowPrivate: this.data.remote.allowPrivate ?? false, allowHttp: this.data.remote.allowHttp ?? false, allowHosts: this.data.remote.allowHosts ?? [] },
      requireDigest: this.data.requireDigest,
      requireSigned: this.data.requireSigned,
      requireApproval: this.data.requireApproval,
      scanSecrets: this.data.scanSecrets,
      destructive: this.data.destructive,
      entries: this.data.entries,
    };
  }
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The `mcp/…` image of a launch the Docker catalog lists (Docker builds and signs those). */
function dockerBuiltImage(choice: LaunchChoice, sourceTypes: Record<string, string>): string | undefined {
  if (sourceTypes[choice.source] !== 'docker' || choice.launch.type !== 'image') return undefined;
  // `mcp/x` is Docker Hub's `docker.io/mcp/x`, whichever of Hub's names it is written with.
  return dockerHubPath(choice.launch.image)?.startsWith('mcp/') ? tryQualifyImageRef(choice.launch.image) : undefined;
}

function describeOrigin(entry: Entry, choice: LaunchChoice | undefined, source: string, sourceTypes: Record<string, string>): string {
  const from = `${source}${sourceTypes[source] ? ` (${sourceTypes[source]})` : ''}`;
  const l = choice?.launch;
  const what = !l ? 'nothing runnable' : l.type === 'image' ? `image ${l.image}` : l.type === 'remote' ? 'a remote endpoint' : 'a package';
  const all = new Set(entry.sources.map((s) => s.source));
  const via = all.size > 1 && choice ? `the launch that would start is ${what} from ${from}` : `${what} from ${from}`;
  return `${via}; only launches from your own file sources and Docker-built mcp/ images are trusted by default`;
}
