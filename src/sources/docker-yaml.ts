/** Reading Docker's mcp-registry layout: servers/<name>/server.yaml and tools.json into entries. */
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Dirent } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ZodError } from 'zod';
import { MAX_README, normalizeEntry, ToolHintsSchema, type Entry, type EntryInput, type Launch, type ToolInfo } from '../model/entry.js';
import { normalizeCategory } from '../model/categories.js';
import { normalizeRepoUrl } from '../model/repo-url.js';
import { errorMessage, type Logger } from '../util/log.js';

/**
 * Reads a directory laid out like github.com/docker/mcp-registry's `servers/` (one folder per server with
 * server.yaml, optional tools.json and readme) into normalised entries. Pure file reading: no git, no network.
 * Docker's own reader is lenient (unknown keys ignored, nulls tolerated), so this one is too; a file that cannot
 * be read as a server becomes a warning and the rest still load.
 */

/** Where a person can read a docker server's files. */
export const DOCKER_WEB_BASE = 'https://github.com/docker/mcp-registry/tree/main/servers';

/** Larger than any real server.yaml (the biggest is ~10 KB) by far; anything bigger is not a server definition. */
export const MAX_SERVER_YAML_BYTES = 512 * 1024;
/** The biggest real tools.json (302 tools) is ~36 KB. */
export const MAX_TOOLS_JSON_BYTES = 8 * 1024 * 1024;
/** Files are small; a few dozen in flight keeps the disk busy without piling up descriptors. */
const READ_CONCURRENCY = 24;

