/** The catalog entry: its schema, launches, config and limits, and how its text fields are cleaned. */
import { z } from 'zod';
import { runnerOf } from './runner-kind.js';

/**
 * The one normalised shape every source produces and every consumer (merge, index, tools, runtime,
 * HTTP API) reads. Sources keep source-specific facts only where the runtime or the API needs them.
 */

/** Longest description kept in the catalog: a 50 MB description must not bloat cache, index or results. */
export const MAX_DESCRIPTION = 4_000;
export const MAX_README = 64_000;
export const MAX_TOOLS = 500;

/**
 * Characters no id and no one-line text may hold: C0 and C1 controls (NUL, newlines, tabs, the ESC of terminal
 * sequences), DEL, the line and paragraph separators, and the bidirectional embeddings, overrides and isolates
 * that make text display other than it reads. A catalog name with a newline could forge extra lines of a result.
 */
export const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const BIDI = /[\u202a-\u202e\u2066-\u2069]/g;
const BREAKS = /[\s\u0000-\u001f\u007f-\u009f]+/g;

/** `s` on one line: bidirectional controls dropped, every run of other controls and whitespace one space. */
export function oneLine(s: string): string {
  return s.replace(BIDI, '').replace(BREAKS, ' ').trim();
}

/** Multi-line text (a description, a readme): line breaks and tabs kept (CRLF as LF), other control characters dropped. */
function withoutControls(s: string): string {
  return s.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, '');
}

/** An id or native name: refused (the record is skipped with a warning) when it holds a control character. */
const idText = (min = 0) =>
  z
    .string()
    .min(min)
    .refine((s) => !CONTROL_CHARS.test(s), { message: 'contains a control character (a NUL, newline, tab or bidirectional control); ids and names never do' });

/** The MCP tool annotations the registry acts on (read-only exec, the destructive gate); other keys are dropped. */
export const ToolHintsSchema = z.object({
  readOnlyHint: z.boolean().optional(),
  destructiveHint: z.boolean().optional(),
  idempotentHint: z.boolean().optional(),
  openWorldHint: z.boolean().optional(),
});
export type ToolHints = z.infer<typeof ToolHintsSchema>;

export const ToolInfoSchema = z.object({
  name: z.string().min(1),
  description: z.string().optional(),
  /** JSON Schema of the tool's arguments, when known (tools.json or a running server). */
  inputSchema: z.record(z.string(), z.unknown()).optional(),
  /** What the tool says of itself (tools.json or a running server), when known. */
  annotations: ToolHintsSchema.optional(),
});
export type ToolInfo = z.infer<typeof ToolInfoSchema>;

/** A secret the server needs; reaches the container only as the environment variable `env`. */
export const SecretSpecSchema = z.object({
  name: z.string(),
  env: z.string(),
  description: z.string().optional(),
  example: z.unknown().optional(),
  required: z.boolean().default(true),
});
export type SecretSpec = z.infer<typeof SecretSpecSchema>;

/**
 * An environment variable given to the server. `value` may be a template:
 * `{{server.param}}` / `{{param}}` (with filters `|volume`, `|volume-target`, `|into`, `|or:x`) reads a setting,
 * `$VAR` / `${VAR}` reads a secret. No value means the user supplies it as the setting of the same name.
 */
export const EnvSpecSchema = z.object({
  name: z.string(),
  value: z.string().optional(),
  description: z.string().optional(),
  example: z.unknown().optional(),
  required: z.boolean().optional(),
  default: z.unknown().optional(),
});
export type EnvSpec = z.infer<typeof EnvSpecSchema>;

export const HeaderSpecSchema = z.object({
  name: z.string(),
  /** Template: `${ENV}` (docker) or `{var}` (official) placeholders. */
  value: z.string().optional(),
  description: z.string().optional(),
  required: z.boolean().optional(),
  secret: z.boolean().optional(),
});
export type HeaderSpec = z.infer<typeof HeaderSpecSchema>;

