import { describe, expect, it } from 'vitest';
import { notRunnableWhy, runKindsOf, runnerOf } from '../../src/model/runner-kind.js';
import type { Launch } from '../../src/model/entry.js';

const pkg = (registryType: string, extra: Record<string, unknown> = {}): Launch => ({ type: 'package', registryType, identifier: `x-${registryType}`, transport: { type: 'stdio' }, ...extra }) as Launch;

describe('runnerOf: how a launch runs, and only what really starts is runnable', () => {
  it('npm (also runtimeHint npx) and PyPI (uvx, pip) stdio packages are built and run; OCI stdio packages run', () => {
    expect(runnerOf(pkg('npm'))).toEqual({ runs: 'npm', runnable: true, built: true });
    expect(runnerOf(pkg('other-registry', { runtimeHint: 'npx' }))).toMatchObject({ runs: 'npm', runnable: true });
    expect(runnerOf(pkg('pypi'))).toMatchObject({ runs: 'pypi', runnable: true, built: true });
    expect(runnerOf(pkg('x', { runtimeHint: 'uvx' }))).toMatchObject({ runs: 'pypi', runnable: true });
    expect(runnerOf(pkg('oci', { runtimeHint: 'npx' }))).toEqual({ runs: 'oci', runnable: true });
    // MCPB bundles are built (downloaded, verified, unpacked) and run like the others.
    expect(runnerOf(pkg('mcpb'))).toEqual({ runs: 'mcpb', runnable: true, built: true });
  });

  it('OCI images that serve streamable HTTP or SSE and Docker poci servers run (issue 12)', () => {
    for (const type of ['streamable-http', 'sse']) expect(runnerOf(pkg('oci', { transport: { type, url: 'http://localhost:8080/mcp' } }))).toEqual({ runs: 'oci', runnable: true });
    expect(runnerOf(pkg('oci', { transport: { type: 'websocket' } }))).toMatchObject({ runnable: false });
    expect(runnerOf({ type: 'poci', tools: [{ name: 't', image: 'x' }] } as Launch)).toEqual({ runs: 'poci', runnable: true });
  });

  it('a launch read from a detail page runs as what it names, and says it is inferred', () => {
    const inferred = { page: 'https://mcpservers.org/servers/a/b', snippet: 'npx -y pkg' };
    expect(runnerOf(pkg('npm', { inferred }))).toEqual({ runs: 'inferred', runnable: true, built: true });
    expect(runnerOf({ type: 'image', image: 'ghcr.io/a/b:1', inferred } as Launch)).toEqual({ runs: 'inferred', runnable: true });
    expect(runKindsOf([pkg('npm', { inferred })])).toEqual(['inferred']);
  });

  it('says exactly why the rest does not start: nuget, npm over HTTP', () => {
    expect(runnerOf(pkg('nuget'))).toMatchObject({ runs: 'other', runnable: false, reason: expect.stringContaining('nuget package x-nuget has no runner here') });
    expect(runnerOf(pkg('npm', { transport: { type: 'streamable-http', url: 'http://localhost:8080/mcp' } }))).toMatchObject({ runs: 'npm', runnable: false, reason: expect.stringContaining('serves over streamable-http') });
    expect(notRunnableWhy([pkg('nuget'), pkg('x', { transport: { type: 'sse' } })])).toMatch(/nuget .*; its x package x-x/);
    expect(notRunnableWhy([pkg('nuget'), pkg('npm')])).toBeUndefined();
  });

  it('lists the runnable ways first', () => {
    expect(runKindsOf([pkg('nuget'), pkg('npm'), { type: 'remote', url: 'https://x/mcp', transport: 'streamable-http' } as Launch])).toEqual(['npm', 'remote', 'other']);
  });
});
