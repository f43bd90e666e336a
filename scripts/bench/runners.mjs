// The npm runner's costs (issue 12), each beside its baseline in the same run:
//  - first registry-add of @modelcontextprotocol/server-memory (build in a container + start) vs `npx -y <pkg>` on
//    the host with an empty npm cache, each to the first tools/list;
//  - second registry-add (image built) vs a bare `podman run` of the same built image + initialize + tools/list;
//  - disk: the built image's own layers, and the runner base image they share (counted once).
// Needs podman, the runner image (bash scripts/build-runner-images.sh) and the npm registry (through the host's CA
// bundle: BENCH_CA_BUNDLE, default /etc/ssl/certs/ca-certificates.crt).
// Usage: node scripts/bench/runners.mjs   (after `npm run build`). RUNNERS_BENCH_COLD=0 skips the two cold figures.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { stringify as toYaml } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist', 'cli.js');
const PKG = '@modelcontextprotocol/server-memory';
const VERSION = '2026.8.31';
const IMAGE = `localhost/mcp-registry/npm/modelcontextprotocol/server-memory:${VERSION}`;
const RUNNER = process.env.BENCH_NPM_RUNNER ?? 'localhost/mcp-registry/runner-node:20';
const CA = process.env.BENCH_CA_BUNDLE ?? '/etc/ssl/certs/ca-certificates.crt';
const ID = 'bench/io.github.modelcontextprotocol/server-memory';
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const podman = (...args) => execFileSync('podman', args, { encoding: 'utf8', cwd: '/' }).trim();

async function client(command, args, env) {
  const transport = new StdioClientTransport({ command, args, env: { ...process.env, ...env }, stderr: 'ignore', cwd: '/' });
  const c = new Client({ name: 'bench-runners', version: '1' });
  await c.connect(transport);
  return c;
}

async function registry(home) {
  await writeFile(
    join(home, 'config.yaml'),
    toYaml({ sources: [{ name: 'bench', type: 'file', path: join(home, 'pkgs.json') }], refresh: { onStart: false }, runtime: { startTimeout: '120s', caBundle: CA, runners: { npm: { image: RUNNER }, buildWait: '15m' } } }),
  );
  await writeFile(
    join(home, 'pkgs.json'),
    JSON.stringify([{ name: 'io.github.modelcontextprotocol/server-memory', description: 'memory', version: VERSION, packages: [{ registryType: 'npm', identifier: PKG, version: VERSION, transport: { type: 'stdio' }, environmentVariables: [{ name: 'MEMORY_FILE_PATH', value: '/tmp/m.jsonl' }] }] }]),
  );
  const c = await client(process.execPath, [cli], { MCP_REGISTRY_HOME: home, MCP_REGISTRY_LOG_LEVEL: 'error' });
  const call = async (name, args = {}) => {
    const r = await c.callTool({ name, arguments: args }, undefined, { timeout: 900_000 });
    if (r.isError) throw new Error(`${name}: ${r.content.map((x) => x.text).join(' ')}`);
    return r;
  };
  return { call, close: () => c.close() };
}

export async function run(report) {
  try {
    podman('image', 'exists', RUNNER);
  } catch {
    report(`runners skipped: no ${RUNNER} (bash scripts/build-runner-images.sh)`, 0, '');
    return;
  }
  const home = await mkdtemp(join(tmpdir(), 'bench-runners-'));
  const cold = process.env.RUNNERS_BENCH_COLD !== '0';
  try {
    const reg = await registry(home);
    try {
      await reg.call('registry-refresh');
      await reg.call('registry-status');
      if (cold) {
        execFileSync('podman', ['rmi', '-f', IMAGE], { cwd: '/', stdio: 'ignore' });
        const t0 = performance.now();
        await reg.call('registry-add', { id: ID });
        report('npm: first registry-add (build + start) to tools', performance.now() - t0, 'ms');
        await reg.call('registry-remove', { id: ID });
        // npx on the host, with an empty cache: what a user waits for without this registry.
        const cache = await mkdtemp(join(tmpdir(), 'bench-npx-cache-'));
        try {
          const t1 = performance.now();
          const c = await client('npx', ['-y', `${PKG}@${VERSION}`], { npm_config_cache: cache, npm_config_update_notifier: 'false', MEMORY_FILE_PATH: join(cache, 'm.jsonl'), NODE_EXTRA_CA_CERTS: CA });
          await c.listTools();
          report('npm: npx -y <pkg> on the host, empty cache, to tools/list', performance.now() - t1, 'ms');
          await c.close();
        } finally {
          await rm(cache, { recursive: true, force: true });
        }
      } else await reg.call('registry-add', { id: ID }).then(() => reg.call('registry-remove', { id: ID }));

      const bare = [];
      const limited = [];
      const added = [];
      // The bare run, and the same with the flags registry-add adds to it (default limits, labels, no log driver):
      // what the hardening costs inside podman, apart from what the registry's own work costs.
      const bareRun = async (name, extra, retry = true) => {
        // Under a loaded machine a podman run now and then loses its stdio before answering: one more try, not a crash.
        try {
          return await bareOnce(name, extra);
        } catch (err) {
          if (!retry) throw err;
          return bareRun(`${name}-again`, extra, false);
        }
      };
      const bareOnce = async (name, extra) => {
        const t0 = performance.now();
        const c = await client('podman', ['run', '-i', '--rm', '--init', '--pull', 'never', '--name', name, '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--user', '65534:65534', '--read-only', '--tmpfs', '/tmp:rw,size=64m,mode=1777', '--network', 'none', ...extra, '-e', 'MEMORY_FILE_PATH=/tmp/m.jsonl', '--', IMAGE]);
        await c.listTools();
        const ms = performance.now() - t0;
        await c.close();
        return ms;
      };
      const ourFlags = ['--label', 'bench=1', '--http-proxy=false', '--log-driver', 'none', '--memory', '512m', '--cpus', '1', '--pids-limit', '256'];
      for (let i = 0; i < 7; i++) {
        bare.push(await bareRun(`mcp-registry-bench-runner-${process.pid}-${i}`, []));
        limited.push(await bareRun(`mcp-registry-bench-runner-${process.pid}-${i}-limits`, ourFlags));
        const t1 = performance.now();
        await reg.call('registry-add', { id: ID });
        added.push(performance.now() - t1);
        await reg.call('registry-remove', { id: ID });
      }
      report('npm: bare podman run of the built image + initialize + tools/list (median)', median(bare), 'ms');
      report('npm: the same bare run with the flags registry-add adds (limits, labels) (median)', median(limited), 'ms', median(bare));
      report('npm: second registry-add (image built) (median)', median(added), 'ms', median(bare));
      report('npm: added by registry-add', median(added) - median(bare), 'ms', undefined, '≤ 50 ms');
      report('npm: added by registry-add over the same flags', median(added) - median(limited), 'ms');
    } finally {
      await reg.close();
    }
    const size = (ref) => Number(podman('image', 'inspect', '--format', '{{.Size}}', ref));
    const own = size(IMAGE) - size(RUNNER);
    report('npm: disk of the built image, own layers', own / 1e6, 'MB');
    report(`npm: disk of the runner base image (shared, counted once)`, size(RUNNER) / 1e6, 'MB');
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href && existsSync(cli)) {
  await run((label, value, unit = '', baseline, target) => console.log(`${label.padEnd(72)} ${typeof value === 'number' ? value.toFixed(0) : value} ${unit}${baseline !== undefined ? `  baseline ${baseline.toFixed(0)}` : ''}${target ? `  (target ${target})` : ''}`));
}
