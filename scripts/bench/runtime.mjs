// The runtime's costs, each beside its baseline in the same run:
//  - proxy overhead: tool calls through a mounted tool vs the SDK client calling the same child directly, in
//    1,000 calls just after start (cold) and RUNTIME_BENCH_TRIALS (5) trials of 1,000 calls after
//    RUNTIME_BENCH_WARMUP (3,000) calls per path (warm), beside a byte relay and the thinnest SDK Server + Client
//    proxy between the same client and child,
//    (a) with the child as a host process (isolates the proxy: a stand-in `podman` execs the tiny server) and
//    (b) with the child in a real container;
//  - activation: registry-add of a local image vs a bare `podman run` + initialize + tools/list of it;
//  - memory per active server in the registry process (RSS growth over N mounted host-process children).
// Usage: node scripts/bench/runtime.mjs   (after `npm run build`; (b) and activation need podman and the test images)
//        RUNTIME_BENCH_ONLY=proxy,activation,memory picks parts.
//        Diagnosing the registry under load: BENCH_REGISTRY_STDERR=1 shows its stderr, BENCH_REGISTRY_NODE_ARGS adds
//        node flags (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"; nothing that writes to stdout, the MCP channel).
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { stringify as toYaml } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist', 'cli.js');
const TINY = join(root, 'test/images/tiny-server/server.mjs');
const TINY_IMAGE = 'localhost/mcp-registry-test/tiny:1';
const RELAY = join(root, 'scripts/bench/proxies/relay.mjs');
const SDK_PROXY = join(root, 'scripts/bench/proxies/sdk-proxy.mjs');
const CALLS = 1000;
const ROUNDS = 10;
// Trials of CALLS calls each: one trial's p99 is its 10th-slowest call, which on a shared 2-core machine swings by
// ±0.5 ms between runs; the pooled figure over all trials is the steadier estimate of the same p99.
const TRIALS = Number(process.env.RUNTIME_BENCH_TRIALS ?? 5);
const WARMUP = Number(process.env.RUNTIME_BENCH_WARMUP ?? 3000);

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const median = (xs) => pct(xs, 50);

/** A `podman` that runs the image's server as a plain host process (and answers the few other commands used). */
async function fakePodman(dir) {
  const path = join(dir, 'fake-podman');
  const info = JSON.stringify({ version: { Version: 'host-process' }, host: { security: { rootless: false }, ociRuntime: { name: 'none' }, cgroupVersion: 'v2' } });
  await writeFile(
    path,
    // `image inspect` prints an image ID: the registry pins every start to one.
    `#!/bin/sh\ncase "$1" in\n  info) echo '${info}' ;;\n  ps) echo '[]' ;;\n  image) [ "$2" = inspect ] && echo ${'0'.repeat(64)}; exit 0 ;;\n  run) exec "${process.execPath}" "${TINY}" ;;\n  *) exit 0 ;;\nesac\n`,
  );
  await chmod(path, 0o755);
  return path;
}

/** A docker-layout catalog of `n` servers, all the tiny image (distinct names, so each mounts on its own). */
async function catalog(dir, n) {
  for (let i = 0; i < n; i++) {
    const name = i === 0 ? 'tiny' : `tiny-${i}`;
    await mkdir(join(dir, 'servers', name), { recursive: true });
    await writeFile(
      join(dir, 'servers', name, 'server.yaml'),
      toYaml({ name, image: TINY_IMAGE, type: 'server', about: { title: name }, source: { project: `https://github.com/bench/${name}` }, run: { disableNetwork: true } }),
    );
  }
  return dir;
}

