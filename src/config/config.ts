/** config.yaml: its schema (sources, refresh, runtime, http), durations and sizes, loading and validation. */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { cronProblem, DEFAULT_SCHEDULE } from './cron.js';
import { describeIssue, endSentence, type Locate } from '../util/schema-issues.js';
import { checkOrgConfig, orgConfigShape } from './org-config.js';
import { ProfilesConfigSchema } from './profiles.js';

/** "24h", "90m", "30s", "2d", "500ms" or a number of milliseconds. */
export function parseDuration(v: string | number): number {
  if (typeof v === 'number') return v;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(v);
  if (!m) throw new Error(`"${v}" is not a duration: use e.g. 500ms, 30s, 15m, 24h or 2d`);
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'ms') as 'ms'];
  return Math.round(n * unit);
}

/** The inverse of parseDuration, in the largest unit that is exact ("10m", "90s", "1500ms"). */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** A string or number turned into a number by `parse`, whose error message becomes the validation message. */
const parsedBy = (parse: (v: string | number) => number) =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    try {
      return parse(v);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  });

const Duration = parsedBy(parseDuration);

/** "5m", "512k", "5MB", "1g" or a number of bytes (binary units). */
export function parseSize(v: string | number): number {
  if (typeof v === 'number') return v;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)i?b?\s*$/i.exec(v);
  if (!m) throw new Error(`"${v}" is not a size: use e.g. 512k, 5m, 5MB or 1g`);
  return Math.round(Number(m[1]) * 1024 ** ' kmg'.indexOf((m[2] || ' ').toLowerCase()));
}

const Size = parsedBy(parseSize);

const SourceBase = {
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, 'a source name is letters, digits, - and _ (it becomes the id prefix)'),
  enabled: z.boolean().default(true),
  /** Overrides refresh.minInterval for this source. */
  minInterval: Duration.optional(),
};

export const SourceConfigSchema = z.discriminatedUnion('type', [
  z.strictObject({ ...SourceBase, type: z.literal('docker'), url: z.string(), ref: z.string().default('main') }),
  z.strictObject({
    ...SourceBase,
    type: z.literal('mcpservers'),
    url: z.string().default('https://mcpservers.org'),
    /** Listing paths to crawl. */
    listings: z.array(z.string()).default(['/all', '/remote-mcp-servers']),
    /** Milliseconds between requests (politeness; the site rate-limits at ~4 req/s). */
    delayMs: z.number().int().min(0).default(2000),
    maxPages: z.number().int().positive().optional(),
  }),
  z.strictObject({
    ...SourceBase,
    type: z.literal('official'),
    url: z.string().default('https://registry.modelcontextprotocol.io'),
    pageSize: z.number().int().min(1).max(100).default(100),
  }),
  z.strictObject({
    ...SourceBase,
    type: z.literal('file'),
    path: z.string(),
    /** Trusted public keys (files; `*` in the file name) that check this catalog's signatures (signing/signing.ts). */
    verify: z.strictObject({ keys: z.array(z.string().min(1)).min(1, 'name at least one key file, e.g. /etc/mcp-registry/keys/*.pub') }).optional(),
  }),
  /** Entries published through serve-http's publish API (POST /v1/entries), kept in the registry's store. */
  z.strictObject({ ...SourceBase, type: z.literal('managed') }),
]);
export type SourceConfig = z.infer<typeof SourceConfigSchema>;

export const DEFAULT_SOURCES: z.input<typeof SourceConfigSchema>[] = [
  { name: 'docker', type: 'docker', url: 'https://github.com/docker/mcp-registry.git', ref: 'main' },
  { name: 'mcpservers', type: 'mcpservers', url: 'https://mcpservers.org' },
  { name: 'official', type: 'official', url: 'https://registry.modelcontextprotocol.io' },
];

/** Defaults are the official slim images (pulled on first use); CI builds local ones (scripts/build-runner-images.sh). */
const RunnersSchema = z.strictObject({
  npm: z
    .strictObject({
      image: z.string().default('docker.io/library/node:22-slim'),
      registry: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL, e.g. https://registry.npmjs.org/' }).default('https://registry.npmjs.org/'),
    })
    .prefault({} as never),
  pypi: z
    .strictObject({
      image: z.string().default('docker.io/library/python:3.12-slim'),
      index: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL of a PEP 503 simple index, e.g. https://pypi.org/simple/' }).default('https://pypi.org/simple/'),
    })
    .prefault({} as never),
  /** One package build (install, scripts, commit) may take this long. */
  buildTimeout: Duration.default(15 * 60_000),
  /** Memory of a build container (npm and pip need more than a server). */
  buildMemory: z.string().default('2g'),
  /** registry-add waits this long for a build, then answers state "preparing" (the build goes on) instead of timing out. */
  buildWait: Duration.default(45_000),
});