export interface ReadDockerOptions {
  /** Base of the per-server web URL in `sources[].url`; null for none (a user's own directory). */
  webBase?: string | null;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown): Obj | undefined => (isObj(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
/** YAML scalars of any type as text (a port written as 8080 is still "8080"). */
const scalar = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
const strList = (v: unknown): string[] | undefined => {
  if (!Array.isArray(v)) return undefined;
  const out = v.map(scalar).filter((x): x is string => x !== undefined && x !== '');
  return out.length ? out : undefined;
};

export async function readDockerServersDir(
  serversDir: string,
  sourceName: string,
  log: Logger,
  options: ReadDockerOptions = {},
): Promise<{ entries: Entry[]; warnings: string[] }> {
  const webBase = options.webBase === undefined ? DOCKER_WEB_BASE : options.webBase;
  let dirents: Dirent[];
  try {
    dirents = await readdir(serversDir, { withFileTypes: true });
  } catch (err) {
    throw new Error(`cannot read the servers directory ${serversDir}: ${errorMessage(err)}`);
  }
  // Top-level plain files (a README next to the folders) are not servers.
  const dirs = dirents
    .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
    .map((d) => d.name)
    .sort();

  const results = await mapLimit(dirs, READ_CONCURRENCY, (dir) => readServer(join(serversDir, dir), dir, sourceName, webBase, log));

  const entries: Entry[] = [];
  const warnings: string[] = [];
  const seen = new Set<string>();
  for (const r of results) {
    warnings.push(...r.warnings);
    if (!r.entry) continue;
    if (seen.has(r.entry.id)) {
      warnings.push(`${r.file}: another folder already defines the server "${r.entry.nativeName}"; this one is ignored`);
      continue;
    }
    seen.add(r.entry.id);
    entries.push(r.entry);
  }
  if (warnings.length) log.warn(`${warnings.length} problem(s) reading ${serversDir}`, { first: warnings.slice(0, 5) });
  return { entries, warnings };
}

interface ServerResult {
  file: string;
  entry?: Entry;
  warnings: string[];
}

async function readServer(dirPath: string, dir: string, sourceName: string, webBase: string | null, log: Logger): Promise<ServerResult> {
  const file = join(dirPath, 'server.yaml');
  const warnings: string[] = [];
  let names: string[];
  try {
    names = await readdir(dirPath);
  } catch (err) {
    return { file, warnings: [`${dirPath}: cannot read the folder (${errorMessage(err)}); skipped`] };
  }
  if (!names.includes('server.yaml')) {
    return { file, warnings: [`${dirPath}: no server.yaml in this folder; skipped`] };
  }

  let text: string;
  try {
    const r = await readCapped(file, MAX_SERVER_YAML_BYTES);
    if (r.size > MAX_SERVER_YAML_BYTES) {
      return { file, warnings: [`${file}: ${r.size} bytes is too large for a server definition (limit ${MAX_SERVER_YAML_BYTES}); skipped`] };
    }
    text = r.text;
  } catch (err) {
    return { file, warnings: [`${file}: cannot read (${errorMessage(err)}); skipped`] };
  }

  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    const first = errorMessage(err).split('\n')[0];
    return { file, warnings: [`${file}: not valid YAML (${first}); skipped until it is fixed`] };
  }
  if (!isObj(doc)) {
    return { file, warnings: [`${file}: expected a mapping with name, type, about …, found ${doc === null ? 'an empty document' : Array.isArray(doc) ? 'a list' : typeof doc}; skipped`] };
  }

  let tools: ToolInfo[] | undefined;
  if (names.includes('tools.json')) tools = await readToolsJson(join(dirPath, 'tools.json'), warnings);
  const readmeName = names.find((n) => n.toLowerCase() === 'readme.md');
  let readme: string | undefined;
  if (readmeName) {
    try {
      readme = (await readCapped(join(dirPath, readmeName), MAX_README * 4)).text;
    } catch (err) {
      warnings.push(`${join(dirPath, readmeName)}: cannot read (${errorMessage(err)}); entry kept without readme`);
    }
  }

  try {
    const input = buildEntry(doc, dir, sourceName, webBase, { tools, readme, file, warnings, log });
    return { file, entry: normalizeEntry(input), warnings };
  } catch (err) {
    const why = err instanceof ZodError ? err.issues.map((i) => `${i.path.join('.') || '(entry)'}: ${i.message}`).join('; ') : errorMessage(err);
    warnings.push(`${file}: cannot be used (${why}); skipped`);
    return { file, warnings };
  }
}

interface BuildCtx {
  tools?: ToolInfo[];
  readme?: string;
  file: string;
  warnings: string[];
  log: Logger;
}

/** Turn one parsed server.yaml into an entry (not yet validated). Exported for the file source and tests. */
export function buildEntry(y: Obj, dir: string, sourceName: string, webBase: string | null, ctx: BuildCtx): EntryInput {
  const { file, warnings } = ctx;
  const name = str(y.name) ?? dir;
  const id = `${sourceName}/${name}`;
  const about = obj(y.about) ?? {};
  const meta = obj(y.meta) ?? {};
  const source = obj(y.source);
  const type = str(y.type) ?? (y.image ? 'server' : y.remote ? 'remote' : Array.isArray(y.tools) ? 'poci' : undefined);

  const launch: Launch[] = [];
  let pociTools: ToolInfo[] | undefined;
  if (type === 'server') {
    const l = imageLaunch(y, file, warnings);
    if (l) launch.push(l);
  } else if (type === 'remote') {
    const l = remoteLaunch(y, file, warnings);
    if (l) launch.push(l);
  } else if (type === 'poci') {
    const p = pociLaunch(y, file, warnings);
    if (p) {
      launch.push(p.launch);
      pociTools = p.tools;
    }
  } else {
    warnings.push(`${file}: unknown server type ${JSON.stringify(y.type)} (expected server, remote or poci); listed but not runnable`);
  }

  const config = readConfig(y, name, type, file, warnings, ctx.log);
  const tools = ctx.tools ?? pociTools ?? [];

  const title = str(about.title) ?? name;
  const rawCategory = scalar(meta.category)?.trim();
  const category = normalizeCategory(rawCategory);
  const tags = strList(meta.tags) ?? [];
  // Keep the source's own word searchable when the canonical category is broader (e.g. "payments" → finance).
  if (rawCategory && category && rawCategory.toLowerCase() !== category) tags.push(rawCategory.toLowerCase());

  let description = str(about.description);
  if (!description) {
    const parts = [`${title}.`];
    if (tags.length) parts.push(`Tags: ${tags.join(', ')}.`);
    if (tools.length) parts.push(`Tools: ${tools.slice(0, 30).map((t) => t.name).join(', ')}.`);
    description = parts.join(' ');
  }

  // `upstream` names the original project when `project` is Docker's fork of it; other registries list the
  // original, so it is the better key for merging. `directory` belongs to `project`'s layout.
  const upstream = str(source?.upstream);
  const repository = upstream ? normalizeRepoUrl(upstream) : normalizeRepoUrl(str(source?.project), str(source?.directory));

  const oauth = Array.isArray(y.oauth)
    ? y.oauth
        .map(obj)
        .filter((o): o is Obj => !!o && !!str(o.provider))
        .map((o) => ({ provider: str(o.provider)!, secret: str(o.secret), env: str(o.env) }))
    : undefined;

  const image = type === 'server' ? str(y.image) : undefined;
  const extra: Obj = { serverType: type };
  if (source) extra.source = source;
  if (y.longLived === true) extra.longLived = true;
  if (str(y.requirement)) extra.requirement = str(y.requirement);
  // Images under mcp/ are built and signed by Docker (the runtime may verify them).
  if (image?.startsWith('mcp/')) extra.dockerBuilt = true;

  return {
    id,
    nativeName: name,
    name: title,
    description,
    category,
    tags,
    repository,
    icon: str(about.icon),
    sources: [{ source: sourceName, id, url: webBase ? `${webBase}/${dir}` : undefined }],
    tools,
    dynamicTools: obj(y.dynamic)?.tools === true ? true : undefined,
    launch,
    config,
    oauth: oauth?.length ? oauth : undefined,
    readme: ctx.readme,
    meta: extra,
  };
}

function imageLaunch(y: Obj, file: string, warnings: string[]): Launch | undefined {
  const image = str(y.image);
  if (!image) {
    warnings.push(`${file}: type server without an image; listed but not runnable`);
    return undefined;
  }
  const run = obj(y.run) ?? {};
  let env: Record<string, string> | undefined;
  const runEnv = obj(run.env);
  if (runEnv) {
    env = {};
    for (const [k, v] of Object.entries(runEnv)) {
      const s = scalar(v);
      if (s !== undefined) env[k] = s;
    }
  }
  return {
    type: 'image',
    // Used exactly as written: prefixing docker.io/ would break references that already name a registry host.
    image,
    command: strList(run.command),
    volumes: strList(run.volumes),
    env: env && Object.keys(env).length ? env : undefined,
    user: scalar(run.user),
    disableNetwork: run.disableNetwork === true ? true : undefined,
    allowHosts: strList(run.allowHosts),
  };
}

const SECRET_REF = /\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/;

function remoteLaunch(y: Obj, file: string, warnings: string[]): Launch | undefined {
  const remote = obj(y.remote) ?? {};
  const url = str(remote.url);
  if (!url) {
    warnings.push(`${file}: type remote without remote.url; listed but not runnable`);
    return undefined;
  }
  const t = (str(remote.transport_type) ?? 'streamable-http').toLowerCase().replace(/_/g, '-');
  const transport = t === 'sse' ? 'sse' : t === 'streamable-http' || t === 'http' ? 'streamable-http' : undefined;
  if (!transport) {
    warnings.push(`${file}: unknown remote.transport_type "${t}" (expected streamable-http or sse); listed but not runnable`);
    return undefined;
  }
  const headers = Object.entries(obj(remote.headers) ?? {})
    .map(([name, v]) => ({ name, value: scalar(v) }))
    .filter((h) => h.value !== undefined)
    .map((h) => (SECRET_REF.test(h.value!) ? { ...h, secret: true } : h));
  return { type: 'remote', url, transport, headers: headers.length ? headers : undefined };
}

function pociLaunch(y: Obj, file: string, warnings: string[]): { launch: Launch; tools: ToolInfo[] } | undefined {
  const launchTools: Extract<Launch, { type: 'poci' }>['tools'] = [];
  const tools: ToolInfo[] = [];
  for (const raw of Array.isArray(y.tools) ? y.tools : []) {
    const t = obj(raw);
    const name = str(t?.name);
    if (!t || !name) continue;
    const container = obj(t.container) ?? {};
    const image = str(container.image);
    const inputSchema = obj(t.parameters);
    const description = str(t.description);
    tools.push({ name, description, inputSchema });
    if (!image) {
      warnings.push(`${file}: tool "${name}" has no container.image; that tool cannot run`);
      continue;
    }
    launchTools.push({ name, description, image, command: strList(container.command), volumes: strList(container.volumes), inputSchema });
  }
  if (!launchTools.length) {
    warnings.push(`${file}: type poci without any runnable tool; listed but not runnable`);
    return undefined;
  }
  return { launch: { type: 'poci', tools: launchTools }, tools };
}

function readConfig(y: Obj, name: string, type: string | undefined, file: string, warnings: string[], log: Logger): EntryInput['config'] {
  const c = obj(y.config) ?? {};
  const secrets: NonNullable<EntryInput['config']>['secrets'] = [];
  for (const raw of Array.isArray(c.secrets) ? c.secrets : []) {
    const s = obj(raw);
    if (!s) continue;
    const env = str(s.env);
    // The variable the container reads is only ever what `env` says; guessing it from `name` is wrong 131/214 times.
    if (!env) {
      warnings.push(`${file}: secret ${JSON.stringify(s.name ?? null)} has no env variable; it is left out`);
      continue;
    }
    secrets.push({
      name: str(s.name) ?? env,
      env,
      description: str(s.description),
      example: s.example ?? undefined,
      required: s.required === false ? false : true,
    });
  }

  const env: NonNullable<EntryInput['config']>['env'] = [];
  for (const raw of Array.isArray(c.env) ? c.env : []) {
    const e = obj(raw);
    const envName = str(e?.name);
    if (!e || !envName) continue;
    env.push({ name: envName, value: scalar(e.value), example: e.example ?? undefined, description: str(e.description) });
  }

  let parameters = obj(c.parameters);
  if (!parameters && isObj(c.properties)) {
    // kgrag-mcp-server: `parameters:` is null and its schema sits mis-indented directly under `config`.
    parameters = { type: str(c.type) ?? 'object', properties: c.properties };
    if (Array.isArray(c.required)) parameters.required = c.required;
  }
  if (parameters && parameters.type === undefined && isObj(parameters.properties)) parameters = { type: 'object', ...parameters };

  // Templates may read settings the schema forgot to declare; declare them so a user can still set them.
  if (type !== 'poci') {
    const undeclared = undeclaredParams(y, name, parameters);
    if (undeclared.length) {
      log.debug(`${file}: templates use undeclared settings`, { settings: undeclared });
      const props: Obj = { ...(obj(parameters?.properties) ?? {}) };
      for (const p of undeclared) props[p] = { type: 'string', description: `Setting "${p}" (used by the server's configuration but not declared by it)` };
      parameters = { type: 'object', ...(parameters ?? {}), properties: props };
    }
  }

  return { parameters, secrets, env, description: str(c.description) };
}

const TEMPLATE = /\{\{\s*([^}|\s]+)\s*(?:\|[^}]*)?\}\}/g;

