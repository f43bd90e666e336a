import { createApp } from './app.js';
import { findItem, formatFindText } from './catalog/views.js';
import { formatRefresh } from './server/catalog-tools.js';
import { z } from 'zod';

/** CLI subcommands: the same modules as the MCP tools, printing text or JSON on stdout. */

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : s + '\n');

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
  if (!app.catalog.hasData) {
    process.stderr.write('The catalog is empty (first run): fetching sources, this can take a while…\n');
    await app.catalog.ready((p) => process.stderr.write(`  ${p.source}: ${p.message}\n`));
  }
  const hits = app.catalog.search(query, { limit: limit.data, filters: { sources: opts.sources, category: opts.category, runnable: opts.runnable } });
  const results = hits.map((h) => findItem(h.entry, h.score));
  out(opts.json ? JSON.stringify({ results }, null, 2) : formatFindText(query, results));
  return 0;
}

export async function refresh(opts: { source?: string; force: boolean; json: boolean }): Promise<number> {
  const app = await createApp();
  const outcomes = await app.catalog.refresh({
    source: opts.source,
    force: opts.force,
    onProgress: (p) => process.stderr.write(`  ${p.source}: ${p.message}\n`),
  });
  out(opts.json ? JSON.stringify({ sources: outcomes }, null, 2) : formatRefresh(outcomes));
  return outcomes.some((o) => o.status === 'error') ? 1 : 0;
}

export async function status(opts: { json: boolean }): Promise<number> {
  const app = await createApp();
  const sources = await app.catalog.status();
  if (opts.json) out(JSON.stringify({ sources, entries: app.catalog.size }, null, 2));
  else {
    out(`Catalog: ${app.catalog.size} entries (${app.paths.cacheDir})`);
    for (const s of sources) {
      out(`- ${s.name} (${s.type}): ${s.enabled ? `${s.entries} entries` : 'disabled'}${s.lastRefresh ? `, refreshed ${s.lastRefresh}` : ', never refreshed'}${s.lastError ? `\n    last error: ${s.lastError}` : ''}`);
    }
  }
  return 0;
}

export async function doctor(): Promise<number> {
  const { runDoctor, formatDoctor } = await import('./doctor.js');
  const { resolvePaths } = await import('./paths.js');
  const res = await runDoctor(resolvePaths());
  out(formatDoctor(res));
  return res.ok ? 0 : 1;
}

/** Serve the catalog over HTTP until SIGTERM/SIGINT (see src/http/serve.ts). */
export async function serveHttp(flags: Parameters<typeof import('./http/serve.js').parseServeFlags>[0]): Promise<number> {
  const { parseServeFlags, runHttpServer } = await import('./http/serve.js');
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
  const { Policy, sourceTypesOf } = await import('./runtime/policy.js');
  const app = await createApp();
  const entry = /[*?]/.test(target) ? undefined : app.catalog.get(target);
  if (entry && entry.id !== target) process.stderr.write(`"${target}" is another name of ${entry.id}; the rule is saved for ${entry.id}.\n`);
  else if (!entry && !/[*?]/.test(target) && app.catalog.hasData) {
    process.stderr.write(`Note: "${target}" is not in the catalog (yet); the rule is saved as written.\n`);
  }
  const policy = await Policy.load(app.paths.policyFile, sourceTypesOf(app.config.sources), { environment: app.config.environment });
  const change = await policy[action](entry?.id ?? target);
  out(change.message);
  if (entry) {
    const d = policy.decide(entry);
    out(`${entry.id} is now ${d.allowed ? 'allowed' : d.needsApproval ? 'waiting for approval' : 'blocked'}: ${d.reason}`);
  }
  return 0;
}

/** `mcp-registry audit`: the audit log, oldest first, filtered; damaged lines are counted on stderr. */
export async function audit(opts: { since?: string; entry?: string; op?: string; limit?: string; json: boolean }): Promise<number> {
  const { readAudit, parseSince, formatAudit, AUDIT_OPS } = await import('./governance/audit-log.js');
  const { resolvePaths } = await import('./paths.js');
  const { loadConfig } = await import('./config.js');
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
