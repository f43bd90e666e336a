import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ConfigError, loadConfig, parseConfig } from '../../src/config/config.js';
import { Policy } from '../../src/governance/policy.js';
import { PolicyError } from '../../src/governance/policy-file.js';
import { cliPath } from '../helpers/registry-client.js';

/** Config mistakes (issue 10.5): a typo is an error that names the key it resembles and where it is; so is a bad schedule. */
let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'config-test-'));
  file = join(dir, 'config.yaml');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const loadError = async (text: string) => {
  await writeFile(file, text);
  const err = await loadConfig(file).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return (err as Error).message;
};

describe('config.yaml validation', () => {
  it('refuses a misspelt key at any level, saying where it is and which key was meant', async () => {
    // Before: runtime.idleTimout was dropped silently and servers stopped after the default 30 minutes.
    const typo = await loadError('runtime:\n  memory: 256m\n  idleTimout: 10m\n');
    expect(typo).toContain(`${file}:3:3: runtime: unknown key "idleTimout" (known: podman, idleTimeout, callTimeout, `);
    expect(typo).toMatch(/, pidsLimit\); did you mean "idleTimeout"\? /);
    expect(await loadError('refersh:\n  minInterval: 1h\n')).toMatch(new RegExp(`^${file}:1:1: \\(top level\\): unknown key "refersh" \\(known: sources, refresh, [^)]*\\baudit\\b[^)]*\\); did you mean "refresh"\\?`));
    // Inside a source, the known keys are those of its type.
    const inSource = await loadError('sources:\n  - name: mine\n    type: file\n    pth: ./catalog.yaml\n');
    expect(inSource).toContain(`${file}:4:5: sources.0: unknown key "pth" (known: name, enabled, minInterval, type, path, verify); did you mean "path"?`);
    expect(inSource).toContain(`${file}:2:5: sources.0.path: missing: this key is required`);
    expect(await loadError('sources:\n  - name: mine\n    type: fil\n    path: ./catalog.yaml\n')).toMatch(/:3:11: sources\.0\.type: .*; did you mean "file"\?/);
    // Every message ends with what to do.
    expect(await loadError('audit: { keeep: 3 }\n')).toMatch(/did you mean "keep"\? Fix the file and start again \(see README, "Configuration"; `mcp-registry doctor` checks it\)\.$/);
  });

  it('a key that resembles nothing still lists the known ones', () => {
    expect(() => parseConfig({ runtime: { colour: 'blue' } }, dir)).toThrow(/config: runtime: unknown key "colour" \(known: podman, idleTimeout, .*pidsLimit\)\. Fix the file/);
  });

  it('checks refresh.schedule with the scheduler\'s own validator, at load', async () => {
    // Before: any string was accepted; only the stdio server logged it, and its background refresh silently stopped.
    expect(await loadError('refresh:\n  schedule: "61 * * * *"\n')).toContain(
      `${file}:2:13: refresh.schedule: "61 * * * *" is not a cron expression node-cron accepts (61 is a invalid expression for minute); e.g. "17 */6 * * *"`,
    );
    expect(() => parseConfig({ refresh: { schedule: 'every hour' } }, dir)).toThrow(/refresh\.schedule: "every hour" is not a cron expression/);
    expect(parseConfig({ refresh: { schedule: '@daily' } }, dir).refresh.schedule).toBe('@daily');
    expect(parseConfig({ refresh: { schedule: '0 3 * * MON' } }, dir).refresh.schedule).toBe('0 3 * * MON');
    expect(parseConfig({}, dir).refresh.schedule).toBe('17 */6 * * *');
  });

  it('a bad schedule stops every command, with the reason and no doctor detour', async () => {
    await writeFile(file, 'refresh:\n  schedule: "*/0 * * * *"\n');
    const run = (args: string[]) =>
      promisify(execFile)(process.execPath, [cliPath, ...args], { env: { ...process.env, MCP_REGISTRY_HOME: dir } }).then(
        () => ({ code: 0, stderr: '' }),
        (e: { code: number; stderr: string }) => e,
      );
    for (const args of [['status'], ['search', 'postgres'], ['list']]) {
      const res = await run(args);
      expect(res.code, args.join(' ')).toBe(1);
      expect(res.stderr).toContain(`mcp-registry: ${file}:2:13: refresh.schedule: "*/0 * * * *" is not a cron expression`);
      expect(res.stderr).not.toMatch(/Run "mcp-registry doctor"/);
    }
  });

  it('the README\'s example config.yaml and policy.yaml are valid as printed (keys are strict now)', async () => {
    const { readFile } = await import('node:fs/promises');
    const { repoRoot } = await import('../helpers/shared-data.js');
    const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
    const yamlAfter = (heading: string) => new RegExp(`${heading}[^]*?\`\`\`yaml\n([^]*?)\`\`\``).exec(readme)?.[1];
    const config = yamlAfter('## Configuration');
    expect(config).toMatch(/^sources:/);
    await writeFile(file, config!);
    expect((await loadConfig(file)).sources.map((s) => s.name)).toEqual(['docker', 'mcpservers', 'official', 'internal']);
    const policy = yamlAfter('## Trust and governance');
    expect(policy).toMatch(/^allow:/);
    await writeFile(join(dir, 'policy.yaml'), policy!);
    await Policy.load(join(dir, 'policy.yaml'), {});
  });

  it('policy.yaml errors come from the same reporter: position, known keys and the key that was meant', async () => {
    const policyFile = join(dir, 'policy.yaml');
    await writeFile(policyFile, 'entries:\n  "docker/x":\n    memroy: 256m\n');
    const err = await Policy.load(policyFile, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyError);
    expect((err as Error).message).toMatch(new RegExp(`^${policyFile}:3:5: entries\\.docker/x: unknown key "memroy" \\(known: status, .*\\); did you mean "memory"\\? Fix the file \\(see README, "Policy"\\)\\.$`));
  });
});
