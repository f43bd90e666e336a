import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry } from '../../src/model/entry.js';
import { createLogger } from '../../src/util/log.js';
import { readDockerServersDir } from '../../src/sources/docker-yaml.js';
import { dockerBundle } from './shared-data.js';

/**
 * The real Docker catalog as entries: the shared bundle cloned into a temp folder and read by the docker source's
 * own reader. `get(name)` fails loudly when a server the test relies on is absent.
 */
export interface DockerEntries {
  dir: string;
  all: Entry[];
  get(name: string): Entry;
  cleanup(): void;
}

export async function loadDockerEntries(prefix = 'docker-entries-'): Promise<DockerEntries> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  execFileSync('git', ['clone', '--quiet', dockerBundle(), join(dir, 'repo')]);
  const { entries } = await readDockerServersDir(join(dir, 'repo', 'servers'), 'docker', createLogger('test'));
  const byId = new Map(entries.map((e) => [e.id, e]));
  return {
    dir,
    all: entries,
    get(name) {
      const e = byId.get(`docker/${name}`);
      if (!e) throw new Error(`docker/${name} is not in the real catalog bundle`);
      return e;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
