#!/usr/bin/env node
// Runs the official MCP conformance suite against a target MCP server over Streamable HTTP (server leg, default),
// or against an MCP client command (client leg, --client).
//
//   node scripts/conformance.mjs [options] [-- <target command...>]
//   node scripts/conformance.mjs --client [options] [-- <client command...>]
//
// The suite (@modelcontextprotocol/conformance, pinned below) needs Node >= 22 while the product runs on Node 20,
// so this script fetches its own Node 22 from npm (node-<platform>-<arch>@22) into a cache directory and runs the
// suite with it; nothing the product runs on changes. Both are installed once and reused.
//
// The target is a command (argv after `--`) in which `{port}` is replaced by a free port; the script starts it,
// waits until the port accepts connections, runs each requirement set, and stops it. Default target: our own
// conformance fixture server. Round 3 passes `-- node dist/cli.js serve-mcp …` instead.
// Client leg: the suite starts a mock server per scenario and runs the client command with its URL appended;
// default command: test/conformance/registry-client.mjs, which drives the registry's own child client.
//
// Options:
//   --requirements <rev[,rev]>   requirement sets to run (default 2025-11-25,2026-07-28)
//   --expected-failures <file>   baseline of known failures (default test/conformance/expected-failures.yml)
//   --url <url>                  URL the suite tests; `{port}` is substituted (default http://127.0.0.1:{port}/mcp)
//   --no-target                  do not start anything: test a server already listening at --url
//   --scenario <name[,name]>     run only these scenarios, one suite run each (the baseline check still applies)
//   --client                     client leg (see above); --url, --no-target do not apply
//   --cache <dir>                where Node 22 and the suite live (default $MCP_CONFORMANCE_CACHE or
//                                ~/.cache/mcp-registry/conformance)
//   --output <dir>               keep the suite's per-scenario results here (default: a temporary dir, removed)
//   --json <file>                also write a machine-readable summary
//   --timeout <ms>               per-scenario timeout handed to the suite (default 30000)
//   --bearer-env <VAR>           the target wants "Authorization: Bearer $VAR" (serve-mcp): the suite sends no
//                                credentials, so it is pointed at a local relay that adds the header and passes
//                                everything else (Host, Origin, the body, SSE streams) through unchanged
// Exit code: 0 when every requirement set has no unexpected failure and no stale baseline entry; 1 otherwise;
// 2 for usage errors or when Node 22 / the suite / the target could not be set up.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

export const SUITE_PACKAGE = '@modelcontextprotocol/conformance';
// Pinned exactly: 0.2.0-alpha.12 is the first release with --requirements and the 2026-07-28 scenarios (npm
// `latest` is still 0.1.x); a new alpha can add or re-score scenarios, so moving it is a reviewed change.
export const SUITE_VERSION = '0.2.0-alpha.12';
const NODE_MAJOR = 22;
const REVISIONS = ['2025-11-25', '2026-07-28'];
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_TARGET = ['node', join(repoRoot, 'test/fixtures/conformance-server/server.mjs'), '--port', '{port}'];
const DEFAULT_CLIENT = ['node', join(repoRoot, 'test/conformance/registry-client.mjs')];
/** The suite runs a client command through a shell, split on spaces: only words that need no quoting pass. */
const SHELL_SAFE = /^[\w@%+=:,./-]+$/;

class SetupError extends Error {}

function usage(message) {
  throw new SetupError(`${message}\nusage: node scripts/conformance.mjs [--requirements rev[,rev]] [--expected-failures file] ` +
    '[--url url] [--no-target] [--scenario name] [--cache dir] [--output dir] [--json file] [--timeout ms] [-- target command...]');
}