// Strict at every level: a misspelt key (runtime.idleTimout) is an error naming the key it resembles, not a silent default.
export const ConfigSchema = z
  .strictObject({
    sources: z.array(SourceConfigSchema).prefault(DEFAULT_SOURCES as never),
    refresh: z
      .strictObject({
        /** node-cron syntax; checked here, so a bad schedule stops every command, not only the background refresh. */
        schedule: z
          .string()
          .superRefine((v, ctx) => {
            const problem = cronProblem(v);
            if (problem) ctx.addIssue({ code: 'custom', message: `"${v}" is not a cron expression node-cron accepts (${problem}); e.g. "${DEFAULT_SCHEDULE}" (minute hour day month weekday)` });
          })
          .default(DEFAULT_SCHEDULE),
        minInterval: Duration.default(24 * 3_600_000),
        /** Even a forced refresh of one source waits this long after the previous one. */
        cooldown: Duration.default(30_000),
        /** Refresh at start-up when the cache is older than minInterval (in the background). */
        onStart: z.boolean().default(true),
      })
      .prefault({} as never),
    /** The environment this registry runs in (policy may restrict entries to some environments). */
    environment: z.string().default('dev'),
    runtime: z
      .strictObject({
        podman: z.string().default('podman'),
        idleTimeout: Duration.default(30 * 60_000),
        callTimeout: Duration.default(120_000),
        startTimeout: Duration.default(60_000),
        maxRestarts: z.number().int().min(0).default(5),
        /** Crashes and failed starts count against maxRestarts while they are younger than this. */
        restartWindow: Duration.pipe(z.number().min(1000, 'restartWindow is at least 1s')).default(10 * 60_000),
        /** The package runners (src/runtime/build/): base images, registries and the build's limits. */
        runners: RunnersSchema.prefault({} as never),
        /** A CA bundle (PEM) mounted read-only into build and run containers, for networks that intercept TLS. */
        caBundle: z.string().optional(),
        memory: z.string().default('512m'),
        cpus: z.string().default('1'),
        pidsLimit: z.number().int().positive().default(256),
      })
      .prefault({} as never),
    /** Mounted tools in tools/list (all) or only through registry-find kind "tools" + registry-exec (lazy). */
    tools: z.strictObject({ expose: z.enum(['all', 'lazy']).default('all') }).prefault({} as never),
    /** Named sets of servers (config/profiles.ts), and `dir`, where profile files are kept. */
    profiles: ProfilesConfigSchema.optional(),
    /** The audit log (state/audit/audit.jsonl): rotated when it reaches maxSize, keeping `keep` older files. */
    audit: z
      .strictObject({ maxSize: Size.default(5 * 1024 * 1024), keep: z.number().int().min(1).max(100).default(5) })
      .prefault({} as never),
    ...orgConfigShape,
  })
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    for (const [i, s] of cfg.sources.entries()) {
      if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: ['sources', i, 'name'], message: `source name "${s.name}" is used twice; names must be unique` });
      seen.add(s.name);
    }
    checkOrgConfig(cfg, (path, message) => ctx.addIssue({ code: 'custom', path, message }));
  });
export type RegistryConfig = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {}

/** Load config.yaml; a missing file means the defaults. Relative paths resolve against the file's directory. */
export async function loadConfig(file: string): Promise<RegistryConfig> {
  return (await readConfigFile(file)).config;
}

/** loadConfig, also saying whether the file exists (doctor reports "using the defaults"). */
export async function readConfigFile(file: string): Promise<{ config: RegistryConfig; exists: boolean }> {
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new ConfigError(`cannot read ${file}: ${(err as Error).message}`);
  }
  if (text === undefined) return { config: parseConfig({}, dirname(file), file), exists: false };
  // yaml loads only when there is a file: a default setup starts without it.
  const { parseYamlSource, locateIn } = await import('../util/yaml-issues.js');
  const parsed = parseYamlSource(text, file);
  if ('error' in parsed) throw new ConfigError(`${parsed.error}. ${FIX}`);
  return { config: parseConfig(parsed.value, dirname(file), file, locateIn(parsed.source)), exists: true };
}

const FIX = 'Fix the file and start again (see README, "Configuration"; `mcp-registry doctor` checks it).';

/** Validate a config (from YAML, or an object in tests); `locate` maps an issue to its line in the file. */
export function parseConfig(raw: unknown, baseDir: string, label = 'config', locate?: Locate): RegistryConfig {
  const res = ConfigSchema.safeParse(raw);
  if (!res.success) {
    const issues = res.error.issues;
    const shown = issues.slice(0, 3).map((i) => describeIssue(i, { file: label, schema: ConfigSchema, raw, locate }));
    throw new ConfigError(`${endSentence(shown.join('; ') + (issues.length > 3 ? `; and ${issues.length - 3} more` : ''))} ${FIX}`);
  }
  const cfg = res.data;
  if (cfg.runtime.caBundle && !isAbsolute(cfg.runtime.caBundle)) cfg.runtime.caBundle = resolve(baseDir, cfg.runtime.caBundle);
  if (cfg.profiles?.dir && !isAbsolute(cfg.profiles.dir)) cfg.profiles.dir = resolve(baseDir, cfg.profiles.dir);
  for (const s of cfg.sources) {
    if (s.type === 'file' && !isAbsolute(s.path)) s.path = resolve(baseDir, s.path);
    if (s.type === 'file' && s.verify) s.verify.keys = s.verify.keys.map((k) => (isAbsolute(k) ? k : resolve(baseDir, k)));
    if (s.type === 'docker' && isLocalGitUrl(s.url) && !isAbsolute(s.url)) s.url = resolve(baseDir, s.url);
  }
  return cfg;
}

/** A git "url" that is a path on this machine (a directory or a bundle), not scheme://… or scp-style user@host:path. */
export function isLocalGitUrl(url: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !/^[^/\\]+@[^/\\]+:/.test(url);
}
