import { describe, expect, it } from 'vitest';
import { Podman } from '../../../src/runtime/podman/podman.js';
import { runnerChecks } from '../../../src/runtime/build/doctor.js';
import { requirePodman } from '../../helpers/podman.js';

/**
 * Issue 12, point 4: doctor checks each runner. On these machines TLS is intercepted: npm inside a container fails
 * with SELF_SIGNED_CERT_IN_CHAIN unless runtime.caBundle names the host's bundle, and doctor says exactly that.
 */

const CA = '/etc/ssl/certs/ca-certificates.crt';
const runners = {
  npm: { image: 'localhost/mcp-registry/runner-node:20', registry: 'https://registry.npmjs.org/' },
  pypi: { image: 'localhost/mcp-registry/runner-python:3.11', index: 'https://pypi.org/simple/' },
  buildTimeout: 60_000,
  buildMemory: '1g',
};

describe('doctor: package runners', () => {
  it('with the host CA bundle the npm registry answers from a container; the runner images are present', async (ctx) => {
    await requirePodman(ctx);
    const checks = await runnerChecks(new Podman(), { runners, caBundle: CA });
    expect(checks.map((c) => [c.name, c.ok])).toEqual([
      ['runner CA bundle', true],
      ['npm runner image', true],
      ['pypi runner image', true],
      ['npm registry from a container', true],
    ]);
    expect(checks.at(-1)!.detail).toMatch(/^https:\/\/registry\.npmjs\.org\/ answers HTTP \d+ \(with runtime\.caBundle\)$/);
  }, 60_000);

  it('without it, the intercepted TLS fails and the fix names runtime.caBundle; a missing runner image says how to get one', async (ctx) => {
    await requirePodman(ctx);
    const checks = await runnerChecks(new Podman(), { runners: { ...runners, pypi: { ...runners.pypi, image: 'localhost/mcp-registry/no-such-runner:1' } } });
    const reach = checks.find((c) => c.name === 'npm registry from a container')!;
    expect(reach).toMatchObject({ ok: false, optional: true, detail: expect.stringContaining('SELF_SIGNED_CERT_IN_CHAIN'), fix: expect.stringContaining('set runtime.caBundle') });
    expect(checks.find((c) => c.name === 'pypi runner image')).toMatchObject({ ok: false, fix: expect.stringContaining('scripts/build-runner-images.sh') });
    const bad = await runnerChecks(new Podman(), { runners, caBundle: '/nonexistent/ca.pem' });
    expect(bad[0]).toMatchObject({ name: 'runner CA bundle', ok: false, fix: expect.stringContaining('PEM bundle') });
  }, 60_000);
});