function undeclaredParams(y: Obj, name: string, parameters: Obj | undefined): string[] {
  const texts: string[] = [];
  const run = obj(y.run) ?? {};
  texts.push(...(strList(run.command) ?? []), ...(strList(run.volumes) ?? []), scalar(run.user) ?? '');
  for (const e of Array.isArray(obj(y.config)?.env) ? (obj(y.config)!.env as unknown[]) : []) texts.push(scalar(obj(e)?.value) ?? '');
  const declared = obj(parameters?.properties) ?? {};
  const out = new Set<string>();
  for (const t of texts) {
    for (const m of t.matchAll(TEMPLATE)) {
      const path = m[1]!.split('.');
      if (path[0] === name) path.shift();
      const top = path[0];
      if (top && !(top in declared)) out.add(top);
    }
  }
  return [...out];
}

/** tools.json comes in three shapes: Docker's `arguments[]`, MCP's `inputSchema`, or name + description only. */
async function readToolsJson(path: string, warnings: string[]): Promise<ToolInfo[] | undefined> {
  let raw: unknown;
  try {
    const r = await readCapped(path, MAX_TOOLS_JSON_BYTES);
    if (r.size > MAX_TOOLS_JSON_BYTES) {
      warnings.push(`${path}: ${r.size} bytes is too large (limit ${MAX_TOOLS_JSON_BYTES}); tools left unknown`);
      return undefined;
    }
    raw = JSON.parse(r.text);
  } catch (err) {
    warnings.push(`${path}: not readable JSON (${errorMessage(err).split('\n')[0]}); tools left unknown`);
    return undefined;
  }
  return parseToolsJson(raw, path, warnings);
}

