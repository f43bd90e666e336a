/** Profiles: named sets of servers with their non-secret settings, from config.yaml or shareable YAML files. */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../util/atomic-write.js';
import { describeIssue, endSentence } from '../util/schema-issues.js';

/*
 * A profile lists servers (catalog id, non-secret settings, optionally a version) and may set tools.expose. It is
 * defined under `profiles:` in config.yaml or kept as `<profiles dir>/<name>.yaml` (default: `profiles/` beside
 * config.yaml; `profiles.dir` points it elsewhere, e.g. at a git checkout a team shares). A profile never holds
 * secret values: saving leaves them out, and activation refuses a profile naming a declared secret
 * (tools/registry-profile.ts checks it against the catalog).
 */

export const PROFILE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/;
const NAME_RULE = 'a profile name is 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit';

export const ProfileServerSchema = z.strictObject({
  /** The catalog id (or an alias registry-add accepts). */
  id: z.string().trim().min(1),
  /** Non-secret settings, as registry-config-set takes them. */
  settings: z.record(z.string(), z.unknown()).optional(),
  version: z.string().min(1).optional(),
});
export type ProfileServer = z.infer<typeof ProfileServerSchema>;

export const ProfileSchema = z.strictObject({
  description: z.string().optional(),
  servers: z.array(ProfileServerSchema).default([]),
  /** Exposure of mounted tools while this profile is the one a registry started with (the --tools flag wins). */
  tools: z.strictObject({ expose: z.enum(['all', 'lazy']) }).optional(),
});
export type Profile = z.infer<typeof ProfileSchema>;

/** `profiles:` in config.yaml: `dir` (where profile files are) and profiles by name. */
export const ProfilesConfigSchema = z
  .object({ dir: z.string().min(1).optional() })
  .catchall(ProfileSchema)
  .superRefine((v, ctx) => {
    for (const name of Object.keys(v)) {
      if (name !== 'dir' && !PROFILE_NAME.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: `"${name}" is not a usable profile name: ${NAME_RULE}` });
    }
  });
export type ProfilesConfig = z.infer<typeof ProfilesConfigSchema>;

export function profileNameProblem(name: string): string | undefined {
  return PROFILE_NAME.test(name) ? undefined : `"${name.slice(0, 80)}" is not a usable profile name: ${NAME_RULE}.`;
}

/** Where a profile was found: config.yaml, or its file. */
export interface FoundProfile {
  name: string;
  profile: Profile;
  /** config.yaml's path, or the profile file's. */
  from: string;
  inConfig: boolean;
}

/** Profiles of config.yaml and of the profiles dir, by name (config.yaml's win: it is the user's own file). */
export class ProfileStore {
  readonly dir: string;

  constructor(
    private readonly configFile: string,
    private readonly config: ProfilesConfig | undefined,
  ) {
    // parseConfig resolved a relative dir against config.yaml's folder.
    this.dir = config?.dir ?? join(dirname(configFile), 'profiles');
  }

  fileOf(name: string): string {
    return join(this.dir, `${name}.yaml`);
  }

  /** The profile by name, or undefined when there is none; throws when its file is not a valid profile. */
  async get(name: string): Promise<FoundProfile | undefined> {
    const problem = profileNameProblem(name);
    if (problem) throw new Error(problem);
    const own = this.inConfig(name);
    if (own) return { name, profile: own, from: this.configFile, inConfig: true };
    const file = this.fileOf(name);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new Error(`cannot read ${file}: ${(err as Error).message}`);
    }
    return { name, profile: await parseProfile(text, file), from: file, inConfig: false };
  }

  /** Every profile's name and where it is (files that do not parse are listed with their problem). */
  async list(): Promise<Array<{ name: string; from: string; servers?: number; description?: string; problem?: string }>> {
    const out = new Map<string, { name: string; from: string; servers?: number; description?: string; problem?: string }>();
    let files: string[] = [];
    try {
      files = (await readdir(this.dir)).filter((f) => f.endsWith('.yaml') && PROFILE_NAME.test(f.slice(0, -5))).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read ${this.dir}: ${(err as Error).message}`);
    }
    for (const f of files) {
      const name = f.slice(0, -5);
      const file = join(this.dir, f);
      try {
        const p = await parseProfile(await readFile(file, 'utf8'), file);
        out.set(name, { name, from: file, servers: p.servers.length, ...(p.description ? { description: p.description } : {}) });
      } catch (err) {
        out.set(name, { name, from: file, problem: (err as Error).message });
      }
    }
    for (const [name, p] of Object.entries(this.config ?? {})) {
      if (name === 'dir' || typeof p !== 'object') continue;
      const prof = p as Profile;
      out.set(name, { name, from: this.configFile, servers: prof.servers.length, ...(prof.description ? { description: prof.description } : {}) });
    }
    return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Write a profile file (a profile defined in config.yaml is edited there, not shadowed by a file). */
  async save(name: string, profile: Profile): Promise<string> {
    const problem = profileNameProblem(name);
    if (problem) throw new Error(problem);
    if (this.inConfig(name)) throw new Error(`profile "${name}" is defined in ${this.configFile}; edit it there, or save under another name`);
    const { stringify } = await import('yaml');
    const file = this.fileOf(name);
    const { mkdir } = await import('node:fs/promises');
    await mkdir(this.dir, { recursive: true });
    const header = `# mcp-registry profile "${name}": servers and their non-secret settings (secrets are never written here).\n# Activate: mcp-registry --profile ${name}, or registry-profile {"action": "activate", "name": "${name}"}.\n`;
    await writeFileAtomic(file, header + stringify(ProfileSchema.parse(profile)), 0o644);
    return file;
  }

  private inConfig(name: string): Profile | undefined {
    if (name === 'dir') return undefined;
    const p = this.config?.[name];
    return p && typeof p === 'object' ? (p as Profile) : undefined;
  }
}

/** A profile file's text as a profile; the error names the file, the line and what to fix. */
export async function parseProfile(text: string, file: string): Promise<Profile> {
  const { parseYamlSource, locateIn } = await import('../util/yaml-issues.js');
  const parsed = parseYamlSource(text, file);
  if ('error' in parsed) throw new Error(`${parsed.error}. Fix the file and activate it again.`);
  const res = ProfileSchema.safeParse(parsed.value);
  if (!res.success) {
    const shown = res.error.issues.slice(0, 3).map((i) => describeIssue(i, { file, schema: ProfileSchema, raw: parsed.value, locate: locateIn(parsed.source) }));
    throw new Error(`${endSentence(shown.join('; '))} Fix the file and activate it again.`);
  }
  return res.data;
}
