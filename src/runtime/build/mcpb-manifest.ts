/** The MCPB (DXT) bundle manifest: its schema, and turning it into an image launch with user_config. */
import { z } from 'zod';
import type { EnvSpec, SecretSpec } from '../../model/entry.js';

/**
 * An MCPB bundle's manifest.json (spec 0.1–0.3), read into what the launcher already knows how to run: an image
 * launch (command, env and volumes as launch-plan templates) plus the entry config its `user_config` becomes:
 * non-sensitive options are settings (a JSON Schema), sensitive ones secrets that reach the server only as
 * environment variables. Inside the image the bundle lives in /app, so `${__dirname}` is /app.
 */

export const BUNDLE_DIR = '/app';

const UserConfigOption = z.object({
  type: z.enum(['string', 'number', 'boolean', 'directory', 'file']),
  title: z.string().optional(),
  description: z.string().optional(),
  required: z.boolean().optional(),
  default: z.unknown().optional(),
  multiple: z.boolean().optional(),
  sensitive: z.boolean().optional(),
  min: z.number().optional(),
  max: z.number().optional(),
});

const McpConfig = z.object({
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  platform_overrides: z
    .record(z.string(), z.object({ command: z.string().optional(), args: z.array(z.string()).optional(), env: z.record(z.string(), z.string()).optional() }))
    .optional(),
});

export const ManifestSchema = z.object({
  manifest_version: z.string().optional(),
  /** Older bundles (DXT) wrote dxt_version. */
  dxt_version: z.string().optional(),
  name: z.string().min(1),
  version: z.string().min(1),
  display_name: z.string().optional(),
  description: z.string().optional(),
  server: z.object({
    type: z.string(),
    entry_point: z.string().optional(),
    mcp_config: McpConfig.optional(),
  }),
  user_config: z.record(z.string(), UserConfigOption).optional(),
  tools: z.array(z.object({ name: z.string(), description: z.string().optional() })).optional(),
  compatibility: z.object({ platforms: z.array(z.string()).optional() }).passthrough().optional(),
});
export type Manifest = z.infer<typeof ManifestSchema>;

export interface McpbLaunch {
  name: string;
  version: string;
  serverType: 'node' | 'python' | 'binary';
  /** As an ImageLaunch takes them (launch-plan templates); the launcher adds `image` (the built one). */
  launch: { command: string[]; env: Record<string, string>; volumes: string[] };
  /** The entry config user_config maps onto. */
  config: { parameters?: Record<string, unknown>; secrets: SecretSpec[]; env: EnvSpec[] };
  /** Tools the manifest declares (informational until the server answers tools/list). */
  tools: { name: string; description?: string }[];
  warnings: string[];
}

export class ManifestError extends Error {}

const PLACEHOLDER = /\$\{([^}]+)\}/g;