export function parseToolsJson(raw: unknown, label: string, warnings: string[]): ToolInfo[] | undefined {
  const list = Array.isArray(raw) ? raw : Array.isArray(obj(raw)?.tools) ? (obj(raw)!.tools as unknown[]) : undefined;
  if (!list) {
    warnings.push(`${label}: expected a list of tools; tools left unknown`);
    return undefined;
  }
  // In Docker's shape a tool without `arguments` takes none, so it still gets an (empty) schema.
  const dockerShape = list.some((t) => Array.isArray(obj(t)?.arguments));
  const tools: ToolInfo[] = [];
  for (const item of list) {
    const t = obj(item);
    const name = str(t?.name);
    if (!t || !name) continue;
    const inputSchema = obj(t.inputSchema) ?? (dockerShape ? argumentsToSchema(t.arguments) : undefined);
    const hints = isObj(t.annotations) ? ToolHintsSchema.safeParse(t.annotations) : undefined;
    tools.push({ name, description: str(t.description), inputSchema, ...(hints?.success ? { annotations: hints.data } : {}) });
  }
  return tools;
}

/** Docker's `arguments[{name,type,desc,optional,items}]` as a JSON Schema object. */
export function argumentsToSchema(args: unknown): Obj {
  const properties: Obj = {};
  const required: string[] = [];
  for (const raw of Array.isArray(args) ? args : []) {
    const a = obj(raw);
    const name = str(a?.name);
    if (!a || !name) continue;
    const prop: Obj = {};
    if (str(a.type)) prop.type = str(a.type);
    const desc = str(a.desc) ?? str(a.description);
    if (desc) prop.description = desc;
    if (isObj(a.items)) prop.items = a.items;
    if (Array.isArray(a.enum)) prop.enum = a.enum;
    properties[name] = prop;
    if (a.optional !== true && a.required !== false) required.push(name);
  }
  const schema: Obj = { type: 'object', properties };
  if (required.length) schema.required = required;
  return schema;
}

/**
 * Read at most `max` bytes of a text file and report its full size, so a huge file is never loaded whole.
 * One open/fstat/read/close: the same system calls readFile makes, without a separate stat.
 */
async function readCapped(path: string, max: number): Promise<{ text: string; size: number }> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const buf = Buffer.alloc(Math.min(max, size));
    let off = 0;
    while (off < buf.length) {
      const { bytesRead } = await fh.read(buf, off, buf.length - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return { text: buf.subarray(0, off).toString('utf8'), size };
  } finally {
    await fh.close();
  }
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