export function parseArgs(argv) {
  const options = {
    requirements: REVISIONS,
    expectedFailures: join(repoRoot, 'test/conformance/expected-failures.yml'),
    url: 'http://127.0.0.1:{port}/mcp',
    leg: 'server',
    target: undefined,
    cache: process.env.MCP_CONFORMANCE_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mcp-registry', 'conformance'),
    timeout: '30000',
  };
  const valueOf = (i, name) => {
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) usage(`${name} needs a value`);
    return value;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    switch (arg) {
      case '--':
        options.target = argv.slice(i + 1);
        if (options.target.length === 0) usage('nothing after `--`: give the command, or drop `--` for the default one');
        i = argv.length;
        break;
      case '--client': options.leg = 'client'; break;
      case '--requirements': {
        options.requirements = valueOf(i++, arg).split(',').map((rev) => rev.trim());
        const unknown = options.requirements.filter((rev) => !REVISIONS.includes(rev));
        if (unknown.length > 0) usage(`unknown requirement set ${unknown.join(', ')}; known: ${REVISIONS.join(', ')}`);
        break;
      }
      case '--expected-failures': options.expectedFailures = resolve(valueOf(i++, arg)); break;
      case '--url': options.url = valueOf(i++, arg); break;
      case '--no-target': options.target = null; break;
      case '--bearer-env': options.bearerEnv = valueOf(i++, arg); break;
      case '--scenario': options.scenarios = valueOf(i++, arg).split(',').map((name) => name.trim()); break;
      case '--cache': options.cache = resolve(valueOf(i++, arg)); break;
      case '--output': options.output = resolve(valueOf(i++, arg)); break;
      case '--json': options.json = resolve(valueOf(i++, arg)); break;
      case '--timeout':
        options.timeout = valueOf(i++, arg);
        if (!/^\d+$/.test(options.timeout)) usage('--timeout takes milliseconds');
        break;
      default: usage(`unknown option "${arg}"`);
    }
  }
  if (options.leg === 'client') {
    if (options.target === null) usage('--no-target applies to the server leg only');
    options.target ??= DEFAULT_CLIENT;
    const unsafe = options.target.find((word) => !SHELL_SAFE.test(word));
    if (unsafe !== undefined) usage(`the client command word "${unsafe}" would need shell quoting, which the suite does not do`);
  } else {
    if (options.target === undefined) options.target = DEFAULT_TARGET;
    if (options.target === null && options.url.includes('{port}')) usage('--no-target needs a concrete --url (no {port})');
  }
  if (!existsSync(options.expectedFailures)) usage(`expected-failures file ${options.expectedFailures} does not exist`);
  return options;
}

/** Runs a command (argv array, no shell) and collects its output; never rejects on a non-zero exit. */
function run(command, args, { echo = false, env } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (echo) process.stdout.write(chunk);
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (echo) process.stderr.write(chunk);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}

/**
 * Installs `spec` with npm into `<cache>/<name>` unless `ready()` already holds. Installs into a private
 * temporary directory and renames it into place, so two runs sharing the cache never see a half-installed tree.
 */
