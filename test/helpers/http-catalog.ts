import { EventEmitter } from 'node:events';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry } from '../../src/model/entry.js';
import { mergeEntries } from '../../src/catalog/merge.js';
import { createLogger } from '../../src/util/log.js';
import { readDockerServersDir } from '../../src/sources/docker-yaml.js';
import { serverJsonToEntry, type EnvelopeMeta } from '../../src/sources/server-json.js';
import { sourceNamespace, type MappingOptions } from '../../src/http/server-json-out.js';
import { dockerBundle, sharedData } from './shared-data.js';

/**
 * The real catalog data for HTTP API tests: Docker's registry (from the bundle, read by the docker source's reader)
 * and the official registry's captured list page (mapped by the official source's mapper), merged the way the
 * catalog merges them.
 */

export interface RealCatalog {
  docker: Entry[];
  official: Entry[];
  /** Docker first, official second (the default config order). */
  merged: Entry[];
}

let cached: Promise<RealCatalog> | null = null;

export function realCatalog(): Promise<RealCatalog> {
  cached ??= (async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'http-catalog-'));
    try {
      execFileSync('git', ['clone', '--quiet', dockerBundle(), join(tmp, 'repo')]);
      const { entries: docker } = await readDockerServersDir(join(tmp, 'repo', 'servers'), 'docker', createLogger('test'));
      const page = JSON.parse(readFileSync(sharedData('official-registry/list-page.json'), 'utf8')) as { servers: { server: unknown; _meta?: EnvelopeMeta }[] };
      const official = page.servers.map((s) => serverJsonToEntry(s.server, 'official', s._meta));
      const merged = mergeEntries(
        new Map([
          ['docker', docker],
          ['official', official],
        ]),
        ['docker', 'official'],
      );
      return { docker, official, merged };
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  })();
  return cached;
}

/** Name mapping as `serve-http` configures it for the default sources. */
export const realMapping: MappingOptions = {
  namespaces: {
    docker: sourceNamespace({ name: 'docker', type: 'docker', url: 'https://github.com/docker/mcp-registry.git' }),
    official: sourceNamespace({ name: 'official', type: 'official', url: 'https://registry.modelcontextprotocol.io' }),
    mcpservers: sourceNamespace({ name: 'mcpservers', type: 'mcpservers', url: 'https://mcpservers.org' }),
  },
  serverJsonSources: new Set(['official']),
};

/** Holds a list of entries and announces a new one the way Catalog does ('updated'). */
export class EntryList extends EventEmitter {
  constructor(private entries: readonly Entry[]) {
    super();
  }
  all(): readonly Entry[] {
    return this.entries;
  }
  replace(entries: readonly Entry[]): void {
    this.entries = entries;
    this.emit('updated', entries.length);
  }
}

export interface Fetched {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function get(url: string, init: RequestInit = {}): Promise<Fetched> {
  const r = await fetch(url, init);
  const text = await r.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, text, json };
}
