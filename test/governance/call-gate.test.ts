// "May this call go through?" is answered by one gate (governance/call-gate.ts) for every call to a mounted tool:
// by its mounted name and through registry-exec alike. In process, no podman (test/helpers/fake-mounts.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { defaultCallGate, permissiveCallGate } from '../../src/governance/call-gate.js';
import { Policy } from '../../src/governance/policy.js';
import { ctx, fakeHome, FAKE, text } from '../helpers/gated-mounts.js';
import { join } from 'node:path';

let home: Awaited<ReturnType<typeof fakeHome>> | undefined;
afterEach(async () => {
  await home?.close();
  home = undefined;
});

const AWS_ID = 'AKIA' + 'IOSFODNN7EXAMPLE';

describe('call gate (governance/call-gate.ts)', () => {
  it('a destructive tool under destructive: deny is refused alike by its mounted name and through registry-exec', async () => {
    home = await fakeHome();
    await home.policy('destructive: deny\n');
    const m = home.manager();
    await m.add('test/fake', {}, ctx());
    const direct = await m.callTool('fake__wipe', {}, ctx())!;
    const viaExec = await m.exec('fake__wipe', {}, ctx());
    expect(direct.isError).toBe(true);
    expect(text(direct)).toContain('destructive: deny in policy.yaml refuses such calls');
    expect(viaExec).toEqual(direct);
    // The other tools work.
    expect(text(await m.exec('fake__echo', { text: 'hi' }, ctx()))).toBe('hi');
  });

  it('a server policy denies since it started is stopped at its next call, on either path', async () => {
    home = await fakeHome();
    const m = home.manager();
    await m.add('test/fake', {}, ctx());
    expect(text(await m.callTool('fake__echo', { text: 'a' }, ctx())!)).toBe('a');
    await home.policy('deny: [test/fake]\n');
    const r = await m.exec('fake__echo', { text: 'b' }, ctx());
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/^test\/fake may no longer run: denied by .*policy\.yaml.* It was stopped\.$/);
    expect(m.active()[0]).toMatchObject({ state: 'failed' });
    // The next call is a start, and the start gate refuses it.
    expect(text(await m.callTool('fake__echo', { text: 'c' }, ctx())!)).toContain('may not be started: denied by');
  });

  it('the manager uses the gate it is given: a permissive gate lets the destructive call through', async () => {
    home = await fakeHome();
    await home.policy('destructive: deny\n');
    const m = home.manager({ callGate: permissiveCallGate });
    await m.add('test/fake', {}, ctx());
    expect(text(await m.exec('fake__wipe', {}, ctx()))).toBe('wiped');
  });

  it('blocked, destructive and secret scan, as the default gate answers them', async () => {
    home = await fakeHome();
    const load = (yaml: string) => home!.policy(yaml).then(() => Policy.load(join(home!.dir, 'policy.yaml'), { test: 'file' }));
    const open = await load('scanSecrets: warn\ndestructive: ask\n');
    const g = open.governanceFor(FAKE);
    expect(defaultCallGate.blocked(open, { id: 'test/fake', entry: FAKE })).toBeUndefined();
    expect(defaultCallGate.scan('arguments of fake__echo', { text: `key ${AWS_ID}` }, g)).toMatch(/arguments of fake__echo.*\(policy scanSecrets: warn\)$/s);
    expect(defaultCallGate.scan('arguments of fake__echo', { text: 'hello' }, g)).toBeUndefined();
    // ask, but the client cannot ask: refused with what to do.
    const asked = await defaultCallGate.check({ entryId: 'test/fake', tool: { name: 'fake__wipe', annotations: { destructiveHint: true } } }, g, {});
    expect(asked).toMatchObject({ ok: false, outcome: 'refused', reason: expect.stringContaining('this client cannot ask') });
    expect(await defaultCallGate.check({ entryId: 'test/fake', tool: { name: 'fake__echo' } }, g, {})).toEqual({ ok: true });

    const closed = await load('deny: [test/fake]\nscanSecrets: off\n');
    expect(defaultCallGate.blocked(closed, { id: 'test/fake', entry: FAKE })).toMatch(/^test\/fake may no longer run: denied by/);
    expect(defaultCallGate.scan('arguments', { text: AWS_ID }, closed.governanceFor(FAKE))).toBeUndefined();
  });
});
