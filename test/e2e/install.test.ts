import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../helpers/shared-data.js';

/**
 * Issue 10.2: the README's install commands, run as written in a fresh copy of the repository (no node_modules, no
 * dist), give a working `mcp-registry` on PATH. npm installs from its cache when it can (CI has just filled it),
 * else from the registry; the global install goes to a temporary prefix instead of the machine's.
 */
const run = promisify(execFile);
let work: string | undefined;
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** The npm lines of the README's install block (the one the `install:` comment marks). */
async function readmeInstallCommands(): Promise<string[][]> {
  const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
  const block = /<!-- install:[^>]*-->\s*```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('README.md has no install block marked <!-- install: … -->');
  return block
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => l.startsWith('npm '))
    .map((l) => l.split(/\s+/));
}

describe('install from a checkout, as the README says', () => {
  it('npm install, then npm install -g . puts a working mcp-registry on PATH', { timeout: 400_000 }, async () => {
    const commands = await readmeInstallCommands();
    expect(commands).toEqual([
      ['npm', 'install'],
      ['npm', 'install', '-g', '.'],
    ]);
    work = await mkdtemp(join(tmpdir(), 'mcp-registry-install-'));
    const checkout = join(work, 'mcp-registry');
    const prefix = join(work, 'prefix');
    // What a clone has: the files git knows about (committed or not yet), none of the build or install output.
    const { stdout } = await run('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 });
    for (const rel of stdout.split('\0').filter(Boolean)) {
      await mkdir(dirname(join(checkout, rel)), { recursive: true });
      await cp(join(repoRoot, rel), join(checkout, rel)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err; // deleted in the work tree, not yet committed
      });
    }
    const npmEnv = { ...process.env, npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
    for (const [cmd, ...args] of commands) {
      // The global install goes to the temporary prefix (the machine's own prefix is left alone).
      const where = args.includes('-g') ? ['--prefix', prefix] : [];
      await run(cmd!, [...args, ...where], { cwd: checkout, env: npmEnv, maxBuffer: 64 * 1024 * 1024 });
    }

    // On PATH: found by name, as a client or a shell would.
    const env = { ...process.env, PATH: `${join(prefix, 'bin')}:${process.env.PATH}`, MCP_REGISTRY_HOME: join(work, 'home') };
    const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    expect((await run('mcp-registry', ['--version'], { env })).stdout.trim()).toBe(pkg.version);
    await mkdir(env.MCP_REGISTRY_HOME, { recursive: true });
    await writeFile(join(env.MCP_REGISTRY_HOME, 'config.yaml'), `sources:\n  - name: mine\n    type: file\n    path: ${join(repoRoot, 'test/fixtures/runtime-catalog')}\n`);
    const search = await run('mcp-registry', ['search', 'echo test server'], { env });
    expect(search.stdout).toMatch(/mine\/tiny — Tiny test server/);
    expect(search.stdout).toMatch(/Details: mcp-registry info <id>\./);
    // The command the refusals and hints name works too.
    expect((await run('mcp-registry', ['info', 'mine/tiny'], { env })).stdout).toMatch(/^mine\/tiny — Tiny test server/);
  });
});