/** Map a manifest onto a launch and settings/secrets; throws ManifestError for what cannot run here, saying why. */
export function mapManifest(raw: unknown): McpbLaunch {
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new ManifestError(`manifest.json is not an MCPB manifest: ${i.path.join('.') || '(top level)'}: ${i.message}`);
  }
  const m = parsed.data;
  const type = m.server.type;
  if (type === 'uv') throw new ManifestError(`the bundle is of server type "uv" (dependencies installed by the host with uv at first start), which is not supported yet; only node, python and binary bundles (dependencies bundled) run here`);
  if (type !== 'node' && type !== 'python' && type !== 'binary') throw new ManifestError(`the bundle's server type "${type}" is unknown (node, python and binary are)`);
  const platforms = m.compatibility?.platforms;
  if (platforms?.length && !platforms.includes('linux')) throw new ManifestError(`the bundle supports ${platforms.join(', ')} only, not linux (the containers it would run in)`);

  const cfg = m.server.mcp_config ?? defaultConfig(type, m.server.entry_point);
  const linux = cfg.platform_overrides?.linux;
  const command = linux?.command ?? cfg.command;
  const args = linux?.args ?? cfg.args;
  const env = { ...cfg.env, ...(linux?.env ?? {}) };
  const options = m.user_config ?? {};
  const warnings: string[] = [];

  const secrets: SecretSpec[] = [];
  const secretEnv = new Map<string, string>();
  for (const [key, o] of Object.entries(options)) {
    if (!o.sensitive) continue;
    // A sensitive option that is an environment variable's whole value becomes that variable; else a name of its own.
    const direct = Object.entries(env).find(([, v]) => v.trim() === `\${user_config.${key}}`)?.[0];
    const envName = direct ?? `MCPB_${key.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`;
    secretEnv.set(key, envName);
    secrets.push({ name: key, env: envName, required: o.required ?? false, ...(o.description || o.title ? { description: o.description ?? o.title } : {}) });
  }

  const volumes = new Set<string>();
  const render = (s: string, where: 'arg' | 'env', whole: boolean): string => {
    if (s.includes('{{')) throw new ManifestError(`${where === 'arg' ? 'an argument' : 'an environment value'} of mcp_config holds "{{", which this registry reads as a template: ${JSON.stringify(s)}`);
    return s.replace(PLACEHOLDER, (_m, name: string) => {
      if (name === '__dirname') return BUNDLE_DIR;
      if (name === '/' || name === 'pathSeparator') return '/';
      if (name === 'HOME' || name === 'DESKTOP' || name === 'DOCUMENTS' || name === 'DOWNLOADS') {
        warnings.push(`\${${name}} in mcp_config is the container's, not yours (/tmp): pass a folder through a directory setting instead`);
        return '/tmp';
      }
      const k = /^user_config\.(.+)$/.exec(name)?.[1];
      if (k === undefined) throw new ManifestError(`mcp_config uses \${${name}}, which MCPB does not define`);
      const o = options[k];
      if (!o) throw new ManifestError(`mcp_config uses \${user_config.${k}}, but user_config declares no "${k}"`);
      if (o.sensitive) {
        if (where === 'arg') throw new ManifestError(`mcp_config puts the sensitive option "${k}" into a command-line argument, where it would be visible; this is refused`);
        return `\${${secretEnv.get(k)}}`;
      }
      const list = o.multiple && where === 'arg' && whole ? '|into' : '';
      if (o.type === 'directory' || o.type === 'file') {
        volumes.add(`{{${k}|volume${o.multiple ? '|into' : ''}}}`);
        return `{{${k}|volume-target${list}}}`;
      }
      return `{{${k}${list}}}`;
    });
  };

  const launchEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    const secretKey = [...secretEnv.entries()].find(([, e]) => e === k)?.[0];
    if (secretKey && v.trim() === `\${user_config.${secretKey}}`) continue; // the secret itself is this variable
    launchEnv[k] = render(v, 'env', false);
  }
  const renderedArgs = args.map((a) => render(a, 'arg', new RegExp(`^\\$\\{user_config\\.[^}]+\\}$`).test(a.trim())));
  const program = programOf(type, render(command, 'arg', false));

  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const [key, o] of Object.entries(options)) {
    if (o.sensitive) continue;
    properties[key] = settingSchema(o);
    if (o.required) required.push(key);
  }
  return {
    name: m.name,
    version: m.version,
    serverType: type,
    launch: { command: [...program, ...renderedArgs], env: launchEnv, volumes: [...volumes] },
    config: {
      ...(Object.keys(properties).length ? { parameters: { type: 'object', properties, ...(required.length ? { required } : {}) } } : {}),
      secrets,
      env: [],
    },
    tools: m.tools ?? [],
    warnings: [...new Set(warnings)],
  };
}

/** The interpreter by its name in the runner image; a bundled binary by its path under /app. */
function programOf(type: McpbLaunch['serverType'], command: string): string[] {
  if (command === 'node' || command === 'nodejs') return ['node'];
  if (command === 'python' || command === 'python3') return ['python3'];
  if (command === 'npx' || command === 'uvx' || command === 'uv' || command === 'npm' || command === 'pip') {
    throw new ManifestError(`the bundle starts with "${command}", which downloads its server at every start; run the entry's npm or PyPI package instead`);
  }
  if (type === 'binary' || command.startsWith(BUNDLE_DIR + '/') || !command.includes('/') || command.startsWith('server/')) {
    return [command.startsWith('/') ? command : `${BUNDLE_DIR}/${command.replace(/^\.\//, '')}`];
  }
  throw new ManifestError(`the bundle's command ${JSON.stringify(command)} is not node, python or a file of the bundle`);
}

function defaultConfig(type: string, entry: string | undefined): z.infer<typeof McpConfig> {
  if (!entry) throw new ManifestError('the manifest has neither server.mcp_config nor server.entry_point: there is nothing to run');
  const path = `\${__dirname}/${entry.replace(/^\.\//, '')}`;
  if (type === 'node') return { command: 'node', args: [path], env: {} };
  if (type === 'python') return { command: 'python3', args: [path], env: { PYTHONPATH: '${__dirname}/server/lib' } };
  return { command: path, args: [], env: {} };
}

function settingSchema(o: z.infer<typeof UserConfigOption>): Record<string, unknown> {
  const base: Record<string, unknown> = { ...(o.title ? { title: o.title } : {}), ...(o.description ? { description: o.description } : {}) };
  const scalar = o.type === 'number' ? 'number' : o.type === 'boolean' ? 'boolean' : 'string';
  const item: Record<string, unknown> = { type: scalar };
  if (o.type === 'number') {
    if (o.min !== undefined) item.minimum = o.min;
    if (o.max !== undefined) item.maximum = o.max;
  }
  // A folder or file is a host path the user chooses (it is mounted): a manifest's default is only an example.
  const pathLike = o.type === 'directory' || o.type === 'file';
  const dflt = o.default !== undefined && !pathLike ? { default: o.default } : {};
  const examples = o.default !== undefined && pathLike ? { examples: [o.default] } : {};
  if (o.multiple) return { ...base, type: 'array', items: item, ...dflt, ...examples };
  return { ...base, ...item, ...dflt, ...examples };
}
