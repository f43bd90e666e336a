/** The organisation stores' contracts (published records, API keys, health, HTTP audit), files or PostgreSQL. */
import type { RegistryConfig } from '../config/config.js';
import type { Logger } from '../util/log.js';
import { databaseUrl } from '../config/org-config.js';
import type { RegistryPaths } from '../config/paths.js';
import type { CatalogStore } from './source-store.js';

/**
 * What the organisation's registry keeps besides the catalog: published entries (the `managed` sources), API keys,
 * remote health and the HTTP audit trail — as files under the home by default, in PostgreSQL with `database.url`.
 * Both implement these interfaces; nothing above them knows which one it has. PostgreSQL code loads only when a
 * database is configured (the stdio server starts without it).
 */

export type PublishedStatus = 'active' | 'deprecated' | 'disabled' | 'deleted';

/** One published version of one server (a server.json, validated when it was published). */
export interface PublishedRecord {
  /** The managed source it belongs to. */
  source: string;
  name: string;
  version: string;
  /** The server.json as published. */
  server: Record<string, unknown>;
  status: PublishedStatus;
  statusMessage?: string;
  publishedAt: string;
  updatedAt: string;
  statusChangedAt: string;
  /** Identity that published it (an API key id `apikey:…`, a token subject `oidc:…`). */
  publishedBy: string;
  updatedBy: string;
}

export interface PublishedStore {
  /** Every record (of one managed source), deleted ones included. */
  list(source?: string): Promise<PublishedRecord[]>;
  /** Add a version; 'exists' when that name and version are there and not deleted (versions are immutable). */
  add(rec: PublishedRecord): Promise<'created' | 'exists'>;
  /** Change the status of one version, or of every version of a name; returns the records changed. */
  setStatus(change: { source: string; name: string; version?: string; status: PublishedStatus; statusMessage?: string; actor: string; at: string }): Promise<PublishedRecord[]>;
  /** Called after any change, by this process or (PostgreSQL) another replica. */
  onChange(fn: () => void): () => void;
}

export type KeyScope = 'read' | 'publish' | 'admin';

export interface ApiKeyRecord {
  id: string;
  name?: string;
  scope: KeyScope;
  /** Claims the key carries for registries[].claims (`groups`). */
  groups?: string[];
  createdAt: string;
  createdBy?: string;
  expiresAt?: string;
  revokedAt?: string;
  /** scrypt of the secret part with this salt and these parameters; the key itself is never stored. */
  kdf: { alg: 'scrypt'; N: number; r: number; p: number; salt: string; hash: string };
}

export interface ApiKeyStore {
  list(): Promise<ApiKeyRecord[]>;
  add(rec: ApiKeyRecord): Promise<void>;
  /** Mark revoked; undefined when no key has that id. */
  revoke(id: string, at: string): Promise<ApiKeyRecord | undefined>;
  onChange(fn: () => void): () => void;
}

export type HealthStateName = 'ACTIVE' | 'INACTIVE' | 'UNKNOWN';

/** Where one remote endpoint of one catalog entry stands. */
export interface HealthState {
  /** `<entry id> <url>`. */
  key: string;
  entryId: string;
  url: string;
  state: HealthStateName;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  /** When the state last changed. */
  since: string;
  checkedAt?: string;
  lastSuccessAt?: string;
  latencyMs?: number;
  /** Why the last probe failed, or why the endpoint is not probed. */
  lastError?: string;
}

export interface HealthCheck {
  key: string;
  at: string;
  ok: boolean;
  latencyMs: number;
  error?: string;
}

export interface HealthStore {
  states(): Promise<HealthState[]>;
  /** Save the states after a round of probes and append its checks (history trimmed to `keep` per endpoint). */
  record(states: HealthState[], checks: HealthCheck[], keep: number): Promise<void>;
  history(key: string, limit: number): Promise<HealthCheck[]>;
  onChange(fn: () => void): () => void;
}

/**
 * One audit record of the HTTP API, with the fields SIEMs expect (who, what, when, where from, outcome). Never a
 * credential: the actor is the key id or token subject, not the key or the token.
 */
export interface HttpAuditRecord {
  /** ISO 8601. */
  time: string;
  /** e.g. entry.publish, entry.delete, entry.status, apikey.create, apikey.revoke, read. */
  action: string;
  outcome: 'success' | 'failure' | 'denied';
  actor: { type: 'anonymous' | 'apikey' | 'oidc' | 'cli'; id: string; name?: string };
  client: { ip: string; userAgent?: string };
  request?: { id: string; method: string; path: string; status: number };
  target?: { registry?: string; source?: string; name?: string; version?: string; key?: string };
  /** What went wrong or why it was refused. */
  reason?: string;
  durationMs?: number;
  /** The replica that handled it (host:pid). */
  instance: string;
}

export interface AuditSink {
  write(rec: HttpAuditRecord): Promise<void>;
  query(q: { since?: string; action?: string; limit: number }): Promise<HttpAuditRecord[]>;
}

/** The stores of one registry home (or database). */
export interface OrgStores {
  kind: 'file' | 'postgres';
  published: PublishedStore;
  apikeys: ApiKeyStore;
  health: HealthStore;
  audit: AuditSink;
  /** The catalog's per-source store in PostgreSQL; undefined: the catalog keeps its files. */
  catalogStore?: CatalogStore;
  /** PostgreSQL only: the database connection (leader election, notifications, outage state). */
  database?: import('./pg/db.js').PgDatabase;
  close(): Promise<void>;
}

/** The stores config.yaml asks for: files under the home, or PostgreSQL (loaded only then). */
export async function openOrgStores(paths: RegistryPaths, config: RegistryConfig, log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<OrgStores> {
  const url = databaseUrl(config, env);
  if (url) {
    const { openPgStores } = await import('./pg/stores.js');
    return openPgStores(url, config, log.child('db'));
  }
  const { openFileStores } = await import('./file-stores.js');
  return openFileStores(paths);
}
