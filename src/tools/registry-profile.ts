// registry-profile: save what is mounted as a named profile, list and show profiles, activate one (also at start-up).
import { z } from 'zod';
import type { Entry } from '../model/entry.js';
import { ToolError, type ToolContext } from '../model/tool-contract.js';
import { oneLine } from '../model/entry.js';
import { looksLikeCredential } from '../governance/secret-scan.js';
import type { FoundProfile, Profile, ProfileServer, ProfileStore } from '../config/profiles.js';
import type { AddResult, MountInfo } from '../runtime/mounts/mount-info.js';
import { errorMessage } from '../util/log.js';
import { defineTool, type ToolDef } from './tool-def.js';

/*
 * A profile is a set of servers with their non-secret settings (config/profiles.ts keeps the files). Activating one
 * mounts each server through registry-add's own path (policy, approval, settings, pins), one after the other, and
 * reports per server whether it runs or what it still needs; a server that cannot start does not stop the others.
 * Secrets never enter a profile: saving leaves them out, and a profile that names a declared secret is refused
 * before anything starts, so a shared file cannot carry one from machine to machine.
 */

export interface ProfileDeps {
  /** The profiles of the config in effect (config.yaml may change while the registry runs). */
  store(): ProfileStore;
  /** Entry by id or alias (waits for the catalog). */
  resolve(id: string): Promise<Entry>;
  /** registry-add as the tool does it, and the mounts of now. */
  add(id: string, opts: { config?: Record<string, unknown>; version?: string }, ctx: ToolContext): Promise<Pick<AddResult, 'mount' | 'tools'>>;
  active(): MountInfo[];
  /** The non-secret settings stored for an entry. */
  settingsOf(id: string): Promise<Record<string, unknown>>;
}

export const ProfileServerReportSchema = z.object({
  id: z.string(),
  /** mounted: it runs (or is starting); not-started: `needs` says what to do; failed: `error` says why. */
  status: z.enum(['mounted', 'not-started']),
  prefix: z.string().optional(),
  tools: z.number().optional(),
  /** What it still needs before it can start (settings, secrets, approval), as the start gate said it. */
  needs: z.string().optional(),
});
export type ProfileServerReport = z.infer<typeof ProfileServerReportSchema>;

/** The declared secret a settings key names, in any source's config of the entry (none: entry unknown). */
async function secretNamedBy(entry: Entry | undefined): Promise<(key: string) => { name: string; env: string } | undefined> {
  if (!entry) return () => undefined;
  const { secretLookup } = await import('../runtime/settings.js');
  const lookups = [entry.config, ...Object.values(entry.configs ?? {})].map((config) => secretLookup({ ...entry, config }));
  return (key) => lookups.map((l) => l(key)).find(Boolean);
}

const looksSecret = (v: unknown) => typeof v === 'string' && looksLikeCredential(v).length > 0;

/** Why a profile may not be activated: a setting that is (or looks like) a secret value. Undefined when fine. */
export async function secretProblem(found: FoundProfile, entries: ReadonlyMap<string, Entry>): Promise<string | undefined> {
  for (const s of found.profile.servers) {
    const secretOf = await secretNamedBy(entries.get(s.id));
    for (const [key, value] of Object.entries(s.settings ?? {})) {
      const secret = secretOf(key);
      if (secret || looksSecret(value)) {
        const what = secret ? `the secret ${secret.name} (${secret.env})` : 'a value that looks like a credential';
        return `profile "${found.name}" (${found.from}) sets ${what} for ${s.id} under "${key}": a profile never holds secret values, so it was not activated and nothing started. Remove "${key}" from the profile and set it on this machine with registry-config-set {"id": "${s.id}", "values": {"${key}": "…"}}.`;
      }
    }
  }
  return undefined;
}

/** Mount every server of a profile in order; per server, whether it runs or what it needs. */
export async function activateProfile(found: FoundProfile, deps: ProfileDeps, ctx: ToolContext): Promise<ProfileServerReport[]> {
  const entries = new Map<string, Entry>();
  const unknown = new Map<string, string>();
  for (const s of found.profile.servers) {
    try {
      entries.set(s.id, await deps.resolve(s.id));
    } catch (err) {
      unknown.set(s.id, errorMessage(err));
    }
  }
  const problem = await secretProblem(found, entries);
  if (problem) throw new ToolError(problem);
  const out: ProfileServerReport[] = [];
  for (const [i, s] of found.profile.servers.entries()) {
    if (ctx.signal.aborted) break;
    ctx.progress(i, found.profile.servers.length, `starting ${s.id}…`);
    const missing = unknown.get(s.id);
    if (missing !== undefined) {
      out.push({ id: s.id, status: 'not-started', needs: missing });
      continue;
    }
    const id = entries.get(s.id)!.id;
    try {
      const settings = s.settings && Object.keys(s.settings).length ? s.settings : undefined;
      const { mount, tools } = await deps.add(id, { ...(settings ? { config: settings } : {}), ...(s.version ? { version: s.version } : {}) }, ctx);
      out.push({ id, status: 'mounted', prefix: mount.prefix, tools: tools.length });
    } catch (err) {
      out.push({ id, status: 'not-started', needs: errorMessage(err) });
    }
  }
  return out;
}

