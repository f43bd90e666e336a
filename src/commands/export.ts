/** `mcp-registry export <format>`: the client allowlist files (Claude Code, Copilot, VS Code) policy approves. */
import { writeFile } from 'node:fs/promises';
import type { Entry } from '../model/entry.js';
import { DEPLOY_PATH, EXPORT_FORMATS, exportAllowlist, ExportError, type ExportFormat } from '../governance/client-allowlists.js';

export interface ExportOptions {
  out?: string;
  registryUrl?: string;
  source?: string[];
  withoutRegistry: boolean;
}

/**
 * `mcp-registry export <format>`: the approved catalog — entries policy allows (policy.yaml allow rules and trust
 * defaults; one-time approvals on this machine do not count for an organisation) that are visible here and that
 * their catalog lets run in this environment — as a client allowlist file. Denied entries become deny rules.
 */
export async function exportCommand(format: string, opts: ExportOptions): Promise<number> {
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
    process.stderr.write(`mcp-registry export: give a format: ${EXPORT_FORMATS.join(', ')} (got "${format}")\n`);
    return 2;
  }
  const { createApp } = await import('../assemble.js');
  const { haveData } = await import('./subcommands.js');
  const { Policy, sourceTypesOf } = await import('../governance/policy.js');
  const app = await createApp();
  const unknown = (opts.source ?? []).filter((s) => !app.config.sources.some((c) => c.name === s));
  if (unknown.length) {
    process.stderr.write(`mcp-registry export: no source named ${unknown.map((s) => `"${s}"`).join(', ')} in config.yaml (sources: ${app.config.sources.map((s) => s.name).join(', ')})\n`);
    return 2;
  }
  if (format !== 'vscode' && !(await haveData(app))) return 1;
  const environment = app.config.environment;
  const policy = await Policy.load(app.paths.policyFile, sourceTypesOf(app.config.sources), { environment });
  const approved: Entry[] = [];
  const denied: Entry[] = [];
  for (const e of format === 'vscode' ? [] : app.catalog.all()) {
    if (opts.source?.length && !e.sources.some((s) => opts.source!.includes(s.source))) continue;
    const d = policy.decide(e);
    const visible = policy.visibility(e).visible;
    // Hidden here (disabled, another environment, not for prod): simply not approved — the allowlist leaves it out.
    if (!d.allowed && !d.needsApproval) {
      if (visible) denied.push(e);
      continue;
    }
    // Policy's decision and visibility include the catalog's own word (status, envs, sunset, prod_allowed, signature).
    if (d.allowed && visible) approved.push(e);
  }
  try {
    const res = exportAllowlist(format as ExportFormat, { approved, denied, registryUrl: opts.registryUrl, withoutRegistry: opts.withoutRegistry });
    const text = JSON.stringify(res.document, null, 2) + '\n';
    if (opts.out) await writeFile(opts.out, text, { mode: 0o644 });
    else process.stdout.write(text);
    for (const s of res.skipped) process.stderr.write(`skipped ${s.id}: ${s.why}\n`);
    process.stderr.write(
      `${format}: ${format === 'vscode' ? 'registry-only access' : `${res.servers.length} approved server${res.servers.length === 1 ? '' : 's'}, ${denied.length} denied`}` +
        `${opts.out ? ` written to ${opts.out}` : ''}; deploy it as ${DEPLOY_PATH[format as ExportFormat]}\n`,
    );
    return 0;
  } catch (err) {
    if (!(err instanceof ExportError)) throw err;
    process.stderr.write(`mcp-registry export: ${err.message}\n`);
    return 2;
  }
}
