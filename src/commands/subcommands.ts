/** The read-only CLI subcommands (search, info, list): the MCP tools' modules printing text or JSON. */
import { createApp, type App } from '../assemble.js';
import { checkCategory, checkSources } from '../catalog/lookups.js';
import { entryInfo, listPage } from '../catalog/pages.js';
import { describeSnapshot, emptyCatalogMessage, findItem, formatFindText, formatRefresh } from '../catalog/views.js';
import { ToolError } from '../model/tool-contract.js';
import { z } from 'zod';

/** CLI subcommands: the same modules as the MCP tools, printing text or JSON on stdout. */

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : s + '\n');

/** The policy as the server sees it: this config's source types and environment. Loaded only by commands that need it. */
export async function loadPolicy(app: App) {
  const { Policy, sourceTypesOf } = await import('../governance/policy.js');
  return Policy.load(app.paths.policyFile, sourceTypesOf(app.config.sources), { environment: app.config.environment });
}

export async function search(query: string, opts: { limit?: string; json: boolean; sources?: string[]; category?: string; runnable?: boolean }): Promise<number> {
  if (!query.trim()) {
    process.stderr.write('mcp-registry search: give a query, e.g. mcp-registry search "query a postgres database"\n');
    return 2;
  }
  const limit = z.coerce.number().int().min(1).max(50).safeParse(opts.limit ?? 10);
  if (!limit.success) {
    process.stderr.write(`mcp-registry search: --limit must be a whole number from 1 to 50 (got "${opts.limit}")\n`);
    return 2;
  }
  const app = await createApp();
  try {
    // As registry-find: an unknown source or category is a mistake to point out, not a filter that finds nothing.
    checkSources(app.catalog, opts.sources ?? []);
    checkCategory(opts.category);
  } catch (err) {
    process.stderr.write(`mcp-registry search: ${(err as Error).message}\n`);
    return 2;
  }
  if (!(await haveData(app))) return 1;
  // The same policy view as registry-find: disabled and other-environment entries are hidden, deprecated flagged.
  const view = await policyView(app);
  const hits = app.catalog.search(query, {
    limit: limit.data,
    filters: { sources: opts.sources, category: opts.category, runnable: opts.runnable, visible: (e) => view.visible(e.id) },
  });
  const results = hits.map((h) => findItem(h.entry, h.score, view.hooks));
  const snapshot = app.catalog.snapshotUse();
  out(opts.json ? JSON.stringify({ results, ...(snapshot ? { snapshot } : {}) }, null, 2) : formatFindText(query, results, 'cli'));
  if (snapshot && !opts.json) process.stderr.write(`(${describeSnapshot({ ...snapshot, refreshing: false }, 'mcp-registry refresh')})\n`);
  return 0;
}

/** A first run fetches the sources (progress on stderr); false (with the reason said) when nothing could be fetched. */
export async function haveData(app: App): Promise<boolean> {
  if (!app.catalog.hasData) {
    process.stderr.write('The catalog is empty (first run): fetching sources, this can take a while…\n');
    await app.catalog.ready((p) => process.stderr.write(`  ${p.source}: ${p.message}\n`));
  }
  if (app.catalog.hasData) return true;
  process.stderr.write(emptyCatalogMessage(await app.catalog.status(), 'cli') + '\n');
  return false;
}

/** The catalog view registry-find/-list/-info use (governance/catalog-view.ts), with this registry's approvals. */
async function policyView(app: App) {
  const [{ StateStore }, { governedCatalog }] = await Promise.all([import('../store/state.js'), import('../governance/catalog-view.js')]);
  const view = governedCatalog({ policyFile: app.paths.policyFile, sources: () => app.config.sources, environment: app.config.environment, state: new StateStore(app.paths.stateDir), lookup: (id) => app.catalog.get(id) });
  // A policy.yaml that cannot be read fails the command with the file's own error (the MCP server shows it instead).
  await view.loader.load();
  await view.prepare();
  return { visible: view.visible, hooks: { trust: view.trust } };
}

/** `mcp-registry info <id>`: what registry-info shows, for a person at a terminal. */
export async function info(id: string, opts: { json: boolean }): Promise<number> {
  const target = id.trim();
  if (!target) {
    process.stderr.write('mcp-registry info: give an entry id, e.g. mcp-registry info docker/postgres (mcp-registry search finds ids)\n');
    return 2;
  }
  const app = await createApp();
  if (!(await haveData(app))) return 1;
  return cliResult('info', async () => {
    const res = await entryInfo(app.catalog, target, await policyView(app), 'cli');
    out(opts.json ? JSON.stringify(res.structured, null, 2) : res.text);
  });
}