/** The profile of what is mounted now: each server's id, version asked for and non-secret settings. */
export async function profileOfMounts(deps: ProfileDeps, description?: string): Promise<{ profile: Profile; left: string[] }> {
  const servers: ProfileServer[] = [];
  const left: string[] = [];
  for (const m of deps.active()) {
    const secretOf = await secretNamedBy(await deps.resolve(m.id).catch(() => undefined));
    const settings: Record<string, unknown> = {};
    // Stored settings are non-secret by construction (secrets live in secrets.json); checked again all the same.
    for (const [k, v] of Object.entries(await deps.settingsOf(m.id))) {
      if (secretOf(k) || looksSecret(v)) left.push(`${m.id} ${k}`);
      else settings[k] = v;
    }
    servers.push({ id: m.id, ...(Object.keys(settings).length ? { settings } : {}), ...(m.version ? { version: m.version } : {}) });
  }
  return { profile: { ...(description ? { description } : {}), servers }, left };
}

/** `--profile NAME` on the command line (the stdio server activates it at start-up); undefined when absent. */
export function profileFlag(argv: readonly string[]): string | undefined {
  const i = argv.indexOf('--profile');
  if (i < 0) return undefined;
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error('--profile takes a profile name, e.g. --profile dev (registry-profile {"action": "list"} lists them)');
  return v;
}

export function formatActivation(name: string, reports: ProfileServerReport[]): string {
  const lines = [`Profile "${oneLine(name)}": ${reports.filter((r) => r.status === 'mounted').length} of ${reports.length} servers mounted.`];
  for (const r of reports) lines.push(r.status === 'mounted' ? `- ${r.id}: mounted as ${r.prefix}__* (${r.tools} tools)` : `- ${r.id}: not started — ${r.needs}`);
  return lines.join('\n');
}

const ACTIONS = ['save', 'activate', 'list', 'show'] as const;

export function registryProfile(deps: ProfileDeps): ToolDef {
  return defineTool({
    name: 'registry-profile',
    audit: 'profile',
    title: 'Profiles of servers',
    description:
      'Named sets of servers with their non-secret settings. save: keep what is mounted now under a name (a YAML file to share); activate: mount every server of a profile, reporting what each still needs; list; show.',
    input: z.strictObject({
      action: z.enum(ACTIONS),
      name: z.string().trim().min(1).max(64).optional().describe('the profile (save, activate, show)'),
      description: z.string().trim().max(500).optional().describe('save: what the profile is for'),
    }),
    output: z.object({
      action: z.enum(ACTIONS),
      name: z.string().optional(),
      /** The file or config.yaml the profile is in. */
      from: z.string().optional(),
      profile: z.record(z.string(), z.unknown()).optional(),
      profiles: z.array(z.object({ name: z.string(), from: z.string(), servers: z.number().optional(), description: z.string().optional(), problem: z.string().optional() })).optional(),
      servers: z.array(ProfileServerReportSchema).optional(),
      /** save: settings left out because they are (or look like) secrets. */
      leftOut: z.array(z.string()).optional(),
    }),
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    async handler(args, ctx) {
      const store = deps.store();
      if (args.action === 'list') {
        const profiles = await store.list();
        const text = profiles.length
          ? [`Profiles (files in ${store.dir}):`, ...profiles.map((p) => `- ${p.name}: ${p.problem ? `unusable: ${p.problem}` : `${p.servers} servers${p.description ? ` — ${oneLine(p.description)}` : ''}`} (${p.from})`)].join('\n')
          : `No profiles yet. Mount servers, then registry-profile {"action": "save", "name": "dev"} keeps them in ${store.dir}.`;
        return { text, structured: { action: 'list', profiles } };
      }
      if (!args.name) throw new ToolError(`registry-profile ${args.action} needs "name" (registry-profile {"action": "list"} lists the profiles).`);
      if (args.action === 'save') {
        if (!deps.active().length) throw new ToolError('Nothing is mounted, so there is nothing to save: registry-add the servers first, then save them as a profile.');
        const { profile, left } = await profileOfMounts(deps, args.description);
        const file = await store.save(args.name, profile).catch((err: unknown) => {
          throw new ToolError(`${errorMessage(err)}.`);
        });
        const text = [
          `Saved profile "${args.name}" to ${file}: ${profile.servers.map((s) => s.id).join(', ')} with their non-secret settings (secrets are never written to a profile).`,
          ...(left.length ? [`Left out as secrets: ${left.join(', ')}.`] : []),
          `Start a registry with it: mcp-registry --profile ${args.name}`,
        ].join('\n');
        return { text, structured: { action: 'save', name: args.name, from: file, profile, ...(left.length ? { leftOut: left } : {}) } };
      }
      const found = await store.get(args.name).catch((err: unknown) => {
        throw new ToolError(`${errorMessage(err)}`);
      });
      if (!found) throw new ToolError(`No profile "${args.name}" (not in config.yaml, no ${store.fileOf(args.name)}). registry-profile {"action": "list"} lists the profiles.`);
      if (args.action === 'show') {
        const lines = [`Profile "${found.name}" (${found.from})${found.profile.description ? `: ${oneLine(found.profile.description)}` : ''}`];
        for (const s of found.profile.servers) lines.push(`- ${s.id}${s.version ? `@${s.version}` : ''}${s.settings ? ` settings: ${Object.keys(s.settings).join(', ')}` : ''}`);
        return { text: lines.join('\n'), structured: { action: 'show', name: found.name, from: found.from, profile: found.profile } };
      }
      const servers = await activateProfile(found, deps, ctx);
      return { text: formatActivation(found.name, servers), structured: { action: 'activate', name: found.name, from: found.from, servers } };
    },
  });
}
