// "May this start now?" is answered by one gate (governance/start-gate.ts) on every path that starts a server:
// registry-add, the restore of saved mounts, a config-set restart, a restart after a crash or idle stop, and the CLI prepare.
// In process, no podman: the manager's "containers" are SDK McpServers (test/helpers/fake-mounts.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { policyStartGate, permissiveStartGate, type StartGate, type StartVerdict } from '../../src/governance/start-gate.js';
import { Policy } from '../../src/governance/policy.js';
import { ctx, fakeHome, FAKE, text } from '../helpers/gated-mounts.js';
import { makeHome } from '../helpers/registry-client.js';
import { runCli } from '../helpers/file-catalog.js';

let home: Awaited<ReturnType<typeof fakeHome>> | undefined;
afterEach(async () => {
  await home?.close();
  home = undefined;
});

/** The default gate, recording each verdict: which paths asked, and what they were told. */
function recording() {
  const asked: StartVerdict[] = [];
  let inner: StartGate | undefined;
  const gate: StartGate = {
    async check(entry, choice, c) {
      const v = await inner!.check(entry, choice, c);
      asked.push(v);
      return v;
    },
  };
  return { asked, gate, use: (g: StartGate) => (inner = g) };
}

describe('start gate (governance/start-gate.ts)', () => {
  it('a restore and a config-set restart of an entry policy now denies are refused by the same gate, with the same reason', async () => {
    home = await fakeHome();
    const first = home.manager();
    await first.add('test/fake', {}, ctx());
    expect(home.starts).toBe(1);
    await home.policy('deny: [test/fake]\n');

    // config-set restarts the running server: the restart is a start, and the gate refuses it.
    const restart = await first.configSet('test/fake', { mode: 'fast' }).then(
      () => 'started',
      (err: Error) => err.message,
    );
    expect(restart).toMatch(/restarting it with the new values failed: test\/fake may not be started: denied by .*policy\.yaml \(deny: "test\/fake"\)/);
    await first.shutdown();

    // A registry started after the policy changed restores the saved mount: refused by the same words.
    const rec = recording();
    const second = home.manager({ startGate: rec.gate });
    rec.use(policyStartGate({ policy: async () => Policy.load(join(home!.dir, 'policy.yaml'), { test: 'file' }), approvals: async () => ({}) }));
    second.claim(await home.state.mounts());
    await second.restore();
    expect(rec.asked.map((v) => v.verdict)).toEqual(['refused']);
    const restored = second.active()[0]!;
    expect(restored).toMatchObject({ id: 'test/fake', state: 'failed' });
    expect(restored.lastError).toBe(restart.replace(/^.*restarting it with the new values failed: /, ''));
    // Nothing started after the deny: one start in all, the first add's.
    expect(home.starts).toBe(1);
    // A call to the restored mount asks the gate again and is refused with what to do, nothing started.
    const called = await second.callTool('fake__echo', { text: 'hi' }, ctx())!;
    expect(called.isError).toBe(true);
    expect(text(called)).toContain('may not be started: denied by');
    expect(home.starts).toBe(1);
  });

  it('every start path asks the gate it is given: add, config-set restart, restore', async () => {
    home = await fakeHome();
    const rec = recording();
    rec.use(permissiveStartGate);
    // Policy denies it, but the injected gate allows everything: each path that started it asked the gate, not policy.
    await home.policy('deny: [test/fake]\n');
    const m = home.manager({ startGate: rec.gate });
    await m.add('test/fake', {}, ctx());
    const added = rec.asked.length;
    expect(added).toBeGreaterThan(0);
    await m.configSet('test/fake', { mode: 'slow' });
    expect(rec.asked.length).toBe(added + 1);
    expect(home.starts).toBe(2);
    await m.shutdown();

    const again = home.manager({ startGate: rec.gate });
    again.claim(await home.state.mounts());
    await again.restore();
    expect(rec.asked.length).toBe(added + 2);
    expect(again.active()[0]!.state).toBe('running');
    expect(text(await again.callTool('fake__echo', { text: 'ok' }, ctx())!)).toBe('ok');
  });

  it('needs-approval: allowed when the user consented or approved it, else the command that allows it is the next step', async () => {
    const dir = await makeHome({});
    // A launch from a catalog that is not the user's own, of an image Docker did not build: it asks.
    const policy = () => Policy.load(join(dir, 'policy.yaml'), { test: 'docker' });
    const gate = policyStartGate({ policy, approvals: async () => ({}) });
    expect(await gate.check(FAKE, undefined)).toMatchObject({ verdict: 'needs-approval', next: 'mcp-registry allow test/fake' });
    expect(await gate.check(FAKE, undefined, { consented: true })).toMatchObject({ verdict: 'allowed' });
    const approved = policyStartGate({ policy, approvals: async () => ({ 'test/fake': { approvedAt: new Date().toISOString(), by: 'test' } }) });
    expect(await approved.check(FAKE, undefined)).toMatchObject({ verdict: 'allowed' });
    // Denied: no consent starts it, and the refusal says what to change.
    await writeFile(join(dir, 'policy.yaml'), 'deny: [test/fake]\n');
    expect(await gate.check(FAKE, undefined, { consented: true })).toMatchObject({ verdict: 'refused', reason: expect.stringContaining('test/fake may not be started: denied by'), next: expect.stringContaining('policy.yaml') });
  });

  it('mcp-registry prepare refuses an entry policy denies, before anything is built', async () => {
    const dir = await makeHome({ sources: [{ name: 'pkgs', type: 'file', path: './pkgs.json' }], refresh: { onStart: false } });
    await writeFile(
      join(dir, 'pkgs.json'),
      JSON.stringify([{ name: 'io.example/denied-pkg', description: 'An npm package policy denies.', version: '1.0.0', packages: [{ registryType: 'npm', identifier: '@example/denied-pkg', version: '1.0.0', transport: { type: 'stdio' } }] }]),
    );
    const env = { MCP_REGISTRY_HOME: dir };
    expect((await runCli(['refresh'], env)).code).toBe(0);
    const id = (await runCli(['search', 'denied-pkg', '--json'], env)).stdout.match(/"id":\s*"([^"]*denied-pkg[^"]*)"/)?.[1];
    expect(id).toBeTruthy();
    await writeFile(join(dir, 'policy.yaml'), `deny: ["${id}"]\n`);
    const r = await runCli(['prepare', id!], env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${id} may not be started: denied by`);
    expect(r.stderr).toContain('nothing was built');
  }, 60_000);
});