async function startRegistry(home, runtime = {}) {
  await writeFile(join(home, 'config.yaml'), toYaml({ sources: [{ name: 'bench', type: 'file', path: join(home, 'catalog') }], refresh: { onStart: false }, runtime }));
  const transport = new StdioClientTransport({ command: process.execPath, args: [...(process.env.BENCH_REGISTRY_NODE_ARGS?.split(' ').filter(Boolean) ?? []), cli], env: { ...process.env, MCP_REGISTRY_HOME: home, MCP_REGISTRY_LOG_LEVEL: 'error' }, stderr: process.env.BENCH_REGISTRY_STDERR ? 'inherit' : 'ignore' });
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(transport);
  const call = async (name, args = {}) => {
    const r = await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 });
    if (r.isError) throw new Error(`${name}: ${r.content.map((c) => c.text).join(' ')}`);
    return r;
  };
  return { client, call, pid: transport.pid, close: () => client.close() };
}

async function directClient(command, args, env) {
  const transport = new StdioClientTransport({ command, args, env, stderr: 'ignore', cwd: '/' });
  const client = new Client({ name: 'bench-direct', version: '1' });
  await client.connect(transport);
  return client;
}

const ARGS = { text: 'x'.repeat(100) };

async function warm(callers, n) {
  for (const c of callers) for (let i = 0; i < n; i++) await c(ARGS);
}

/** Latencies of CALLS echo calls through each of the callers, in alternating rounds (same noise for all). */
async function latencies(callers) {
  const out = callers.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (const [k, c] of callers.entries()) {
      for (let i = 0; i < CALLS / ROUNDS; i++) {
        const t0 = performance.now();
        await c(ARGS);
        out[k].push(performance.now() - t0);
      }
    }
  }
  return out;
}

/**
 * `trials` is a list of [direct, mounted, relayed, sdk-proxied] latency lists, CALLS calls each. Two baselines for
 * the added latency: a process that only copies bytes (proxies/relay.mjs: the cost of the extra hop itself) and the
 * thinnest SDK Server + Client proxy (proxies/sdk-proxy.mjs: what any SDK-based proxy pays).
 */
function reportOverhead(report, label, trials) {
  const [direct, proxied, relayed, sdk] = [0, 1, 2, 3].map((k) => trials.flatMap((t) => t[k]));
  const added = (xs, p) => pct(xs, p) - pct(direct, p);
  const perTrial = (k) => trials.map((t) => pct(t[k], 99) - pct(t[0], 99));
  const fmtList = (xs) => xs.map((x) => x.toFixed(2)).join(' ');
  const what = `${trials.length}×${CALLS} calls, ${label}`;
  report(`${what}: direct p50`, pct(direct, 50), 'ms');
  report(`${what}: direct p99`, pct(direct, 99), 'ms');
  report(`${what}: mounted p50`, pct(proxied, 50), 'ms', pct(direct, 50));
  report(`${what}: mounted p99`, pct(proxied, 99), 'ms', pct(direct, 99));
  report(`${what}: byte relay added p50 / p99`, `${added(relayed, 50).toFixed(3)} / ${added(relayed, 99).toFixed(2)}`, 'ms');
  report(`${what}: bare SDK proxy added p50 / p99`, `${added(sdk, 50).toFixed(3)} / ${added(sdk, 99).toFixed(2)}`, 'ms');
  report(`${what}: added p50`, added(proxied, 50), 'ms', added(sdk, 50), '≤ 0.5 ms');
  report(`${what}: added p99`, added(proxied, 99), 'ms', added(sdk, 99), '≤ 2 ms');
  if (trials.length < 2) return;
  report(`${label}: added p99 of each ${CALLS}-call trial`, fmtList(perTrial(1)), 'ms', undefined, `median ${median(perTrial(1)).toFixed(2)} ms`);
  report(`${label}: bare SDK proxy added p99 of each trial`, fmtList(perTrial(3)), 'ms', undefined, `median ${median(perTrial(3)).toFixed(2)} ms`);
}

