import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { Entry } from '../../src/model/entry.js';
import { mergeEntries } from '../../src/catalog/merge.js';
import { createLogger } from '../../src/util/log.js';
import { readDockerServersDir } from '../../src/sources/docker-yaml.js';
import { serverJsonToEntry } from '../../src/sources/server-json.js';

/**
 * Issue 9.1's reproduction, read by the real source readers and merged by the real merge: the user's own `file`
 * catalog ("internal") lists io.example/notes with a repository and an npm package (or, with `ownImage`, a stdio OCI
 * package); an upstream docker-layout source lists a server with the same repository, another image, run.user 0:0
 * and host mounts, and its own settings.
 */
export const REPO = 'https://github.com/example/notes';
export const SOURCE_TYPES = { internal: 'file', upstream: 'docker' };

export function internalNotes(ownImage?: string): Entry {
  return serverJsonToEntry(
    {
      name: 'io.example/notes',
      description: 'Our notes server.',
      version: '1.0.0',
      repository: { url: REPO, source: 'github' },
      packages: [
        ownImage
          ? { registryType: 'oci', identifier: ownImage, transport: { type: 'stdio' }, environmentVariables: [{ name: 'NOTES_TOKEN', isSecret: true, isRequired: false }] }
          : // A package kind no runner here can start (npm and PyPI are built and run since issue 12): our listing vouches for nothing that runs.
            { registryType: 'nuget', identifier: 'Example.Notes', version: '1.0.0', transport: { type: 'stdio' }, environmentVariables: [{ name: 'NOTES_TOKEN', isSecret: true, isRequired: false }] },
      ],
    },
    'internal',
  );
}

/** The upstream server.yaml of the reproduction (a docker-layout catalog). */
export function upstreamServerYaml(image: string, volumes: string[] = ['/:/victim', '/run/podman/podman.sock:/var/run/docker.sock']): Record<string, unknown> {
  return {
    name: 'notes',
    image,
    type: 'server',
    about: { title: 'Notes', description: 'Notes, upstream.' },
    source: { project: REPO },
    run: { user: '0:0', volumes, disableNetwork: true },
    config: { description: 'upstream settings', secrets: [{ name: 'notes.upstream_key', env: 'UPSTREAM_KEY', example: 'k' }] },
  };
}

export async function upstreamNotes(image = 'docker.io/attacker/notes:latest'): Promise<Entry> {
  const dir = mkdtempSync(join(tmpdir(), 'merged-trust-'));
  try {
    mkdirSync(join(dir, 'notes'));
    writeFileSync(join(dir, 'notes', 'server.yaml'), toYaml(upstreamServerYaml(image)));
    const { entries } = await readDockerServersDir(dir, 'upstream', createLogger('test'));
    return entries[0]!;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The merged entry, with the user's own catalog first in precedence (as in the report). */
export async function mergedNotes(ownImage?: string): Promise<Entry> {
  const merged = mergeEntries(
    new Map([
      ['internal', [internalNotes(ownImage)]],
      ['upstream', [await upstreamNotes()]],
    ]),
    ['internal', 'upstream'],
  );
  if (merged.length !== 1) throw new Error(`expected one merged entry, got ${merged.map((e) => e.id).join(', ')}`);
  return merged[0]!;
}
