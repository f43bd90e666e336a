/** `mcp-registry apikey create|list|revoke`: serve-http's API keys, shown once, stored only as scrypt hashes. */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig, parseDuration } from '../config/config.js';
import { newApiKey } from '../http/apikeys.js';
import { createLogger, errorMessage } from '../util/log.js';
import { resolvePaths } from '../config/paths.js';
import { INSTANCE } from '../store/file-stores.js';
import { openOrgStores, type ApiKeyRecord, type KeyScope, type OrgStores } from '../store/org-stores.js';

/**
 * `mcp-registry apikey create|list|revoke`: the API keys serve-http accepts (Authorization: Bearer mcpr_…), kept
 * where serve-http keeps them (state/apikeys.json, 0600; or the database). A new key is printed once, on stdout,
 * and never stored: only its scrypt hash is. Creating and revoking are recorded in the HTTP audit trail.
 */

const USAGE = `Usage:
  mcp-registry apikey create --scope read|publish|admin [--name NAME] [--group GROUP]... [--expires 90d] [--json]
  mcp-registry apikey list [--json]
  mcp-registry apikey revoke <id>`;

const SCOPES: KeyScope[] = ['read', 'publish', 'admin'];

async function stores(): Promise<OrgStores> {
  const paths = resolvePaths();
  const config = await loadConfig(paths.configFile);
  const s = await openOrgStores(paths, config, createLogger('apikey'));
  if (s.database && !(await s.database.connected)) {
    await s.close();
    throw new Error(`cannot reach the database (${s.database.lastError ?? 'no answer'}): API keys live there when database.url is set; check it and try again`);
  }
  return s;
}

const actor = () => {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    /* no passwd entry (a container) */
  }
  return { type: 'cli' as const, id: `cli:${user}` };
};

function line(k: ApiKeyRecord): string {
  const state = k.revokedAt ? `revoked ${k.revokedAt.slice(0, 10)}` : k.expiresAt && Date.parse(k.expiresAt) <= Date.now() ? `expired ${k.expiresAt.slice(0, 10)}` : 'active';
  return `${k.id}  ${k.scope.padEnd(7)}  ${state.padEnd(18)}  created ${k.createdAt.slice(0, 10)}${k.expiresAt ? `  expires ${k.expiresAt.slice(0, 10)}` : ''}${k.groups?.length ? `  groups ${k.groups.join(',')}` : ''}${k.name ? `  ${k.name}` : ''}`;
}

export async function apikey(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const err = (m: string, code = 2) => (process.stderr.write(`mcp-registry apikey: ${m}\n`), code);
  if (sub === 'create') {
    const { values } = parseArgs({ args: rest, options: { scope: { type: 'string' }, name: { type: 'string' }, group: { type: 'string', multiple: true }, expires: { type: 'string' }, json: { type: 'boolean' } } });
    const scope = values.scope as KeyScope | undefined;
    if (!scope || !SCOPES.includes(scope)) return err(`--scope must be one of ${SCOPES.join(', ')}${scope ? ` (got "${scope}")` : ''}\n${USAGE}`);
    if (values.name !== undefined && (!values.name.trim() || values.name.length > 100 || /[\u0000-\u001f]/.test(values.name))) return err('--name is a label of at most 100 characters, on one line');
    const groups = values.group?.map((g) => g.trim()).filter(Boolean);
    let expiresAt: string | undefined;
    if (values.expires !== undefined) {
      try {
        expiresAt = new Date(Date.now() + parseDuration(values.expires)).toISOString();
      } catch (e) {
        return err(`--expires: ${errorMessage(e)}`);
      }
    }
    const s = await stores();
    try {
      const who = actor();
      const { key, record } = await newApiKey({ scope, name: values.name?.trim(), groups, expiresAt, createdBy: who.id });
      await s.apikeys.add(record);
      await s.audit.write({ time: record.createdAt, action: 'apikey.create', outcome: 'success', actor: who, client: { ip: 'local' }, target: { key: record.id }, instance: INSTANCE });
      if (values.json) process.stdout.write(JSON.stringify({ id: record.id, key, scope, name: record.name, groups: record.groups, expiresAt }) + '\n');
      else {
        process.stdout.write(key + '\n');
        process.stderr.write(`API key ${record.id} (scope ${scope}${groups?.length ? `, groups ${groups.join(', ')}` : ''}${expiresAt ? `, expires ${expiresAt.slice(0, 10)}` : ''}) created. It is shown only this once: store it now. Use it as "Authorization: Bearer <key>".\n`);
      }
      return 0;
    } finally {
      await s.close();
    }
  }
  if (sub === 'list') {
    const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' } } });
    const s = await stores();
    try {
      const keys = await s.apikeys.list();
      if (values.json) process.stdout.write(JSON.stringify({ keys: keys.map(({ kdf: _kdf, ...k }) => k) }) + '\n');
      else process.stdout.write(keys.length ? keys.map(line).join('\n') + '\n' : 'No API keys yet: mcp-registry apikey create --scope read\n');
      return 0;
    } finally {
      await s.close();
    }
  }
  if (sub === 'revoke') {
    const { positionals } = parseArgs({ args: rest, allowPositionals: true, options: {} });
    const id = positionals[0]?.replace(/^apikey:/, '').replace(/^mcpr_([a-z0-9]{12})_.*$/, '$1');
    if (!id || positionals.length !== 1) return err(`give the id of one key (mcp-registry apikey list shows them)\n${USAGE}`);
    const s = await stores();
    try {
      const rec = await s.apikeys.revoke(id, new Date().toISOString());
      if (!rec) return err(`no API key ${id} (mcp-registry apikey list shows them)`, 1);
      await s.audit.write({ time: new Date().toISOString(), action: 'apikey.revoke', outcome: 'success', actor: actor(), client: { ip: 'local' }, target: { key: id }, instance: INSTANCE });
      process.stdout.write(`API key ${id} revoked${rec.revokedAt ? ` (${rec.revokedAt})` : ''}: serve-http refuses it from now on.\n`);
      return 0;
    } finally {
      await s.close();
    }
  }
  return err(`${sub ? `unknown subcommand "${sub}"` : 'which one?'}\n${USAGE}`);
}
