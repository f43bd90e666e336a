/** The file source: the user's own catalog on disk (server.json, registry.yaml or Docker layout), verified. */
import { readdir, readFile, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { dirname, extname, join, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { SourceConfig } from '../config/config.js';
import type { Entry } from '../model/entry.js';
import type { Logger } from '../util/log.js';
import { readDockerServersDir } from './docker-yaml.js';
import { SourceError, type FetchContext, type FetchResult, type Source } from './source.js';
import { latestPerName, serverJsonToEntry, ServerJsonError, type EnvelopeMeta } from './server-json.js';
import { isRegistryYaml, registryYamlToEntries } from './registry-yaml.js';
import { CatalogRecordError, isServerFile, serverFileToEntry, serverFiles } from './servers-dir.js';
import { loadTrustRoot, provenanceOf, verifyRecord, type CatalogFormat, type TrustRoot } from '../signing/signing.js';
import { withVersions } from '../model/versions.js';

export type FileSourceConfig = Pick<Extract<SourceConfig, { type: 'file' }>, 'name' | 'path'> & Partial<Pick<Extract<SourceConfig, { type: 'file' }>, 'verify'>>;

const EXPECTED =
  'expected a YAML or JSON list of server.json objects, or {servers: [...]} (items may be {server, _meta} envelopes), ' +
  'or a directory laid out like docker/mcp-registry (servers/<name>/server.yaml), or a directory of *.json / *.yaml server.json files, ' +
  'or a registry.yaml (servers: [{id, versions: [...]}]), or a directory of servers/<name>.yaml files (name, version, artefact)';

const CATALOG_EXT = new Set(['.json', '.yaml', '.yml']);

interface FileState {
  /** What the catalog looked like last time (paths, sizes, mtimes): equal means nothing to re-read. */
  fingerprint: string;
}

type Layout = { kind: 'file' } | { kind: 'docker'; serversDir: string } | { kind: 'dir'; files: string[] };

/** The user's own catalog: a file (or directory) on disk in the official server.json format or Docker's layout. */
export class FileSource implements Source {
  readonly type = 'file';
  readonly name: string;
  private readonly path: string;
  private readonly keys: string[];
  private trust: TrustRoot | undefined;

  constructor(cfg: FileSourceConfig) {
    this.name = cfg.name;
    this.path = cfg.path;
    this.keys = cfg.verify?.keys ?? [];
  }

  async fetch(ctx: FetchContext): Promise<FetchResult> {
    const st = await stat(this.path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new SourceError(`catalog ${this.path} (source "${this.name}") does not exist`, `create it or fix "path" in config.yaml; ${EXPECTED}`);
      throw new SourceError(`cannot read catalog ${this.path}: ${err.message}`, 'check its permissions');
    });
    const layout: Layout = st.isDirectory() ? await this.detectLayout() : { kind: 'file' };
    // The trust root is read on every fetch: a key added to or removed from it re-verifies the catalog.
    this.trust = this.keys.length ? await loadTrustRoot(this.keys) : undefined;
    for (const p of this.trust?.problems ?? []) ctx.log.warn(`source "${this.name}": ${p}`);
    const fingerprint = (await this.fingerprint(layout, st.size, st.mtimeMs)) + (this.trust ? `:${this.trust.fingerprint}` : '');
    const prevState = ctx.previous?.state as Partial<FileState> | undefined;
    if (!ctx.force && ctx.previous && prevState?.fingerprint === fingerprint) {
      return { entries: ctx.previous.entries, state: prevState, unchanged: true };
    }
    const state: FileState = { fingerprint };
    ctx.progress({ message: `reading ${this.path}` });

    if (layout.kind === 'docker') {
      // webBase null: the per-server links of docker's own repository would point at the wrong place.
      const { entries, warnings } = await readDockerServersDir(layout.serversDir, this.name, ctx.log, { webBase: null });
      return { entries, warnings, state };
    }
    const warnings: string[] = [];
    const entries: Entry[] = [];
    const files = layout.kind === 'file' ? [this.path] : layout.files;
    for (const f of files) {
      try {
        entries.push(...this.entriesOf(f, await readCatalogFile(f), warnings, ctx.log));
      } catch (err) {
        // A lone catalog file must parse; in a directory one bad file is skipped so the others still count.
        if (layout.kind === 'file' || !(err instanceof SourceError)) throw err;
        warnings.push(err.message);
        ctx.log.warn(err.message);
      }
    }
    const latest = withVersions(entries, [...latestPerName(entries).values()].filter((e) => e.status !== 'deleted'));
    return { entries: latest, warnings, state };
  }

  private async detectLayout(): Promise<Layout> {
    const serversDir = join(this.path, 'servers');
    if (await hasServerYamls(serversDir)) return { kind: 'docker', serversDir };
    if (await hasServerYamls(this.path)) return { kind: 'docker', serversDir: this.path };
    const perServer = await serverFiles(serversDir);
    if (perServer.length) return { kind: 'dir', files: perServer };
    const files = (await readdir(this.path, { withFileTypes: true }))
      .filter((d) => d.isFile() && CATALOG_EXT.has(extname(d.name).toLowerCase()) && !d.name.startsWith('.'))
      .map((d) => join(this.path, d.name))
      .sort();
    if (!files.length) throw new SourceError(`catalog directory ${this.path} holds no catalog files`, EXPECTED);
    return { kind: 'dir', files };
  }

  private async fingerprint(layout: Layout, size: number, mtimeMs: number): Promise<string> {
    const h = createHash('sha256').update(`${layout.kind}\0`);
    if (layout.kind === 'file') return h.update(`${size}\0${mtimeMs}`).digest('hex');
    // A directory's own mtime misses edits inside its files: stat every file that is read.
    const files = layout.kind === 'dir' ? layout.files : await dockerFiles(layout.serversDir);
    for (const f of files) {
      const s = await stat(f).catch(() => undefined);
      h.update(`${f}\0${s?.size ?? -1}\0${s?.mtimeMs ?? -1}\n`);
    }
    return h.digest('hex');
  }

  /** The signature check of one record against this source's trust root, as the entry carries it. */
  private provenance(record: unknown, format: CatalogFormat): ReturnType<typeof provenanceOf> {
    return provenanceOf(verifyRecord(record, format, this.trust, this.name));
  }

  /** Items of one parsed catalog file → entries; a bad item is a warning, never the end of the file. */
  private entriesOf(file: string, doc: unknown, warnings: string[], log: Logger): Entry[] {
    const warn = (msg: string) => {
      warnings.push(msg);
      log.warn(msg);
    };
    if (isRegistryYaml(doc)) return registryYamlToEntries(doc, this.name, file, { warn, verify: (r) => this.provenance(r, 'registry.yaml') });
    if (isServerFile(doc)) {
      try {
        return [serverFileToEntry(doc, this.name, file, { warn, verify: (r) => this.provenance(r, 'servers-dir') })];
      } catch (err) {
        if (!(err instanceof CatalogRecordError)) throw err;
        throw new SourceError(`${err.message}; skipped`, EXPECTED);
      }
    }
    let items: unknown[];
    if (Array.isArray(doc)) items = doc;
    else if (isObject(doc) && Array.isArray(doc.servers)) items = doc.servers;
    else if (isObject(doc) && (typeof doc.name === 'string' || isObject(doc.server))) items = [doc];
    else throw new SourceError(`${file} has no server list`, EXPECTED);
    const out: Entry[] = [];
    items.forEach((item, i) => {
      const envelope = isObject(item) && isObject(item.server);
      const server = envelope ? item.server : item;
      const meta = envelope && isObject(item._meta) ? (item._meta as EnvelopeMeta) : undefined;
      try {
        const entry = serverJsonToEntry(server, this.name, meta, { sourceUrl: file });
        entry.provenance = this.provenance(item, 'server.json');
        out.push(entry);
      } catch (err) {
        if (!(err instanceof ServerJsonError)) throw err;
        const msg = `${file}: item ${i + 1}: ${err.message}; skipped`;
        warnings.push(msg);
        log.warn(msg);
      }
    });
    return out;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Does `dir` hold at least one `<name>/server.yaml`? Stops at the first one found. */
async function hasServerYamls(dir: string): Promise<boolean> {
  let subdirs: string[];
  try {
    subdirs = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name);
  } catch {
    return false;
  }
  for (const d of subdirs) {
    if (await stat(join(dir, d, 'server.yaml')).then((s) => s.isFile(), () => false)) return true;
  }
  return false;
}

/** Every file one level below the server folders (server.yaml, tools.json, readme): what the reader reads. */
async function dockerFiles(dir: string): Promise<string[]> {
  const listing = await readdir(dir, { withFileTypes: true, recursive: true });
  return listing
    .filter((d) => d.isFile() && dirname(resolve(d.parentPath)) === resolve(dir))
    .map((d) => join(d.parentPath, d.name))
    .sort();
}

/** Parse a catalog file as JSON (.json) or YAML (anything else), with the position of a syntax error. */
async function readCatalogFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new SourceError(`cannot read catalog ${file}: ${(err as Error).message}`, 'check that it exists and is readable');
  }
  if (extname(file).toLowerCase() === '.json') {
    try {
      return JSON.parse(text);
    } catch (err) {
      const pos = /position (\d+)/.exec((err as Error).message);
      const where = pos ? ` at ${lineCol(text, Number(pos[1]))}` : '';
      throw new SourceError(`${file} is not valid JSON${where}: ${(err as Error).message}`, `fix the file; ${EXPECTED}`);
    }
  }
  try {
    return parseYaml(text);
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const lp = err.linePos?.[0];
      const where = lp ? ` at line ${lp.line}, column ${lp.col}` : '';
      throw new SourceError(`${file} is not valid YAML${where}: ${err.message.split('\n')[0]}`, `fix the file; ${EXPECTED}`);
    }
    throw new SourceError(`${file} could not be parsed: ${(err as Error).message}`, EXPECTED);
  }
}

function lineCol(text: string, pos: number): string {
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  return `line ${line}, column ${pos - before.lastIndexOf('\n')}`;
}
