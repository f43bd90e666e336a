/** Client allowlists for export: launches as client command lines or URLs, server names, deploy paths. */
import type { Entry, Launch } from '../model/entry.js';

/**
 * An organisation's approved catalog as the files client administrators deploy, so the approved set is enforced in
 * the clients too (`mcp-registry export <format>`). Formats and their sources: test/fixtures/client-formats/README.md.
 *
 * - `claude-code`: Claude Code managed settings (`/etc/claude-code/managed-settings.json`): `allowedMcpServers` (each
 *   approved server by URL pattern or exact command), `deniedMcpServers` (what policy denies), and
 *   `allowManagedMcpServersOnly: true` so users cannot widen the list.
 * - `claude-code-mcp`: Claude Code's `managed-mcp.json` (`/etc/claude-code/managed-mcp.json`): exactly the approved
 *   servers, as server configurations.
 * - `copilot`: GitHub Copilot's enterprise `managed-settings.json`: `allowedMcpServers` / `deniedMcpServers`.
 * - `vscode`: VS Code's policy file (`/etc/vscode/policy.json`): `ChatMCP: "registry"` and `McpGalleryServiceUrl`
 *   pointing at this registry's HTTP API (`serve-http`), which serves only the approved catalog.
 *
 * Rules match by URL or command, never by name alone (a user names a server whatever they like). The registry itself
 * is included (it runs approved servers in hardened containers) unless `withoutRegistry`.
 */

