/** Authenticating HTTP callers: anonymous, API keys or OIDC bearer tokens, into an Identity with claims. */
import type { IncomingMessage } from 'node:http';
import type { OidcConfig } from '../config/org-config.js';
import type { KeyScope } from '../store/org-stores.js';
import { problem, type ApiResponse } from './api.js';
import { isApiKey, scopeAllows, type ApiKeyVerifier } from './apikeys.js';

/**
 * Who is calling, and may they? A request carries nothing (anonymous), an API key or an OAuth 2.0 / OIDC access
 * token (JWT, verified against the issuer's JWKS: signature, issuer, audience, expiry) in `Authorization: Bearer`.
 * Reads may be anonymous when the configuration allows it; a named registry with `claims` shows itself only to
 * callers whose credential carries them; writes always need a credential with the publish (or admin) scope.
 * A refusal says why, without echoing the credential; 401s point at the RFC 9728 metadata.
 */

export interface Identity {
  type: 'anonymous' | 'apikey' | 'oidc';
  /** What audit records name: `anonymous`, `apikey:<id>`, `oidc:<sub>`. Never a secret. */
  id: string;
  name?: string;
  scope: KeyScope;
  claims: Record<string, unknown>;
}

export const ANONYMOUS: Identity = { type: 'anonymous', id: 'anonymous', scope: 'read', claims: {} };

export type AuthOutcome = { ok: true; identity: Identity } | { ok: false; reason: string };

type Jose = typeof import('jose');

/** Claims a registry requires: each key must match (any of its values in the caller's claim, a string or a list). */
export function claimsMatch(required: Record<string, string | string[]> | undefined, claims: Record<string, unknown>): boolean {
  if (!required) return true;
  return Object.entries(required).every(([k, want]) => {
    const have = claims[k];
    const haveList = Array.isArray(have) ? have.map(String) : typeof have === 'string' ? have.split(/[\s,]+/).filter(Boolean) : [];
    return (Array.isArray(want) ? want : [want]).some((w) => haveList.includes(w));
  });
}

/** Turns jose's errors into what a caller can act on. */
function tokenProblem(err: unknown, issuer: string): string {
  const e = err as { code?: string; claim?: string; message?: string };
  switch (e.code) {
    case 'ERR_JWT_EXPIRED':
      return 'the access token has expired: get a new one from your identity provider';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return `the access token's signature does not verify with ${issuer}'s published keys (a token of another issuer, or altered)`;
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return `the access token is signed with a key ${issuer} does not publish (kid unknown)`;
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return `the access token's "${e.claim}" claim is not accepted here (${e.message})`;
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return 'the bearer token is neither an API key nor a well-formed JWT';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return `the access token's signing algorithm is not accepted (${e.message})`;
    default:
      return `the access token could not be verified: ${e.message ?? String(err)}`;
  }
}

export class Authenticator {
  private jose: Promise<Jose> | undefined;
  private jwks: Promise<ReturnType<Jose['createRemoteJWKSet']>> | undefined;

  constructor(
    private readonly keys: ApiKeyVerifier,
    readonly oidc: OidcConfig | undefined,
  ) {}

  /** The bearer credential of a request, if any (a malformed Authorization header is a refusal, not anonymous). */
  static bearer(req: IncomingMessage): string | undefined | { malformed: string } {
    const h = req.headers.authorization;
    if (h === undefined) return undefined;
    const m = /^Bearer[ ]+([^\s]+)\s*$/i.exec(h);
    return m ? m[1] : { malformed: 'the Authorization header must be "Bearer <API key or access token>"' };
  }

  /** Synchronous when there is no credential (the anonymous hot path). */
  identify(req: IncomingMessage): AuthOutcome | Promise<AuthOutcome> {
    const token = Authenticator.bearer(req);
    if (token === undefined) return { ok: true, identity: ANONYMOUS };
    if (typeof token !== 'string') return { ok: false, reason: token.malformed };
    return isApiKey(token) ? this.apiKey(token) : this.jwt(token);
  }

  private async apiKey(token: string): Promise<AuthOutcome> {
    const c = await this.keys.check(token);
    if (!c.ok) return { ok: false, reason: c.reason };
    const r = c.record;
    return { ok: true, identity: { type: 'apikey', id: `apikey:${r.id}`, ...(r.name ? { name: r.name } : {}), scope: r.scope, claims: { groups: r.groups ?? [] } } };
  }