async function ensureInstalled(cache, name, spec, ready) {
  const dir = join(cache, name);
  if (await ready(dir)) return dir;
  await mkdir(cache, { recursive: true });
  const staging = await mkdtemp(join(cache, `.${name}-`));
  const started = Date.now();
  console.error(`[conformance] installing ${spec} into ${dir} (once; reused afterwards)`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  // --ignore-scripts: neither package needs an install script, and nothing fetched should run code at install.
  const result = await run(npm, ['install', '--prefix', staging, '--no-save', '--no-package-lock', '--no-audit', '--no-fund',
    '--ignore-scripts', '--loglevel=error', spec]);
  if (result.code !== 0) {
    await rm(staging, { recursive: true, force: true });
    throw new SetupError(`npm install ${spec} failed (exit ${result.code}): ${result.stderr.trim() || result.stdout.trim()}\n` +
      'Check that the npm registry is reachable (npm ping), or point --cache at a directory that already holds it.');
  }
  // Another run may have finished the same install meanwhile: keep its copy (it may be running from it).
  if (await ready(dir)) {
    await rm(staging, { recursive: true, force: true });
    return dir;
  }
  await rm(dir, { recursive: true, force: true }); // an unusable leftover (an older version, a broken copy)
  try {
    await rename(staging, dir);
  } catch (error) {
    // Another run finished the same install first; its copy is as good as ours.
    await rm(staging, { recursive: true, force: true });
    if (!(await ready(dir))) throw error;
  }
  if (!(await ready(dir))) throw new SetupError(`${spec} installed into ${dir} but is not usable there`);
  console.error(`[conformance] installed ${spec} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return dir;
}

function node22Binary(dir) {
  return join(dir, 'node_modules', `node-${process.platform}-${process.arch}`, 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
}

export async function ensureNode22(cache) {
  const ready = async (dir) => {
    const binary = node22Binary(dir);
    if (!existsSync(binary)) return false;
    const version = await run(binary, ['--version']).catch(() => ({ code: 1, stdout: '' }));
    return version.code === 0 && Number(/^v(\d+)/.exec(version.stdout.trim())?.[1]) >= NODE_MAJOR;
  };
  const dir = await ensureInstalled(cache, `node${NODE_MAJOR}`, `node-${process.platform}-${process.arch}@${NODE_MAJOR}`, ready);
  return node22Binary(dir);
}

function suiteEntry(dir) {
  return join(dir, 'node_modules', ...SUITE_PACKAGE.split('/'), 'dist', 'index.js');
}

export async function ensureSuite(cache) {
  const ready = async (dir) => {
    if (!existsSync(suiteEntry(dir))) return false;
    const pkg = JSON.parse(await readFile(join(dir, 'node_modules', ...SUITE_PACKAGE.split('/'), 'package.json'), 'utf8'));
    return pkg.version === SUITE_VERSION;
  };
  const dir = await ensureInstalled(cache, `suite-${SUITE_VERSION}`, `${SUITE_PACKAGE}@${SUITE_VERSION}`, ready);
  return suiteEntry(dir);
}

function freePort() {
  return new Promise((resolvePromise, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolvePromise(port));
    });
  });
}

function canConnect(host, port) {
  return new Promise((resolvePromise) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolvePromise(true);
    });
    socket.once('error', () => resolvePromise(false));
  });
}

/**
 * A relay in front of a bearer-protected target: adds the Authorization header (the suite cannot) and passes the
 * rest through, including a Host or Origin the suite forges on purpose (its DNS-rebinding scenario); its own
 * loopback Host is rewritten to the target's.
 */
async function bearerRelay(targetUrl, token) {
  const target = new URL(targetUrl);
  const server = createHttpServer((req, res) => {
    const own = `127.0.0.1:${server.address().port}`;
    const headers = { ...req.headers, authorization: `Bearer ${token}`, host: req.headers.host === own ? target.host : req.headers.host };
    const out = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    out.on('error', () => res.headersSent ? res.destroy() : res.writeHead(502).end());
    req.pipe(out);
  });
  await new Promise((resolvePromise) => server.listen(0, '127.0.0.1', resolvePromise));
  return { url: `http://127.0.0.1:${server.address().port}${target.pathname}`, close: () => { server.closeAllConnections(); server.close(); } };
}

/** Starts the target and resolves once its port accepts connections; rejects if it exits or takes too long. */
async function startTarget(argv, url) {
  const [command, ...args] = argv;
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: repoRoot });
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk).slice(-8000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited;
  // Whatever ends this script (an error, a signal, a test timeout) must not leave the target running.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exitedPromise = new Promise((resolvePromise) => {
    child.once('exit', (code, signal) => {
      process.removeListener('exit', killOnExit);
      resolvePromise((exited = { code, signal }));
    });
    child.once('error', (error) => resolvePromise((exited = { error })));
  });
  const { hostname, port } = new URL(url);
  const deadline = Date.now() + 30_000;
  while (!(await canConnect(hostname.replace(/^\[|\]$/g, ''), Number(port)))) {
    if (exited) {
      throw new SetupError(`the target ${argv.join(' ')} ended before listening (${exited.error?.message ?? `exit ${exited.code ?? exited.signal}`}):\n${output.trim()}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new SetupError(`the target ${argv.join(' ')} did not listen on ${hostname}:${port} within 30 s:\n${output.trim()}`);
    }
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 100));
  }
  return {
    output: () => output,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
}

const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * Reads the suite's own report: per-scenario counts from its summary and the baseline verdict. `scored` is the
 * requirement set's `server:` list; everything else the suite ran (extensions, pending) is reported apart.
 */
export function parseSuiteOutput(output, scored, scenario) {
  const text = output.replace(ANSI, '');
  const scenarios = [];
  // "=== SUMMARY ===" (server leg) or "=== SUITE SUMMARY ===" (client leg); absent for a single scenario.
  const heading = text.search(/=== (SUITE )?SUMMARY ===(?![\s\S]*=== (SUITE )?SUMMARY ===)/);
  const summary = heading < 0 ? '' : text.slice(heading);
  for (const match of summary.matchAll(/^([✓✗]) (\S+): (\d+) passed, (\d+) failed/gm)) {
    scenarios.push({ name: match[2], passed: Number(match[3]), failed: Number(match[4]) });
  }
  // A single-scenario run has no summary, only its "Passed: n/m, f failed" line.
  const single = scenario ? /^Passed: (\d+)\/\d+, (\d+) failed/m.exec(text) : null;
  if (single) scenarios.push({ name: scenario, passed: Number(single[1]), failed: Number(single[2]) });
  const list = (heading) => {
    const block = new RegExp(`${heading}[^\\n]*\\n((?:[ \\t]+[~✓✗] .*\\n?)*)`).exec(text);
    return [...(block?.[1] ?? '').matchAll(/[~✓✗] (\S+)/g)].map((match) => match[1]);
  };
  const counted = scenarios.filter((scenario) => scored.has(scenario.name));
  return {
    required: scenario ? Number(scored.has(scenario)) : scored.size,
    scenarios: counted.length,
    passed: counted.reduce((sum, scenario) => sum + scenario.passed, 0),
    failed: counted.reduce((sum, scenario) => sum + scenario.failed, 0),
    failingScenarios: counted.filter((scenario) => scenario.failed > 0).map((scenario) => scenario.name),
    notScored: scenarios.filter((scenario) => !scored.has(scenario.name)),
    expectedFailures: list('Expected failures \\(in baseline\\)'),
    staleEntries: list('Stale baseline entries'),
    unexpectedFailures: list('Unexpected failures \\(not in baseline\\)'),
  };
}

/** The scenarios a requirement set scores for a leg, from the suite's own requirements/<revision>.yaml. */
async function scoredScenarios(suite, revision, leg) {
  const file = join(dirname(suite), '..', 'requirements', `${revision}.yaml`);
  return new Set(parseYaml(await readFile(file, 'utf8'))?.[leg] ?? []);
}

/** Every checks.json under a results dir (client scenario names such as auth/x nest a directory). */
async function checkFiles(dir, prefix = '') {
  const found = [];
  for (const entry of (await readdir(join(dir, prefix), { withFileTypes: true }).catch(() => [])).sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isDirectory()) continue;
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (existsSync(join(dir, relative, 'checks.json'))) found.push(relative);
    else found.push(...(await checkFiles(dir, relative)));
  }
  return found;
}

/** Every WARNING/FAILURE check of a scored scenario, one line each (the suite's summary hides warnings). */
async function problemChecks(resultsDir, scored) {
  const lines = [];
  for (const entry of await checkFiles(resultsDir)) {
    const checks = JSON.parse(await readFile(join(resultsDir, entry, 'checks.json'), 'utf8').catch(() => '[]'));
    for (const check of checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING')) {
      const scenario = entry.replace(/^server-/, '').replace(/-\d{4}-\d{2}-\d{2}T.*$/, '');
      if (!scored.has(scenario)) continue;
      lines.push(`${scenario}:${check.id} ${check.status} ${(check.errorMessage ?? check.description ?? '').replace(/\s+/g, ' ').slice(0, 200)}`);
    }
  }
  return lines;
}

/** One suite invocation: a whole requirement set, or one scenario at the set's wire version. */
async function runSuite({ node22, suite, url, revision, scenario, options, resultsDir }) {
  // The suite refuses --requirements together with --scenario.
  const selection = scenario ? ['--scenario', scenario, '--spec-version', revision] : ['--requirements', revision];
  const subject = options.leg === 'client' ? ['--command', options.target.join(' ')] : ['--url', url];
  const args = [suite, options.leg, ...subject, ...selection, '--expected-failures', options.expectedFailures,
    '-o', resultsDir, '--timeout', options.timeout];
  const result = await run(node22, args);
  // The suite prints some of its verdict on stderr (the client leg's per-scenario results).
  return { result, output: `${result.stdout}\n${result.stderr}` };
}

async function runRequirementSet({ node22, suite, url, revision, options, outputRoot }) {
  const resultsDir = join(outputRoot, options.leg, revision);
  await mkdir(resultsDir, { recursive: true });
  const scored = await scoredScenarios(suite, revision, options.leg);
  const started = Date.now();
  const runs = [];
  for (const scenario of options.scenarios ?? [undefined]) {
    const { result, output } = await runSuite({ node22, suite, url, revision, scenario, options, resultsDir });
    runs.push({ result, report: parseSuiteOutput(output, scored, scenario) });
  }
  const merged = runs.map((one) => one.report).reduce((all, one) => {
    for (const [key, value] of Object.entries(one)) all[key] = Array.isArray(value) ? [...(all[key] ?? []), ...value] : (all[key] ?? 0) + value;
    return all;
  }, {});
  return {
    revision,
    leg: options.leg,
    exitCode: Math.max(...runs.map((one) => one.result.code)),
    seconds: (Date.now() - started) / 1000,
    ...merged,
    problems: await problemChecks(resultsDir, scored),
    raw: { stdout: runs.map((one) => one.result.stdout).join('\n'), stderr: runs.map((one) => one.result.stderr).join('\n') },
  };
}

function printReport(report) {
  const verdict = report.exitCode === 0 ? 'PASS' : 'FAIL';
  console.log(`\n== ${report.leg} ${report.revision}: ${verdict} — ${report.scenarios}/${report.required} scored scenarios, ${report.passed} checks passed, ` +
    `${report.failed} failed (${report.seconds.toFixed(1)} s)`);
  if (report.failingScenarios.length) console.log(`   scored scenarios with failures: ${report.failingScenarios.join(', ')}`);
  if (report.expectedFailures.length) console.log(`   expected (baseline): ${report.expectedFailures.join(', ')}`);
  if (report.unexpectedFailures.length) console.log(`   UNEXPECTED: ${report.unexpectedFailures.join(', ')}`);
  if (report.staleEntries.length) console.log(`   STALE baseline entries (now passing, remove them): ${report.staleEntries.join(', ')}`);
  const failingNotScored = report.notScored.filter((scenario) => scenario.failed > 0);
  if (failingNotScored.length) {
    console.log(`   not scored, failing (informational): ${failingNotScored.map((s) => `${s.name} (${s.failed})`).join(', ')}`);
  }
  if (report.exitCode !== 0) {
    if (report.problems.length) console.log(`   failing/warning checks:\n     ${report.problems.join('\n     ')}`);
    // Not a baseline verdict (crash, bad flag): show what the suite said.
    if (!report.unexpectedFailures.length && !report.staleEntries.length) {
      console.log(report.raw.stdout.slice(-4000));
      console.log(report.raw.stderr.slice(-4000));
    }
  }
}

export async function main(argv) {
  const options = parseArgs(argv);
  const node22 = await ensureNode22(options.cache);
  const suite = await ensureSuite(options.cache);
  const startsTarget = options.leg === 'server' && options.target;
  const port = startsTarget ? await freePort() : undefined;
  const url = options.leg === 'server' ? options.url.replaceAll('{port}', String(port)) : undefined;
  const outputRoot = options.output ?? (await mkdtemp(join(tmpdir(), 'mcp-conformance-')));
  const target = startsTarget ? await startTarget(options.target.map((arg) => arg.replaceAll('{port}', String(port))), url) : undefined;
  const relay = options.bearerEnv && url ? await bearerRelay(url, process.env[options.bearerEnv] ?? usage(`--bearer-env ${options.bearerEnv}: that variable is not set`)) : undefined;
  const reports = [];
  try {
    for (const revision of options.requirements) {
      const report = await runRequirementSet({ node22, suite, url: relay?.url ?? url, revision, options, outputRoot });
      printReport(report);
      reports.push(report);
    }
  } finally {
    relay?.close();
    await target?.stop();
    if (!options.output) await rm(outputRoot, { recursive: true, force: true });
  }
  if (options.json) {
    const summary = reports.map(({ raw, ...report }) => report);
    const subject = options.leg === 'client' ? { command: options.target } : { url };
    await writeFile(options.json, `${JSON.stringify({ suite: `${SUITE_PACKAGE}@${SUITE_VERSION}`, leg: options.leg, ...subject, reports: summary }, null, 2)}\n`);
  }
  const ok = reports.every((report) => report.exitCode === 0);
  console.log(ok ? '\nconformance: no unexpected failures' : '\nconformance: unexpected failures (see above)');
  return ok ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // Exit (running the 'exit' hooks that stop the target) instead of dying silently on a signal.
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130));
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(`[conformance] ${error instanceof SetupError ? error.message : error?.stack ?? error}`);
      process.exit(2);
    },
  );
}