/** `mcp-registry list`: the catalog page by page, as registry-list pages it. */
export async function list(opts: { source?: string; category?: string; limit?: string; cursor?: string; json: boolean }): Promise<number> {
  const limit = z.coerce.number().int().min(1).max(200).safeParse(opts.limit ?? 50);
  if (!limit.success) {
    process.stderr.write(`mcp-registry list: --limit must be a whole number from 1 to 200 (got "${opts.limit}")\n`);
    return 2;
  }
  const app = await createApp();
  try {
    if (opts.source !== undefined) checkSources(app.catalog, [opts.source]);
    checkCategory(opts.category);
  } catch (err) {
    process.stderr.write(`mcp-registry list: ${(err as Error).message}\n`);
    return 2;
  }
  if (!(await haveData(app))) return 1;
  return cliResult('list', async () => {
    const page = listPage(app.catalog, { source: opts.source, category: opts.category, cursor: opts.cursor, limit: limit.data }, await policyView(app), 'cli');
    out(opts.json ? JSON.stringify(page.structured, null, 2) : page.text);
  });
}

/** A tool-style failure (no such id, a bad cursor) is the user's to fix: its message and exit code 1, no doctor hint. */
export async function cliResult(cmd: string, fn: () => Promise<void>): Promise<number> {
  try {
    await fn();
    return 0;
  } catch (err) {
    if (!(err instanceof ToolError)) throw err;
    process.stderr.write(`mcp-registry ${cmd}: ${err.message}\n`);
    return 1;
  }
}

export async function refresh(opts: { source?: string; force: boolean; json: boolean }): Promise<number> {
  const app = await createApp();
  const outcomes = await app.catalog.refresh({
    source: opts.source,
    force: opts.force,
    onProgress: (p) => process.stderr.write(`  ${p.source}: ${p.message}\n`),
  });
  out(opts.json ? JSON.stringify({ sources: outcomes }, null, 2) : formatRefresh(outcomes, 'cli'));
  return outcomes.some((o) => o.status === 'error') ? 1 : 0;
}

export async function status(opts: { json: boolean }): Promise<number> {
  const app = await createApp();
  const sources = await app.catalog.status();
  if (opts.json) out(JSON.stringify({ sources, entries: app.catalog.size }, null, 2));
  else {
    out(`Catalog: ${app.catalog.size} entries (${app.paths.cacheDir})`);
    for (const s of sources) {
      out(`- ${s.name} (${s.type}): ${s.enabled ? `${s.entries} entries` : 'disabled'}${s.snapshot ? ` (snapshot from ${s.snapshot.slice(0, 10)})` : ''}${s.lastRefresh ? `, refreshed ${s.lastRefresh}` : ', never refreshed'}${s.lastError ? `\n    last error: ${s.lastError}` : ''}`);
    }
  }
  return 0;
}

export async function doctor(): Promise<number> {
  const { runDoctor, formatDoctor } = await import('./doctor.js');
  const { resolvePaths } = await import('../config/paths.js');
  const res = await runDoctor(resolvePaths());
  out(formatDoctor(res));
  return res.ok ? 0 : 1;
}

/** Serve the catalog over HTTP until SIGTERM/SIGINT (see src/http/serve.ts). */
export async function serveHttp(flags: Parameters<typeof import('../http/serve.js').parseServeFlags>[0]): Promise<number> {
  const { parseServeFlags, runHttpServer } = await import('../http/serve.js');
  const opts = parseServeFlags(flags);
  if (typeof opts === 'string') {
    process.stderr.write(`mcp-registry serve-http: ${opts}\n`);
    return 2;
  }
  const code = await runHttpServer(await createApp(), opts);
  // A background refresh (git, crawl) may still hold the event loop; it must not keep a stopped server alive.
  setTimeout(() => process.exit(code), 2_000).unref();
  return code;
}

/** `mcp-registry allow <id>`: add it to policy.yaml's allow list (comments kept); an alias resolves to its entry. */
export function allow(id: string): Promise<number> {
  return editPolicy('allow', id);
}

/** `mcp-registry deny <id>`: add it to policy.yaml's deny list, which beats every allow. */
export function deny(id: string): Promise<number> {
  return editPolicy('deny', id);
}