export const EXPORT_FORMATS = ['claude-code', 'claude-code-mcp', 'copilot', 'vscode'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Where an administrator deploys each format's file (Linux). */
export const DEPLOY_PATH: Record<ExportFormat, string> = {
  'claude-code': '/etc/claude-code/managed-settings.json',
  'claude-code-mcp': '/etc/claude-code/managed-mcp.json',
  copilot: 'managed-settings.json (the enterprise .github-private repository, or /etc via device management)',
  vscode: '/etc/vscode/policy.json',
};

/** How a client starts a server itself: a remote URL, or a command line. */
export type ClientLaunch = { kind: 'url'; type: 'http' | 'sse'; url: string; headers?: Record<string, string> } | { kind: 'command'; command: string[] };
export type ClientServer = ClientLaunch & { name: string; entryId: string };

export interface Skipped {
  id: string;
  why: string;
}

/** `{var}` URL/header placeholders (server.json) become a wildcard in a URL rule, `${VAR}` in a header value. */
const urlPattern = (url: string) => url.replace(/\{[A-Za-z0-9_.-]+\}/g, '*');
const headerTemplate = (v: string) => v.replace(/\{([A-Za-z0-9_.-]+)\}/g, (_m, k: string) => `\${${k.replace(/[^A-Za-z0-9_]/g, '_').toUpperCase()}}`);

/** A launch as the command or URL a client runs it with; undefined (with why) when a client cannot run it alone. */
export function clientLaunch(l: Launch): { ok: true; server: ClientLaunch } | { ok: false; why: string } {
  switch (l.type) {
    case 'remote': {
      const headers = Object.fromEntries((l.headers ?? []).filter((h) => h.value !== undefined).map((h) => [h.name, headerTemplate(h.value!)]));
      return { ok: true, server: { kind: 'url', type: l.transport === 'sse' ? 'sse' : 'http', url: l.url, ...(Object.keys(headers).length ? { headers } : {}) } };
    }
    case 'image':
      return { ok: true, server: { kind: 'command', command: ['docker', 'run', '-i', '--rm', l.image] } };
    case 'package': {
      if (l.transport.type !== 'stdio' && l.transport.url) return { ok: true, server: { kind: 'url', type: l.transport.type === 'sse' ? 'sse' : 'http', url: l.transport.url } };
      const v = l.version;
      if (l.registryType === 'npm') return { ok: true, server: { kind: 'command', command: ['npx', '-y', v ? `${l.identifier}@${v}` : l.identifier] } };
      if (l.registryType === 'pypi') return { ok: true, server: { kind: 'command', command: ['uvx', v ? `${l.identifier}==${v}` : l.identifier] } };
      if (l.registryType === 'oci') return { ok: true, server: { kind: 'command', command: ['docker', 'run', '-i', '--rm', l.identifier] } };
      return { ok: false, why: `a ${l.registryType} package has no command line a client runs by itself` };
    }
    case 'poci':
      return { ok: false, why: 'its tools each run in their own container; only the registry can run it' };
  }
}

/** A client server name (`^[a-zA-Z0-9_-]+$`, Claude Code's rule) from an entry, unique within `taken`. */
function clientName(e: Entry, taken: Set<string>): string {
  const base = (e.nativeName.slice(e.nativeName.lastIndexOf('/') + 1) || e.id).replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'server';
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
  taken.add(name);
  return name;
}

export function clientServers(entries: readonly Entry[], taken = new Set<string>()): { servers: ClientServer[]; skipped: Skipped[] } {
  const servers: ClientServer[] = [];
  const skipped: Skipped[] = [];
  for (const e of entries) {
    if (!e.launch.length) {
      skipped.push({ id: e.id, why: 'the catalog lists no way to run it' });
      continue;
    }
    const mapped = clientLaunch(e.launch[0]!);
    if (!mapped.ok) skipped.push({ id: e.id, why: mapped.why });
    else servers.push({ ...mapped.server, name: clientName(e, taken), entryId: e.id });
  }
  return { servers, skipped };
}

/** The registry itself as a client runs it (installed, or through npx). */
const REGISTRY_COMMANDS = [['mcp-registry'], ['npx', '-y', 'mcp-registry']];

type Rule = { serverUrl: string } | { serverCommand: string[] };
const ruleOf = (s: ClientServer): Rule => (s.kind === 'url' ? { serverUrl: urlPattern(s.url) } : { serverCommand: s.command });

function uniqueRules(rules: Rule[]): Rule[] {
  const seen = new Set<string>();
  return rules.filter((r) => {
    const k = JSON.stringify(r);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export interface ExportInput {
  approved: readonly Entry[];
  denied: readonly Entry[];
  /** vscode: the registry's HTTP API base URL (what `serve-http` serves). */
  registryUrl?: string;
  withoutRegistry?: boolean;
}

export class ExportError extends Error {}

export function exportAllowlist(format: ExportFormat, input: ExportInput): { document: Record<string, unknown>; servers: ClientServer[]; skipped: Skipped[] } {
  if (format === 'vscode') {
    if (!input.registryUrl || !/^https?:\/\//.test(input.registryUrl)) {
      throw new ExportError('vscode: give --registry-url URL, the address where `mcp-registry serve-http` serves the approved catalog (VS Code then allows only servers from it)');
    }
    return { document: { ChatMCP: 'registry', McpGalleryServiceUrl: input.registryUrl }, servers: [], skipped: [] };
  }
  const taken = new Set<string>(input.withoutRegistry ? [] : ['registry']);
  const { servers, skipped } = clientServers(input.approved, taken);
  const deniedServers = clientServers(input.denied, new Set()).servers;
  const self = input.withoutRegistry ? [] : REGISTRY_COMMANDS.map((command) => ({ serverCommand: command }));
  if (format === 'claude-code-mcp') {
    const mcpServers: Record<string, unknown> = {};
    if (!input.withoutRegistry) mcpServers.registry = { type: 'stdio', command: 'mcp-registry', args: [] };
    for (const s of servers) {
      mcpServers[s.name] =
        s.kind === 'url' ? { type: s.type, url: s.url, ...(s.headers ? { headers: s.headers } : {}) } : { type: 'stdio', command: s.command[0], args: s.command.slice(1) };
    }
    return { document: { mcpServers }, servers, skipped };
  }
  const allowedMcpServers = uniqueRules([...self, ...servers.map(ruleOf)]);
  const deniedMcpServers = uniqueRules(deniedServers.map(ruleOf));
  const document: Record<string, unknown> = { allowedMcpServers, deniedMcpServers };
  if (format === 'claude-code') document.allowManagedMcpServersOnly = true;
  return { document, servers, skipped };
}