  private keySet(jose: Jose, oidc: OidcConfig): Promise<ReturnType<Jose['createRemoteJWKSet']>> {
    this.jwks ??= (async () => {
      let uri = oidc.jwksUri;
      if (!uri) {
        const base = oidc.issuer.replace(/\/+$/, '');
        const res = await fetch(`${base}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5_000) });
        if (!res.ok) throw new Error(`${base}/.well-known/openid-configuration answered ${res.status}`);
        uri = ((await res.json()) as { jwks_uri?: string }).jwks_uri;
        if (!uri) throw new Error(`${base}/.well-known/openid-configuration has no jwks_uri`);
      }
      return jose.createRemoteJWKSet(new URL(uri), { timeoutDuration: 5_000, cooldownDuration: 30_000 });
    })().catch((err) => {
      this.jwks = undefined; // try discovery again on the next token
      throw err;
    });
    return this.jwks;
  }

  private async jwt(token: string): Promise<AuthOutcome> {
    const oidc = this.oidc;
    if (!oidc) return { ok: false, reason: 'this registry accepts API keys (mcpr_…) only: no OIDC issuer is configured (http.auth.oidc in config.yaml)' };
    const jose = await (this.jose ??= import('jose'));
    let payload: import('jose').JWTPayload;
    try {
      const keys = await this.keySet(jose, oidc);
      ({ payload } = await jose.jwtVerify(token, keys, {
        issuer: oidc.issuer,
        audience: oidc.audience,
        algorithms: oidc.algorithms,
        clockTolerance: Math.round(oidc.clockTolerance / 1000),
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (err) {
      return { ok: false, reason: tokenProblem(err, oidc.issuer) };
    }
    const scopes = new Set([...String(payload.scope ?? '').split(' '), ...(Array.isArray(payload.scp) ? payload.scp.map(String) : String(payload.scp ?? '').split(' '))].filter(Boolean));
    const scope: KeyScope = scopes.has(oidc.scopes.admin) ? 'admin' : scopes.has(oidc.scopes.publish) ? 'publish' : 'read';
    const claims: Record<string, unknown> = { ...payload };
    // The configured groups claim is what registries[].claims.groups means.
    if (oidc.groupsClaim !== 'groups') claims.groups = payload[oidc.groupsClaim];
    const name = typeof payload.preferred_username === 'string' ? payload.preferred_username : typeof payload.azp === 'string' ? payload.azp : undefined;
    return { ok: true, identity: { type: 'oidc', id: `oidc:${payload.sub}`, ...(name ? { name } : {}), scope, claims } };
  }
}

/** The RFC 9728 metadata URL of the resource `base` (origin + base path). */
export function metadataUrl(base: string): string {
  const u = new URL(base);
  return `${u.origin}/.well-known/oauth-protected-resource${u.pathname.replace(/\/+$/, '')}`;
}

/** RFC 9728 protected-resource metadata. */
export function resourceMetadata(base: string, oidc: OidcConfig | undefined): Record<string, unknown> {
  return {
    resource: base,
    ...(oidc ? { authorization_servers: [oidc.issuer], scopes_supported: [oidc.scopes.publish, oidc.scopes.admin] } : {}),
    bearer_methods_supported: ['header'],
    resource_name: 'mcp-registry',
  };
}

/** 401: no credential, or one that does not verify. */
export function unauthorized(reason: string, base: string, cors: boolean): ApiResponse {
  return problem(401, `${reason}. Send "Authorization: Bearer <API key or access token>" (API keys: mcp-registry apikey create).`, {
    cors,
    headers: { 'WWW-Authenticate': `Bearer realm="mcp-registry", resource_metadata="${metadataUrl(base)}"` },
  });
}

/** 403: a valid credential that may not do this. */
export function forbidden(reason: string, cors: boolean, scope?: string): ApiResponse {
  return problem(403, reason, { cors, headers: scope ? { 'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${scope}"` } : {} });
}

/** May this caller read a registry with these claims? undefined: yes; else the refusal. */
export function readRefusal(identity: Identity, claims: Record<string, string | string[]> | undefined, anonymousReads: boolean, base: string, cors: boolean): ApiResponse | undefined {
  if (identity.type === 'anonymous') {
    if (claims) return unauthorized(`this registry is shown only to callers whose credential carries ${Object.keys(claims).join(', ')}`, base, cors);
    if (!anonymousReads) return unauthorized('this registry needs a credential to read', base, cors);
    return undefined;
  }
  if (claims && identity.scope !== 'admin' && !claimsMatch(claims, identity.claims)) {
    return forbidden(`your credential (${identity.id}) does not carry the ${Object.keys(claims).join(', ')} this registry is shown to`, cors);
  }
  return undefined;
}

/** May this caller write (publish, change status)? */
export function writeRefusal(identity: Identity, need: KeyScope, base: string, scopeName: string): ApiResponse | undefined {
  if (identity.type === 'anonymous') return unauthorized(`${need === 'admin' ? 'this' : 'publishing'} needs a credential with the ${need} scope`, base, false);
  if (!scopeAllows(identity.scope, need)) return forbidden(`your credential (${identity.id}) has the ${identity.scope} scope; this needs ${need}`, false, scopeName);
  return undefined;
}