/** server.json argument (positional or named), kept as published. */
export const ArgumentSpecSchema = z.record(z.string(), z.unknown());

/**
 * The source that listed a launch. Set by the merge on every launch of a merged entry; a single-source entry's
 * launches come from its one source (read it with launchSourceOf, never assume).
 */
const LaunchSource = z.string().optional();

/**
 * A launch no catalog published: read from the client configuration a detail page documents (`npx -y <pkg>`,
 * `uvx <pkg>`, `docker run … <image>`). It always needs approval (policy.ts), and registry-info says where it was read.
 */
export const InferredFromSchema = z.object({ page: z.string(), snippet: z.string() });

export const ImageLaunchSchema = z.object({
  type: z.literal('image'),
  source: LaunchSource,
  /** Image reference exactly as written by the source (tag or @digest included). */
  image: z.string(),
  command: z.array(z.string()).optional(),
  volumes: z.array(z.string()).optional(),
  /** run.env of server.yaml (literal values or ${SECRET} references). */
  env: z.record(z.string(), z.string()).optional(),
  user: z.string().optional(),
  disableNetwork: z.boolean().optional(),
  allowHosts: z.array(z.string()).optional(),
  inferred: InferredFromSchema.optional(),
});

export const RemoteLaunchSchema = z.object({
  type: z.literal('remote'),
  source: LaunchSource,
  url: z.string(),
  transport: z.enum(['streamable-http', 'sse']),
  headers: z.array(HeaderSpecSchema).optional(),
  /** URL `{placeholders}` with their input descriptions (server.json `variables`). */
  variables: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
});

/** A server.json package (npm, pypi, oci, nuget, mcpb …). Only `oci` packages are runnable in a container. */
export const PackageLaunchSchema = z.object({
  type: z.literal('package'),
  source: LaunchSource,
  registryType: z.string(),
  identifier: z.string(),
  version: z.string().optional(),
  registryBaseUrl: z.string().optional(),
  runtimeHint: z.string().optional(),
  fileSha256: z.string().optional(),
  transport: z.object({ type: z.string(), url: z.string().optional(), headers: z.array(HeaderSpecSchema).optional() }).default({ type: 'stdio' }),
  runtimeArguments: z.array(ArgumentSpecSchema).optional(),
  packageArguments: z.array(ArgumentSpecSchema).optional(),
  inferred: InferredFromSchema.optional(),
});

