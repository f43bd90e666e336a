/** policy.yaml as a file: its schema, parsing it (errors with file, line and column), and editing its allow/deny lists. */
import { isMap, isScalar, isSeq, YAMLSeq, type Document } from 'yaml';
import { z } from 'zod';
import { imageRefProblem } from '../model/image-ref.js';
import { locateIn, parseYamlSource } from '../util/yaml-issues.js';
import { describeIssue, endSentence } from '../util/schema-issues.js';

export class PolicyError extends Error {}

/** `/host/path:/container/path[:ro|:rw]` or `named-volume:/container/path[:ro|:rw]`. */
export const MOUNT_RULE = /^(?:\/[^:]*|[A-Za-z0-9][A-Za-z0-9_.-]*):\/[^:]*(?::(?:ro|rw))?$/;
const Pattern = z.string().trim().min(1, 'a pattern must not be empty');
const Memory = z.string().regex(/^\d+(\.\d+)?[bkmg]?$/i, 'memory is a number with an optional unit b, k, m or g, e.g. 256m');
const Cpus = z.union([z.number().positive(), z.string().regex(/^\d+(\.\d+)?$/, 'cpus is a number such as 0.5 or 2')]).transform(String);

export const RemoteRuleSchema = z.strictObject({
  allowPrivate: z.boolean().optional(),
  allowHttp: z.boolean().optional(),
  allowHosts: z.array(z.string().trim().min(1, 'an allowHosts item must not be empty')).optional(),
});
export type RemoteRule = z.infer<typeof RemoteRuleSchema>;
const Destructive = z.enum(['ask', 'allow', 'deny']);
const ScanSecrets = z.enum(['warn', 'off']);
const Sunset = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'sunset is a date such as 2026-12-31')
  .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), 'sunset is not a real date');

export const EntryRuleSchema = z.strictObject({
  status: z.enum(['active', 'deprecated', 'disabled']).optional(),
  message: z.string().optional(),
  environments: z.array(z.string().min(1)).optional(),
  network: z.enum(['none', 'default']).optional(),
  memory: Memory.optional(),
  cpus: Cpus.optional(),
  pidsLimit: z.number().int().positive().optional(),
  user: z.string().regex(/^[a-zA-Z0-9_.-]+(?::[a-zA-Z0-9_.-]+)?$/, 'user is a name or uid, optionally :group').optional(),
  readOnly: z.boolean().optional(),
  image: z
    .string()
    .superRefine((ref, ctx) => {
      const why = imageRefProblem(ref);
      if (why) ctx.addIssue({ code: 'custom', message: `image: ${why} (an image reference such as docker.io/mcp/foo@sha256:…)` });
    })
    .optional(),
  tools: z.array(z.string().min(1)).optional(),
  mounts: z.array(z.string().regex(MOUNT_RULE, 'a mount is "/host/path:/container/path" or "volume-name:/container/path", optionally ending in :ro or :rw')).optional(),
  sunset: Sunset.optional(),
  remote: RemoteRuleSchema.optional(),
  requireDigest: z.boolean().optional(),
  requireSigned: z.boolean().optional(),
  /** Build an MCPB bundle whose catalog entry publishes no fileSha256 (default false: refused). */
  allowUnverifiedBundles: z.boolean().optional(),
  scanSecrets: ScanSecrets.optional(),
  destructive: Destructive.optional(),
});
export type EntryRule = z.infer<typeof EntryRuleSchema>;

/**
 * A policy is parsed once per change of the file: zod's compiled fast path would cost more to generate (~10 ms, on
 * the way to the first search) than it could ever save.
 */
export const ONCE = { jitless: true } as const;

export const PolicySchema = z.strictObject({
  allow: z.array(Pattern).nullish().transform((v) => v ?? []),
  deny: z.array(Pattern).nullish().transform((v) => v ?? []),
  trust: z
    .strictObject({ fileSources: z.boolean().default(true), dockerBuilt: z.boolean().default(true) })
    .nullish()
    .transform((v) => v ?? { fileSources: true, dockerBuilt: true }),
  entries: z
    .record(Pattern, EntryRuleSchema.nullish().transform((v) => v ?? {}))
    .nullish()
    .transform((v) => v ?? {}),
  remote: RemoteRuleSchema.nullish().transform((v) => v ?? {}),
  requireDigest: z.boolean().nullish().transform((v) => v ?? false),
  requireSigned: z.boolean().nullish().transform((v) => v ?? false),
  allowUnverifiedBundles: z.boolean().nullish().transform((v) => v ?? false),
  requireApproval: z
    .strictObject({ dataAccess: z.array(z.enum(['none', 'restricted', 'pii'])).optional() })
    .nullish()
    .transform((v) => v ?? {}),
  scanSecrets: ScanSecrets.nullish().transform((v) => v ?? 'off'),
  destructive: Destructive.nullish().transform((v) => v ?? 'allow'),
});
export type PolicyData = z.infer<typeof PolicySchema>;

export const NEW_FILE = `# mcp-registry policy: which catalog entries may start (see README, "Policy").
# allow / deny: entry ids or patterns ("*" matches anything, "/" included), e.g. docker/*, official/io.github.me/*
# A deny always wins. Entries from your own "file" sources and Docker-built images (mcp/...) are allowed unless
# trust says otherwise; anything else asks for approval first.
# entries: per-entry rules and container overrides, e.g.
#   entries:
#     "docker/github-official": { status: active, environments: [dev], network: default, memory: 256m }
#     "mine/notes": { mounts: ["/srv/notes:/data"] }   # host mounts its catalog may make (read-only; :rw to write)
allow: []
deny: []
`;

export function parsePolicy(text: string, file: string): { doc: Document; data: PolicyData } {
  const parsed = parseYamlSource(text, file);
  if ('error' in parsed) throw new PolicyError(`${parsed.error}. Fix the file (see README, "Policy").`);
  const res = PolicySchema.safeParse(parsed.value, ONCE);
  if (!res.success) {
    const where = describeIssue(res.error.issues[0]!, { file, schema: PolicySchema, raw: parsed.value, locate: locateIn(parsed.source) });
    throw new PolicyError(`${endSentence(where)} Fix the file (see README, "Policy").`);
  }
  return { doc: parsed.source.doc, data: res.data };
}

function seqOf(doc: Document, key: string): YAMLSeq | undefined {
  const v = doc.get(key, true);
  return isSeq(v) ? v : undefined;
}

export function removeItem(doc: Document, key: string, value: string): boolean {
  const seq = seqOf(doc, key);
  if (!seq) return false;
  const before = seq.items.length;
  seq.items = seq.items.filter((it) => !(isScalar(it) && it.value === value));
  return seq.items.length !== before;
}

export function addItem(doc: Document, key: string, value: string): boolean {
  let seq = seqOf(doc, key);
  if (seq?.items.some((it) => isScalar(it) && it.value === value)) return false;
  if (!seq) {
    if (!isMap(doc.contents)) doc.contents = doc.createNode({}) as never;
    seq = new YAMLSeq();
    doc.set(key, seq);
  }
  // A file written with `allow: []` grows into a readable block list.
  seq.flow = false;
  seq.add(doc.createNode(value));
  return true;
}
