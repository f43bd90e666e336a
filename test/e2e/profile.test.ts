// Profiles over stdio (issue 14 point 5): saved in one registry process, activated in a fresh one from the command
// line (another home sharing the profiles dir, as a team shares a git checkout): servers and settings come back,
// secrets never enter the file, and a profile that carries a secret is refused before anything starts.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { TINY_IMAGE } from '../helpers/podman.js';
import { makeHome, startRegistry, type RunningRegistry } from '../helpers/registry-client.js';

type Result = CallToolResult & { structuredContent?: Record<string, unknown> };
const SECRET = 'notes-secret-value-4711';
const VAULT_SECRET = 'vault-secret-value-0815';

let root: string;
let team: string;
const homes: string[] = [];
const running: RunningRegistry[] = [];

async function call(reg: RunningRegistry, name: string, args: Record<string, unknown> = {}): Promise<Result> {
  return (await reg.client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as Result;
}
const text = (r: Result) => r.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');

async function home(): Promise<string> {
  const h = await makeHome({
    sources: [{ name: 'mine', type: 'file', path: join(root, 'mine') }],
    refresh: { onStart: false },
    runtime: { startTimeout: '60s', callTimeout: '60s' },
    profiles: { dir: team },
  });
  homes.push(h);
  return h;
}

async function start(h: string, args: string[] = []): Promise<RunningRegistry> {
  const reg = await startRegistry(h, { args });
  running.push(reg);
  return reg;
}

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 90_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what}: not reached in time`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'profile-e2e-'));
  team = join(root, 'team-profiles');
  const server = async (name: string, config: Record<string, unknown>) => {
    const dir = join(root, 'mine', 'servers', name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'server.yaml'), toYaml({ name, image: TINY_IMAGE, type: 'server', about: { title: name, description: `The ${name} test server.` }, run: { disableNetwork: true }, config }));
  };
  // notes: an optional secret and a plain setting that changes the echo tool's description (so it shows it arrived).
  await server('notes', {
    secrets: [{ name: 'notes.api_token', env: 'TINY_API_TOKEN', required: false }],
    env: [{ name: 'TINY_TOOL_VARIANT', value: '{{notes.variant}}' }],
    parameters: { type: 'object', properties: { variant: { type: 'string' } } },
  });
  // vault: a required secret, so on a machine without it the profile reports what to set.
  await server('vault', { secrets: [{ name: 'vault.api_key', env: 'VAULT_KEY', required: true }] });
}, 60_000);

afterAll(async () => {
  for (const reg of running) {
    for (const id of ['mine/notes', 'mine/vault']) await call(reg, 'registry-remove', { id }).catch(() => {});
    await reg.close();
  }
  for (const h of homes) await rm(h, { recursive: true, force: true });
  await rm(root, { recursive: true, force: true });
});

describe('profiles over stdio', () => {
  it('saves what is mounted (settings yes, secrets never) and a fresh registry started with --profile restores it', async () => {
    const a = await start(await home());
    expect((await call(a, 'registry-refresh')).isError).toBeFalsy();
    expect((await call(a, 'registry-config-set', { id: 'mine/notes', values: { TINY_API_TOKEN: SECRET, variant: 'v2' } })).isError).toBeFalsy();
    expect((await call(a, 'registry-config-set', { id: 'mine/vault', values: { VAULT_KEY: VAULT_SECRET } })).isError).toBeFalsy();
    for (const id of ['mine/notes', 'mine/vault']) {
      const added = await call(a, 'registry-add', { id });
      expect(added.isError, text(added)).toBeFalsy();
    }
    const saved = await call(a, 'registry-profile', { action: 'save', name: 'team-dev', description: 'notes and vault' });
    expect(saved.isError, text(saved)).toBeFalsy();
    const file = join(team, 'team-dev.yaml');
    expect(saved.structuredContent).toMatchObject({ action: 'save', name: 'team-dev', from: file });
    const yaml = await readFile(file, 'utf8');
    expect(yaml).toContain('mine/notes');
    expect(yaml).toContain('mine/vault');
    expect(yaml).toMatch(/variant: v2/);
    expect(yaml).not.toContain(SECRET);
    expect(yaml).not.toContain(VAULT_SECRET);
    expect(yaml).not.toMatch(/api_token|api_key|TINY_API_TOKEN|VAULT_KEY/);

    const listed = await call(a, 'registry-profile', { action: 'list' });
    expect(listed.structuredContent!.profiles).toEqual([expect.objectContaining({ name: 'team-dev', servers: 2, description: 'notes and vault' })]);

    // Another machine (another home) sharing the profiles dir: nothing mounted, no settings, no secrets.
    const bHome = await home();
    const b = await start(bHome, ['--profile', 'team-dev']);
    const notes = await until('notes mounted from the profile', async () => {
      const m = ((await call(b, 'registry-active')).structuredContent as { mounts: Array<{ id: string; state: string }> }).mounts.find((x) => x.id === 'mine/notes');
      return m?.state === 'running' ? m : undefined;
    });
    expect(notes.id).toBe('mine/notes');
    // The setting came with the profile: the child got it.
    const echo = (await b.client.listTools()).tools.find((t) => t.name === 'notes__echo');
    expect(echo?.description).toContain('[variant v2]');
    // The vault needs its secret on this machine: not started, and the log says what to set.
    await until('the activation report', async () => (/not started — .*vault\.api_key/s.test(b.stderr()) ? true : undefined), 30_000);
    const mounts = ((await call(b, 'registry-active')).structuredContent as { mounts: Array<{ id: string }> }).mounts.map((m) => m.id);
    expect(mounts).toEqual(['mine/notes']);
    const secretsFile = join(bHome, 'state', 'secrets.json');
    if (existsSync(secretsFile)) expect(await readFile(secretsFile, 'utf8')).not.toContain(SECRET);

    // Activating it again through the tool reports per server: notes mounted, vault needs its secret.
    const again = await call(b, 'registry-profile', { action: 'activate', name: 'team-dev' });
    expect(again.isError, text(again)).toBeFalsy();
    expect(again.structuredContent!.servers).toEqual([
      expect.objectContaining({ id: 'mine/notes', status: 'mounted', prefix: 'notes' }),
      expect.objectContaining({ id: 'mine/vault', status: 'not-started', needs: expect.stringContaining('vault.api_key') }),
    ]);
  }, 300_000);

  it('refuses a profile file that carries a value for a declared secret, before anything starts', async () => {
    await writeFile(join(team, 'leaky.yaml'), toYaml({ servers: [{ id: 'mine/vault', settings: { VAULT_KEY: 'pasted-into-git' } }] }));
    const reg = running.at(-1)!;
    const r = await call(reg, 'registry-profile', { action: 'activate', name: 'leaky' });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/profile "leaky".*vault\.api_key.*never holds secret values.*registry-config-set/);
    const mounts = ((await call(reg, 'registry-active')).structuredContent as { mounts: Array<{ id: string }> }).mounts.map((m) => m.id);
    expect(mounts).not.toContain('mine/vault');
  }, 60_000);

  it('a --profile that does not exist stops the start with what to do', async () => {
    const h = await home();
    const reg = await start(h, ['--profile', 'nope']);
    const r = await reg.client.callTool({ name: 'registry-status', arguments: {} }).then(
      (x) => text(x as Result),
      (e: Error) => e.message,
    );
    expect(`${r}\n${reg.stderr()}`).toMatch(/--profile nope: there is no such profile/);
  }, 60_000);
});