/** Docker's "poci" servers: each tool runs its own short-lived container. */
export const PociLaunchSchema = z.object({
  type: z.literal('poci'),
  source: LaunchSource,
  tools: z.array(
    z.object({
      name: z.string(),
      description: z.string().optional(),
      image: z.string(),
      command: z.array(z.string()).optional(),
      volumes: z.array(z.string()).optional(),
      inputSchema: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
});

export const LaunchSchema = z.discriminatedUnion('type', [ImageLaunchSchema, RemoteLaunchSchema, PackageLaunchSchema, PociLaunchSchema]);
export type Launch = z.infer<typeof LaunchSchema>;
export type ImageLaunch = z.infer<typeof ImageLaunchSchema>;
export type PociLaunch = z.infer<typeof PociLaunchSchema>;
export type RemoteLaunch = z.infer<typeof RemoteLaunchSchema>;
export type PackageLaunch = z.infer<typeof PackageLaunchSchema>;

export const EntryConfigSchema = z.object({
  /** JSON Schema (type object) of the user's non-secret settings. */
  parameters: z.record(z.string(), z.unknown()).optional(),
  secrets: z.array(SecretSpecSchema).default([]),
  env: z.array(EnvSpecSchema).default([]),
  description: z.string().optional(),
});
export type EntryConfig = z.infer<typeof EntryConfigSchema>;

/** Which source contributed to a merged entry, under which id. */
export const SourceRefSchema = z.object({
  source: z.string(),
  id: z.string(),
  /** Where a person can read about it (detail page, registry URL, repository path). */
  url: z.string().optional(),
});

/**
 * Governance facts a catalog states about a server (registry.yaml `ownership`/`governance`, servers/<name>.yaml
 * `maintainer`/`reviewers`/…), kept as the catalog wrote them. Shown by registry-info; enforced by policy.
 */
export const GovernanceSchema = z.object({
  /** The owning team (registry.yaml ownership.team) or maintainer (servers/<name>.yaml). */
  owner: z.string().optional(),
  contact: z.string().optional(),
  approvedBy: z.string().optional(),
  approvedAt: z.string().optional(),
  risk: z.string().optional(),
  /** none | restricted | pii */
  dataAccess: z.string().optional(),
  prodAllowed: z.boolean().optional(),
  reviewedAt: z.string().optional(),
  reviewers: z.array(z.string()).optional(),
  scope: z.array(z.string()).optional(),
  dataClassification: z.string().optional(),
});
export type EntryGovernance = z.infer<typeof GovernanceSchema>;

/** Where an entry stands by its catalog's word (policy.yaml's rules win where both speak). */
export const CatalogLifecycleSchema = z.object({
  status: z.enum(['active', 'deprecated', 'disabled']),
  /** The environments the catalog lists it for (config.yaml `environment` is matched against them). */
  envs: z.array(z.string()).optional(),
  /** YYYY-MM-DD: deprecated until then. */
  sunset: z.string().optional(),
  message: z.string().optional(),
});

/**
 * A digest of an artefact a launch runs: an OCI image's manifest digest (`sha256:…`), an npm package's integrity
 * (`sha512-…`, as in package-lock.json), a wheel's or an MCPB bundle's file hash (`sha256:…`). `ref` names the
 * artefact the way its launch does (image reference, `name@version`, URL).
 */
export const ArtefactDigestSchema = z.object({
  kind: z.enum(['oci', 'npm', 'pypi', 'mcpb', 'file']),
  ref: z.string(),
  digest: z.string(),
  /** A wheel's or archive's file name, when one ref has several files (pypi). */
  file: z.string().optional(),
});
export type ArtefactDigest = z.infer<typeof ArtefactDigestSchema>;

/** One version a source lists (all of them, not only the latest); `launch` is how that version runs. */
export const EntryVersionSchema = z.object({
  version: z.string(),
  releasedAt: z.string().optional(),
  status: z.string().optional(),
  launch: z.array(LaunchSchema).default([]),
  artefacts: z.array(ArtefactDigestSchema).optional(),
});
export type EntryVersion = z.infer<typeof EntryVersionSchema>;

/** The outcome of checking an entry's signature against this machine's trust root (signing/signing.ts). */
export const ProvenanceSchema = z.object({
  signature: z.enum(['verified', 'unsigned', 'bad']),
  keyId: z.string().optional(),
  reason: z.string().optional(),
  signedAt: z.string().optional(),
  /** The artefact digests the signature covers: what the runtime checks before it runs anything. */
  artefacts: z.array(ArtefactDigestSchema).optional(),
});
export type Provenance = z.infer<typeof ProvenanceSchema>;

export const EntrySchema = z.object({
  /** `<source name>/<native name>`, from the highest-precedence source after merging. */
  id: idText(3),
  /** Native name in its source (docker server name, mcpservers slug, official reverse-DNS name). */
  nativeName: idText(),
  /** Human-readable name (title when the source has one). */
  name: z.string(),
  description: z.string().default(''),
  category: z.string().optional(),
  tags: z.array(z.string()).default([]),
  /** Normalised repository URL (https://github.com/owner/repo[/subfolder]). */
  repository: z.string().optional(),
  website: z.string().optional(),
  icon: z.string().optional(),
  official: z.boolean().optional(),
  version: z.string().optional(),
  updatedAt: z.string().optional(),
  publishedAt: z.string().optional(),
  status: z.enum(['active', 'deprecated', 'deleted']).optional(),
  sources: z.array(SourceRefSchema).min(1),
  /** Ids of the entries merged into this one (every tool accepts them). */
  aliases: z.array(z.string()).default([]),
  tools: z.array(ToolInfoSchema).default([]),
  /** Tools are only known from a running server. */
  dynamicTools: z.boolean().optional(),
  launch: z.array(LaunchSchema).default([]),
  /** The config of the source whose launch runs by default (merged entries: see `configs`). */
  config: EntryConfigSchema.default({ secrets: [], env: [] }),
  /** Merged entries: each source's own config, by source name; a launch is always paired with its source's. */
  configs: z.record(z.string(), EntryConfigSchema).optional(),
  oauth: z.array(z.object({ provider: z.string(), secret: z.string().optional(), env: z.string().optional() })).optional(),
  readme: z.string().optional(),
  /** Extra facts only a detail fetch reveals are merged in lazily (mcpservers); when it happened. */
  detailFetchedAt: z.string().optional(),
  /** Source-specific metadata kept verbatim (e.g. the official registry's `_meta`). */
  meta: z.record(z.string(), z.unknown()).optional(),
  governance: GovernanceSchema.optional(),
  lifecycle: CatalogLifecycleSchema.optional(),
  /** Every version the source lists, newest first by semver (model/versions.ts); `version` is the latest. */
  versions: z.array(EntryVersionSchema).optional(),
  /** Digests the catalog states for the default launch's artefacts. */
  artefacts: z.array(ArtefactDigestSchema).optional(),
  provenance: ProvenanceSchema.optional(),
});
export type Entry = z.infer<typeof EntrySchema>;
export type EntryInput = z.input<typeof EntrySchema>;

function clip(s: string | undefined, max: number): string | undefined {
  if (s === undefined) return undefined;
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

/**
 * Validate and bound an entry coming from a source. Throws a ZodError naming the bad field;
 * sources catch it per entry so one bad record never loses the rest.
 */
export function normalizeEntry(input: EntryInput): Entry {
  const e = EntrySchema.parse(input);
  normalizeText(e);
  e.name ||= e.nativeName;
  if (e.tools.length > MAX_TOOLS) e.tools = e.tools.slice(0, MAX_TOOLS);
  for (const t of e.tools) t.description = clip(t.description, 2_000);
  return e;
}

/**
 * Text of an entry (or of details fetched later) made safe where every source's entries pass: names, categories,
 * tags and versions on one line (a name with a newline could forge lines of a result), a description or readme
 * without control characters but its line breaks (text output puts a description on one line), each within its size.
 */
export function normalizeText(e: Partial<Entry>): void {
  if (e.description !== undefined) e.description = clip(withoutControls(e.description).trim(), MAX_DESCRIPTION) ?? '';
  if (e.readme !== undefined) e.readme = clip(withoutControls(e.readme), MAX_README);
  if (e.name !== undefined) e.name = clip(oneLine(e.name), 200) ?? '';
  if (e.category !== undefined) e.category = oneLine(e.category) || undefined;
  if (e.version !== undefined) e.version = oneLine(e.version) || undefined;
  if (e.tags !== undefined) e.tags = [...new Set(e.tags.map((t) => oneLine(t).toLowerCase()).filter(Boolean))].slice(0, 50);
}

/** A launch option the runtime really starts (runner-kind.ts says which: images, stdio packages, remotes). */
export function isRunnable(e: Pick<Entry, 'launch'>): boolean {
  return e.launch.some((l) => runnerOf(l).runnable);
}

/** Names of settings and secrets a user must provide before the server can start. */
export function requiredConfig(e: Pick<Entry, 'config'>): string[] {
  const out: string[] = [];
  for (const s of e.config.secrets) if (s.required) out.push(s.name);
  const params = e.config.parameters as { required?: unknown } | undefined;
  if (params && Array.isArray(params.required)) for (const r of params.required) if (typeof r === 'string') out.push(r);
  for (const v of e.config.env) if (v.required && !v.value) out.push(v.name);
  return [...new Set(out)];
}