async function editPolicy(action: 'allow' | 'deny', id: string): Promise<number> {
  const target = id.trim();
  if (!target || /\s/.test(target)) {
    process.stderr.write(`mcp-registry ${action}: give one entry id or pattern, e.g. mcp-registry ${action} docker/postgres (or docker/*)\n`);
    return 2;
  }
  const app = await createApp();
  let entry = /[*?]/.test(target) ? undefined : app.catalog.get(target);
  // A launch read from its detail page (cached when the server first asked) is the one the rule judges.
  if (entry && !entry.launch.length) entry = await app.catalog.withDetail(entry);
  // The id a source lists the server under is kept as written: an allow vouches for that source's launch only.
  const sourceListing = entry?.sources.find((s) => s.id.toLowerCase() === target.toLowerCase());
  const ruleId = sourceListing?.id ?? entry?.id ?? target;
  if (entry && ruleId !== target) process.stderr.write(`"${target}" is another name of ${entry.id}; the rule is saved for ${entry.id}.\n`);
  else if (!entry && !/[*?]/.test(target) && app.catalog.hasData) {
    process.stderr.write(`Note: "${target}" is not in the catalog (yet); the rule is saved as written.\n`);
  }
  const policy = await loadPolicy(app);
  const change = await cliAudited(app, { op: action, entry: ruleId }, () => policy[action](ruleId));
  out(change.message);
  if (entry) {
    const d = policy.decide(entry);
    const which = entry.sources.length > 1 && d.launch ? ` (its default launch, from source "${d.launch.source}")` : '';
    out(`${entry.id}${which} is now ${d.allowed ? 'allowed' : d.needsApproval ? 'waiting for approval' : 'blocked'}: ${d.reason}`);
    if (action === 'allow' && sourceListing && d.launch && sourceListing.source !== d.launch.source) {
      out(`The rule vouches for the launch from source "${sourceListing.source}" only; registry-add with "source": "${sourceListing.source}" runs that one.`);
    }
  }
  return 0;
}

/** `mcp-registry audit`: the audit log, oldest first, filtered; damaged lines are counted on stderr. */
export async function audit(opts: { since?: string; entry?: string; op?: string; limit?: string; json: boolean }): Promise<number> {
  const [{ readAudit }, { parseSince, formatAudit }, { AUDIT_OPS }] = await Promise.all([
    import('../governance/audit-read.js'),
    import('../governance/audit-format.js'),
    import('../governance/audit-record.js'),
  ]);
  const { resolvePaths } = await import('../config/paths.js');
  const { loadConfig } = await import('../config/config.js');
  const fail = (msg: string) => {
    process.stderr.write(`mcp-registry audit: ${msg}\n`);
    return 2;
  };
  let since: Date | undefined;
  try {
    since = opts.since ? parseSince(opts.since) : undefined;
  } catch (err) {
    return fail(`--since: ${(err as Error).message}`);
  }
  const limit = opts.limit === undefined ? undefined : Number(opts.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) return fail(`--limit must be a whole number above 0 (got "${opts.limit}")`);
  if (opts.op && !(AUDIT_OPS as readonly string[]).includes(opts.op)) return fail(`--op must be one of ${AUDIT_OPS.join(', ')} (got "${opts.op}")`);
  const paths = resolvePaths();
  const config = await loadConfig(paths.configFile);
  const res = await readAudit(paths.stateDir, { since, entry: opts.entry, op: opts.op as never, limit }, { keep: config.audit.keep });
  if (res.skipped) process.stderr.write(`${res.skipped} damaged line(s) skipped (a crash mid-write leaves at most one per crash).\n`);
  out(opts.json ? JSON.stringify({ records: res.records }, null, 2) : formatAudit(res.records));
  return 0;
}

/** Run a CLI change with one audit record for it (client "cli"). */
async function cliAudited<T>(app: { paths: { stateDir: string }; config: { audit: { maxSize: number; keep: number } } }, call: { op: import('../governance/audit-record.js').AuditOp; entry?: string }, fn: () => Promise<T>): Promise<T> {
  const { AuditLog, auditToolCall } = await import('../governance/audit-log.js');
  const log = new AuditLog(app.paths.stateDir, { instance: `cli-${process.pid}`, maxBytes: app.config.audit.maxSize, keep: app.config.audit.keep });
  try {
    return await auditToolCall(log, { ...call, client: 'cli' }, fn);
  } finally {
    await log.close();
  }
}

