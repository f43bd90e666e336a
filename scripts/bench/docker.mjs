// The docker source on the real registry bundle (328 servers): first fetch (clone + parse), parsing alone,
// a refresh when nothing changed, and a refresh after upstream moved. Needs the compiled output (npx tsc -p .).
// Run alone: node scripts/bench/docker.mjs
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bundle = process.env.MCP_REGISTRY_SHARED
  ? join(process.env.MCP_REGISTRY_SHARED, 'data', 'docker-mcp-registry', 'docker-mcp-registry.bundle')
  : join(root, '..', 'shared', 'data', 'docker-mcp-registry', 'docker-mcp-registry.bundle');

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function timed(fn) {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

export async function run(report) {
  const dist = (p) => import(pathToFileURL(join(root, 'dist', p)).href);
  const { DockerSource } = await dist('sources/docker.js');
  const { readDockerServersDir } = await dist('sources/docker-yaml.js');
  const { createLogger, setLogLevel } = await dist('util/log.js');
  setLogLevel('error');
  const log = createLogger('bench');
  const tmp = await mkdtemp(join(tmpdir(), 'bench-docker-'));
  const ctx = (workDir, over = {}) => ({
    previous: null,
    workDir,
    signal: new AbortController().signal,
    progress: () => undefined,
    log,
    force: false,
    ...over,
  });
  const prev = (r) => ({ entries: r.entries, state: r.state, fetchedAt: new Date().toISOString() });
  try {
    const plain = await timed(() => execFileSync('git', ['clone', '-q', bundle, join(tmp, 'plain')]));
    const src = new DockerSource({ name: 'docker', url: bundle, ref: 'main' });
    const work = join(tmp, 'work');
    const first = await timed(() => src.fetch(ctx(work)));
    if (first.value.entries.length !== 328) throw new Error(`expected 328 entries, got ${first.value.entries.length}`);
    report('first fetch: clone bundle + parse 328 servers', first.ms, 'ms', plain.ms);

    const servers = join(work, 'repo', 'servers');
    const parses = [];
    for (let i = 0; i < 5; i++) parses.push((await timed(() => readDockerServersDir(servers, 'docker', log))).ms);
    report('parse 328 servers (median of 5)', median(parses), 'ms', undefined, '≤ 1000 ms');
    report('parse 328 servers (slowest of 5)', Math.max(...parses), 'ms');

    const noChange = [];
    let last = first.value;
    for (let i = 0; i < 5; i++) {
      const r = await timed(() => src.fetch(ctx(work, { previous: prev(last) })));
      if (!r.value.unchanged) throw new Error('a refresh with no upstream change was not reported unchanged');
      noChange.push(r.ms);
      last = r.value;
    }
    report('no-change refresh: fetch + reset + HEAD check (median of 5)', median(noChange), 'ms', undefined, '≤ 500 ms');

    // Upstream moves forward: a bare copy reset to an older commit, then moved to the bundle's head.
    const bare = join(tmp, 'remote.git');
    execFileSync('git', ['clone', '-q', '--bare', bundle, bare]);
    const head = execFileSync('git', ['-C', bare, 'rev-parse', 'main'], { encoding: 'utf8' }).trim();
    const old = execFileSync('git', ['-C', bare, 'rev-list', '-n', '1', '--before=2025-09-01', 'main'], { encoding: 'utf8' }).trim();
    execFileSync('git', ['-C', bare, 'update-ref', 'refs/heads/main', old]);
    const moving = new DockerSource({ name: 'docker', url: bare, ref: 'main' });
    const work2 = join(tmp, 'work2');
    const before = await moving.fetch(ctx(work2));
    execFileSync('git', ['-C', bare, 'update-ref', 'refs/heads/main', head]);
    const moved = await timed(() => moving.fetch(ctx(work2, { previous: prev(before) })));
    report(`refresh after upstream moved (${before.entries.length} → ${moved.value.entries.length} servers)`, moved.ms, 'ms');
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run((label, value, unit = '', baseline, target) =>
    console.log(
      `${label.padEnd(62)} ${value.toFixed(1).padStart(8)} ${unit}` +
        (baseline === undefined ? '' : `   baseline ${baseline.toFixed(1)} ${unit}`) +
        (target ? `   (target ${target})` : ''),
    ),
  );
}