/**
 * Two states of the same processes. Cold: the first CALLS calls after a short warm-up, while V8 is still compiling
 * the call path (every process here, the baselines' included, is slower and spikier then). Warm: after WARMUP calls
 * through each path, the state a registry that has been up for a while is in; TRIALS trials, pooled.
 */
async function measureProxies(report, label, callers) {
  // Everything has just started (the registry's add, four children, their podman processes): let start-up work
  // finish, so the cold figure is the call path's and no path is measured while its neighbour is still starting.
  await new Promise((r) => setTimeout(r, 2000));
  await warm(callers, 100);
  reportOverhead(report, `${label}, cold (calls 101-${100 + CALLS})`, [await latencies(callers)]);
  await warm(callers, Math.max(0, WARMUP - 100 - CALLS));
  const trials = [];
  for (let t = 0; t < TRIALS; t++) trials.push(await latencies(callers));
  reportOverhead(report, `${label}, warm (after ${WARMUP})`, trials);
}

/**
 * The registry (with `runtime`) and three clients of the same child — direct, through the byte relay, through the
 * bare SDK proxy — measured side by side. `child(name)` gives the command that starts one copy of the child.
 */
async function proxyOverhead(report, label, runtime, child) {
  const home = await mkdtemp(join(tmpdir(), 'bench-runtime-'));
  const clients = [];
  try {
    await catalog(join(home, 'catalog'), 1);
    const reg = await startRegistry(home, runtime);
    clients.push(reg);
    const via = async (name, wrap) => {
      const c = await child(name);
      const client = await directClient(wrap ? process.execPath : c.command, wrap ? [wrap, c.command, ...c.args] : c.args, c.env);
      clients.push(client);
      return client;
    };
    const direct = await via('direct');
    const relayed = await via('relayed', RELAY);
    const sdkProxied = await via('sdk-proxied', SDK_PROXY);
    await reg.call('registry-add', { id: 'bench/tiny' });
    await measureProxies(report, label, [direct, reg.client, relayed, sdkProxied].map((c, k) => (a) => c.callTool({ name: k === 1 ? 'tiny__echo' : 'echo', arguments: a })));
  } finally {
    for (const c of clients.reverse()) await c.close();
    await rm(home, { recursive: true, force: true });
  }
}

async function hostProcessOverhead(report) {
  const fake = await mkdtemp(join(tmpdir(), 'bench-podman-'));
  try {
    await proxyOverhead(report, 'host-process child', { podman: await fakePodman(fake) }, async () => ({ command: process.execPath, args: [TINY], env: {} }));
  } finally {
    await rm(fake, { recursive: true, force: true });
  }
}

async function podmanReady() {
  const { Podman } = await import(pathToFileURL(join(root, 'dist/runtime/podman/podman.js')).href);
  const podman = new Podman();
  const v = await podman.version();
  if (!v || !(await podman.imageExists(TINY_IMAGE))) return null;
  return podman;
}

/** The exact `podman run` the registry would use for bench/tiny, under another container name. */
async function bareRun(podman, name) {
  const { newInstanceId, INSTANCE_LABEL, ENTRY_LABEL } = await import(pathToFileURL(join(root, 'dist/runtime/podman/podman.js')).href);
  const cmd = podman.runCommand({
    name,
    image: TINY_IMAGE,
    labels: { [INSTANCE_LABEL]: newInstanceId(), [ENTRY_LABEL]: 'bench/bare' },
    env: {},
    secretEnv: {},
    network: 'none',
    readOnly: true,
    user: '65534:65534',
    memory: '512m',
    cpus: '1',
    pidsLimit: 256,
  });
  const env = Object.fromEntries(Object.entries(cmd.env).filter(([, v]) => v !== undefined));
  return { command: cmd.command, args: cmd.args, env };
}

async function containerOverhead(report, podman) {
  await proxyOverhead(report, 'container child', {}, (name) => bareRun(podman, `mcp-registry-bench-${name}-${process.pid}`));
}

