/** The organisation parts of config.yaml: database, named registries and their claims, OIDC settings. */
import { z } from 'zod';
import { parseDuration } from './config.js';

/**
 * The config.yaml keys of the organisation's registry (serve-http at scale): `database` (PostgreSQL instead of the
 * files under the home), `registries` (named registries by audience) and `http` (authentication, audit, health
 * checks, metrics). Every key is optional: without them serve-http is the one-process, file-backed registry it was.
 */

const Duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  try {
    return parseDuration(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

export const DatabaseConfigSchema = z.strictObject({
  /**
   * postgres://user:password@host:5432/db. MCP_REGISTRY_DATABASE_URL, when set, wins (a deployment keeps the
   * password out of config.yaml).
   */
  url: z.string().regex(/^postgres(ql)?:\/\//, 'a PostgreSQL URL starts with postgres:// (e.g. postgres://registry@db:5432/registry)').optional(),
  /** How often a replica that is not the refresher tries to become it (the refresher's lock frees when it dies). */
  leaderPoll: Duration.default(5_000),
  /** Connections per process. */
  pool: z.number().int().min(2).max(100).default(10),
});

/** Claim name → the values one of which a caller's token must carry (a string claim, or any item of an array claim). */
const Claims = z.record(z.string().min(1), z.union([z.string(), z.array(z.string()).min(1)]));

export const NamedRegistrySchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, 'a registry name is letters, digits, - and _ (it is a URL path segment)'),
  /** Sources aggregated, in precedence order (names of config.yaml sources). */
  sources: z.array(z.string().min(1)).min(1),
  /** Only callers whose token claims match every key here see this registry (e.g. {groups: [dev]}). */
  claims: Claims.optional(),
  /** The environment policy.yaml judges this registry's entries in (default: the top-level `environment`). */
  environment: z.string().optional(),
});
export type NamedRegistryConfig = z.infer<typeof NamedRegistrySchema>;

export const OidcConfigSchema = z.strictObject({
  /** The issuer (`iss`) tokens must carry; its JWKS is found through /.well-known/openid-configuration. */
  issuer: z.string().url(),
  /** The audience (`aud`) tokens must carry. */
  audience: z.union([z.string(), z.array(z.string()).min(1)]),
  /** Where the issuer's signing keys are, when discovery is not wanted. */
  jwksUri: z.string().url().optional(),
  /** The claim holding the caller's groups (matched against registries[].claims). */
  groupsClaim: z.string().default('groups'),
  /** Scope values (in `scope` / `scp`) that grant publish and admin; every valid token may read. */
  scopes: z.strictObject({ publish: z.string().default('registry:publish'), admin: z.string().default('registry:admin') }).prefault({} as never),
  clockTolerance: Duration.default(30_000),
  /** Signature algorithms accepted. */
  algorithms: z.array(z.string()).default(['RS256', 'ES256', 'PS256', 'EdDSA']),
});
export type OidcConfig = z.infer<typeof OidcConfigSchema>;

export const HttpConfigSchema = z.strictObject({
  auth: z
    .strictObject({
      /**
       * Reads without a credential. Default: only when serve-http listens on loopback; on any other address it must be
       * asked for (true) — or set false to make every read need an API key or a token.
       */
      anonymous: z.boolean().optional(),
      oidc: OidcConfigSchema.optional(),
    })
    .prefault({} as never),
  audit: z
    .strictObject({
      /** Audit every read too (writes and refused attempts always are). */
      reads: z.boolean().default(false),
    })
    .prefault({} as never),
  health: z
    .strictObject({
      enabled: z.boolean().default(true),
      interval: Duration.pipe(z.number().min(1000, 'health.interval is at least 1s')).default(5 * 60_000),
      timeout: Duration.default(10_000),
      concurrency: z.number().int().min(1).max(64).default(8),
      /** Consecutive failed probes before an endpoint is INACTIVE. */
      failureThreshold: z.number().int().min(1).default(3),
      /** Consecutive answered probes before an INACTIVE (or UNKNOWN) endpoint is ACTIVE. */
      successThreshold: z.number().int().min(1).default(1),
      /** Probes kept per endpoint. */
      history: z.number().int().min(1).max(1000).default(50),
    })
    .prefault({} as never),
  metrics: z.strictObject({ enabled: z.boolean().default(true) }).prefault({} as never),
});
export type HttpConfig = z.infer<typeof HttpConfigSchema>;

/** The org keys as ConfigSchema spreads them in. */
export const orgConfigShape = {
  database: DatabaseConfigSchema.optional(),
  registries: z.array(NamedRegistrySchema).default([]),
  http: HttpConfigSchema.prefault({} as never),
};

/** Cross-checks config.ts runs once the whole file parsed: registries name real sources, once each. */
export function checkOrgConfig(cfg: { sources: { name: string }[]; registries: NamedRegistryConfig[] }, addIssue: (path: (string | number)[], message: string) => void): void {
  const names = new Set(cfg.sources.map((s) => s.name));
  const seen = new Set<string>();
  for (const [i, r] of cfg.registries.entries()) {
    if (seen.has(r.name)) addIssue(['registries', i, 'name'], `registry name "${r.name}" is used twice; names must be unique`);
    seen.add(r.name);
    for (const [j, s] of r.sources.entries()) {
      if (!names.has(s)) addIssue(['registries', i, 'sources', j], `"${s}" is not a source in config.yaml (sources: ${[...names].join(', ') || 'none'})`);
    }
  }
}

/** The database URL in effect: the environment's, else config.yaml's. */
export function databaseUrl(cfg: { database?: { url?: string } }, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.MCP_REGISTRY_DATABASE_URL?.trim() || cfg.database?.url;
}