/** `mcp-registry approve <id>`: accept the image and tools a start refused or withheld because they changed. */
export async function approve(id: string, opts: { json: boolean }): Promise<number> {
  const target = id.trim();
  if (!target || /\s/.test(target)) {
    process.stderr.write('mcp-registry approve: give one entry id, e.g. mcp-registry approve docker/github-official\n');
    return 2;
  }
  const { PinStore } = await import('../governance/pins.js');
  const { StateStore } = await import('../store/state.js');
  const app = await createApp();
  const pins = new PinStore(new StateStore(app.paths.stateDir));
  // Pins are kept under the canonical id; an alias finds its entry through the catalog.
  const entryId = (await pins.get(target)) ? target : (app.catalog.get(target)?.id ?? target);
  const result = await cliAudited(app, { op: 'approve', entry: entryId }, () => pins.approve(entryId, { by: 'mcp-registry approve' }));
  if (opts.json) out(JSON.stringify(result, null, 2));
  else {
    out(result.message);
    if (result.tools?.changed.length) out(`  changed tools: ${result.tools.changed.map((c) => c.name).join(', ')}`);
    if (result.tools?.added.length) out(`  new tools: ${result.tools.added.join(', ')}`);
    if (!result.changed) {
      const waiting = await pins.listPending();
      if (waiting.length) out(`Waiting for approval: ${waiting.map((w) => w.entryId).join(', ')}.`);
    }
  }
  return 0;
}

/** `mcp-registry policy [<id>]`: the effective policy, or how one entry stands under it (and its pins). */
export async function showPolicy(id: string, opts: { json: boolean }): Promise<number> {
  const { PinStore, describeToolDiff, pinSummary } = await import('../governance/pins.js');
  const { StateStore } = await import('../store/state.js');
  const app = await createApp();
  const policy = await loadPolicy(app);
  const target = id.trim();
  if (!target) {
    const shown = policy.toJSON() as Record<string, unknown>;
    if (opts.json) out(JSON.stringify(shown, null, 2));
    else {
      const { stringify } = await import('yaml');
      out(`# ${policy.file}${policy.exists ? '' : ' (does not exist: the defaults)'}; environment: ${policy.environment ?? 'unset'}`);
      const { file: _f, exists: _e, environment: _v, ...rest } = shown;
      out(stringify(rest).trimEnd());
    }
    return 0;
  }
  const entry = app.catalog.get(target);
  if (!entry) {
    process.stderr.write(`mcp-registry policy: "${target}" is not in the catalog${app.catalog.hasData ? '' : ' (it is empty: run mcp-registry refresh)'}; mcp-registry search finds ids.\n`);
    return 1;
  }
  const state = new StateStore(app.paths.stateDir);
  const approvals = (await state.read()).approvals;
  const pins = new PinStore(state);
  const shown = {
    id: entry.id,
    trust: policy.trustView(entry, approvals),
    governance: policy.governanceFor(entry),
    overrides: policy.overridesFor(entry),
    ...(policy.toolsFor(entry) ? { tools: policy.toolsFor(entry) } : {}),
    pins: (await pins.get(entry.id)) ?? null,
    pending: (await pins.pending(entry.id)) ?? null,
  };
  if (opts.json) out(JSON.stringify(shown, null, 2));
  else {
    const t = shown.trust;
    out(`${entry.id}: ${t.status} (${t.reason})`);
    out(`  lifecycle: ${t.lifecycle}${t.sunset ? `, available until ${t.sunset}` : ''}${t.visible ? '' : ', hidden here'}; environment ${t.environment ?? 'unset'}${t.environments ? ` (allowed in ${t.environments.join(', ')})` : ''}`);
    if (t.warning) out(`  warning: ${t.warning}`);
    if (t.command) out(`  to allow: ${t.command}`);
    const g = shown.governance;
    out(`  remote: allowPrivate ${g.remote.allowPrivate}, allowHttp ${g.remote.allowHttp}${g.remote.allowHosts.length ? `, allowHosts ${g.remote.allowHosts.join(', ')}` : ''}; requireDigest ${g.requireDigest}; scanSecrets ${g.scanSecrets}; destructive ${g.destructive}`);
    if (Object.keys(shown.overrides).length) out(`  container overrides: ${JSON.stringify(shown.overrides)}`);
    const p = shown.pins;
    out(p ? `  pinned: ${pinSummary(p)} (approved ${p.approvedAt})` : '  pinned: nothing yet (the first start pins image and tools)');
    if (shown.pending) out(`  waiting for approval (mcp-registry approve ${entry.id}): ${shown.pending.image ? `image ${shown.pending.image.newId.slice(0, 12)}` : ''}${shown.pending.image && shown.pending.tools ? '; ' : ''}${shown.pending.tools ? `tools ${describeToolDiff(shown.pending.tools)}` : ''}`);
  }
  return 0;
}