async function activation(report, podman) {
  const home = await mkdtemp(join(tmpdir(), 'bench-runtime-'));
  const runs = 9;
  try {
    await catalog(join(home, 'catalog'), 1);
    const reg = await startRegistry(home);
    try {
      // The registry's first call loads the catalog and probes podman (once per process): not part of an add.
      await reg.call('registry-status');
      await reg.call('registry-add', { id: 'bench/tiny' });
      await reg.call('registry-remove', { id: 'bench/tiny' });
      const bare = [];
      const added = [];
      const timeBare = async (i) => {
        const t0 = performance.now();
        const run = await bareRun(podman, `mcp-registry-bench-bare-${process.pid}-${i}`);
        const c = await directClient(run.command, run.args, run.env);
        await c.listTools();
        bare.push(performance.now() - t0);
        await c.close();
      };
      const timeAdd = async () => {
        const t0 = performance.now();
        await reg.call('registry-add', { id: 'bench/tiny' });
        added.push(performance.now() - t0);
        await reg.call('registry-remove', { id: 'bench/tiny' });
      };
      // Alternate which goes first, so a noisy moment does not always hit the same side.
      for (let i = 0; i < runs; i++) {
        if (i % 2) {
          await timeAdd();
          await timeBare(i);
        } else {
          await timeBare(i);
          await timeAdd();
        }
      }
      report('activation: bare podman run + initialize + tools/list (median)', median(bare), 'ms');
      report('activation: registry-add of the same image (median)', median(added), 'ms', median(bare));
      report('activation: added by registry-add', median(added) - median(bare), 'ms', undefined, '≤ 50 ms');
    } finally {
      await reg.close();
    }
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

async function rss(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

async function memory(report) {
  const n = 20;
  const home = await mkdtemp(join(tmpdir(), 'bench-runtime-'));
  try {
    await catalog(join(home, 'catalog'), n + 1);
    const reg = await startRegistry(home, { podman: await fakePodman(home) });
    try {
      // One mount first, so code paths and pools used by any mount are already in the baseline.
      await reg.call('registry-add', { id: 'bench/tiny' });
      for (let i = 0; i < 50; i++) await reg.call('tiny__echo', { text: 'warm' });
      await new Promise((r) => setTimeout(r, 1000));
      const before = await rss(reg.pid);
      for (let i = 1; i <= n; i++) {
        await reg.call('registry-add', { id: `bench/tiny-${i}` });
        await reg.call(`tiny-${i}__echo`, { text: 'hi' });
      }
      await reg.client.listTools();
      await new Promise((r) => setTimeout(r, 1000));
      const after = await rss(reg.pid);
      report(`memory: registry RSS with 1 mounted server`, before, 'MB');
      report(`memory: registry RSS with ${n + 1} mounted servers`, after, 'MB', before);
      report('memory: per active server in the registry process', (after - before) / n, 'MB', undefined, '≤ 5 MB');
    } finally {
      await reg.close();
    }
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

export async function run(report, only = process.env.RUNTIME_BENCH_ONLY?.split(',')) {
  const want = (part) => !only?.length || only.includes(part);
  if (want('proxy')) await hostProcessOverhead(report);
  const podman = await podmanReady();
  if (!podman) {
    report('container figures skipped: podman or the test image is missing (scripts/setup-podman.sh, scripts/build-test-images.sh)', 0, '');
  } else {
    if (want('proxy')) await containerOverhead(report, podman);
    if (want('activation')) await activation(report, podman);
  }
  if (want('memory')) await memory(report);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const fmt = (v) => (typeof v !== 'number' ? String(v) : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3));
  await run((label, value, unit = '', baseline, target) =>
    console.log(`${label.padEnd(66)} ${fmt(value).padStart(9)} ${unit}${baseline === undefined ? '' : `   baseline ${fmt(baseline)} ${unit}`}${target ? `   (target ${target})` : ''}`),
  );
}
