// The runtime's data side on the real Docker catalog (328 servers): launch plans, settings validation, policy
// decisions, and locked state updates (one process, and two processes sharing one state dir).
// Needs the compiled output (npx tsc -p .). Run alone: node scripts/bench/runtime-data.mjs
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bundle = process.env.MCP_REGISTRY_SHARED
  ? join(process.env.MCP_REGISTRY_SHARED, 'data', 'docker-mcp-registry', 'docker-mcp-registry.bundle')
  : join(root, '..', 'shared', 'data', 'docker-mcp-registry', 'docker-mcp-registry.bundle');

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = (fn) => {
  const t = performance.now();
  fn();
  return performance.now() - t;
};

export async function run(report) {
  const dist = (p) => pathToFileURL(join(root, 'dist', p)).href;
  const { readDockerServersDir } = await import(dist('sources/docker-yaml.js'));
  const { planLaunch } = await import(dist('runtime/launch-plan.js'));
  const { validateSettings } = await import(dist('runtime/settings.js'));
  const { Policy } = await import(dist('governance/policy.js'));
  const { StateStore } = await import(dist('store/state.js'));
  const { createLogger, setLogLevel } = await import(dist('util/log.js'));
  setLogLevel('error');
  const tmp = await mkdtemp(join(tmpdir(), 'bench-runtime-data-'));
  try {
    execFileSync('git', ['clone', '-q', bundle, join(tmp, 'repo')]);
    const { entries } = await readDockerServersDir(join(tmp, 'repo', 'servers'), 'docker', createLogger('bench'));
    const input = { settings: {}, secrets: {}, defaults: { memory: '512m', cpus: '1', pidsLimit: 256 }, checkPaths: false };

    report(`planLaunch, all ${entries.length} entries, first pass (compiles schemas)`, time(() => entries.forEach((e) => planLaunch(e, input))), 'ms');
    const passes = Array.from({ length: 5 }, () => time(() => entries.forEach((e) => planLaunch(e, input))));
    report(`planLaunch, all ${entries.length} entries (median of 5)`, median(passes), 'ms', undefined, '≤ 50 ms');

    const es = entries.find((e) => e.id === 'docker/schemacrawler-ai');
    const v = Array.from({ length: 5 }, () => time(() => { for (let i = 0; i < 1000; i++) validateSettings(es, { 'server_connection.port': '5432', 'server_connection.server': 'pg' }); }));
    report('validateSettings, nested + coerced (µs per call, median of 5×1000)', median(v), 'µs');

    const policy = await Policy.load(join(tmp, 'policy.yaml'), { docker: 'docker' });
    const d = Array.from({ length: 5 }, () => time(() => entries.forEach((e) => policy.decide(e))));
    report(`policy.decide, all ${entries.length} entries (median of 5)`, median(d), 'ms');

    const store = new StateStore(join(tmp, 'state1'));
    const t = performance.now();
    for (let i = 0; i < 100; i++) await store.putMount({ id: `docker/m${i}`, prefix: `m${i}`, addedAt: new Date().toISOString() });
    report('locked state update, one process (ms each, 100 in a row)', (performance.now() - t) / 100, 'ms');

    const script = join(root, 'dist', `.bench-writer-${process.pid}.mjs`);
    await writeFile(script, `import { StateStore } from './store/state.js';\nconst s = new StateStore(process.argv[2]);\nfor (let i = 0; i < 50; i++) await s.putMount({ id: process.argv[3] + i, prefix: 'p' + i, addedAt: 'x' });\n`);
    try {
      const dir = join(tmp, 'state2');
      const t2 = performance.now();
      await Promise.all(['a', 'b'].map((tag) => new Promise((res, rej) => spawn(process.execPath, [script, dir, tag], { stdio: 'inherit' }).on('exit', (c) => (c === 0 ? res() : rej(new Error(`writer exited ${c}`)))))));
      const ms = performance.now() - t2;
      const n = (await new StateStore(dir).mounts()).length;
      if (n !== 100) throw new Error(`lost updates: ${n} of 100 mounts present`);
      report('2 processes × 50 locked updates, wall time (incl. node start)', ms, 'ms');
    } finally {
      await rm(script, { force: true });
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run((label, value, unit) => console.log(`${label.padEnd(70)} ${typeof value === 'number' ? value.toFixed(2) : value} ${unit}`));
}
