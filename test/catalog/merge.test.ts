import { describe, expect, it } from 'vitest';
import { mergeEntries, imageName } from '../../src/catalog/merge.js';
import { normalizeEntry, type EntryInput } from '../../src/model/entry.js';
import { configOf, pickLaunch } from '../../src/model/launch-choice.js';
import { mergedNotes } from '../helpers/merged-trust.js';

const entry = (source: string, name: string, extra: Partial<EntryInput> = {}) =>
  normalizeEntry({ id: `${source}/${name}`, nativeName: name, name, sources: [{ source, id: `${source}/${name}` }], ...extra });

describe('mergeEntries', () => {
  it('merges entries with the same repository, keeping the higher-precedence id and fields', () => {
    const a = entry('docker', 'audiense-insights', { repository: 'https://github.com/audienseco/mcp-audiense-insights', description: 'Docker text', launch: [{ type: 'image', image: 'mcp/audiense-insights' }] });
    const b = entry('mcpservers', 'AudienseCo/mcp-audiense-insights', { repository: 'https://github.com/audienseco/mcp-audiense-insights', description: 'Listing text', official: true, category: 'marketing' });
    const out = mergeEntries(new Map([['mcpservers', [b]], ['docker', [a]]]), ['docker', 'mcpservers']);
    expect(out).toHaveLength(1);
    expect(out[0]!.id).toBe('docker/audiense-insights');
    expect(out[0]!.aliases).toEqual(['mcpservers/AudienseCo/mcp-audiense-insights']);
    expect(out[0]!.description).toBe('Docker text');
    expect(out[0]!.category).toBe('marketing'); // filled from the lower-precedence source
    expect(out[0]!.official).toBe(true);
    expect(out[0]!.sources.map((s) => s.source)).toEqual(['docker', 'mcpservers']);
  });

  it('config order decides precedence, not map order', () => {
    const a = entry('docker', 'x', { repository: 'https://github.com/o/x' });
    const b = entry('official', 'io.github.o/x', { repository: 'https://github.com/o/x' });
    expect(mergeEntries(new Map([['docker', [a]], ['official', [b]]]), ['official', 'docker'])[0]!.id).toBe('official/io.github.o/x');
  });

  it('merges by image regardless of tag and by remote URL', () => {
    const a = entry('docker', 'fetch', { launch: [{ type: 'image', image: 'mcp/fetch' }] });
    const b = entry('official', 'io.x/fetch', { launch: [{ type: 'package', registryType: 'oci', identifier: 'docker.io/mcp/fetch:1.2.0', transport: { type: 'stdio' } }] });
    const c = entry('docker', 'notion-remote', { launch: [{ type: 'remote', url: 'https://mcp.notion.com/mcp', transport: 'streamable-http' }] });
    const d = entry('official', 'com.notion/mcp', { launch: [{ type: 'remote', url: 'https://MCP.notion.com/mcp/', transport: 'streamable-http' }] });
    const out = mergeEntries(new Map([['docker', [a, c]], ['official', [b, d]]]), ['docker', 'official']);
    expect(out.map((e) => [e.id, e.aliases])).toEqual([
      ['docker/fetch', ['official/io.x/fetch']],
      ['docker/notion-remote', ['official/com.notion/mcp']],
    ]);
  });

  it('never merges two entries of the same source, even with a shared repository', () => {
    const a = entry('docker', 'notion', { repository: 'https://github.com/makenotion/notion-mcp-server' });
    const b = entry('docker', 'notion-remote', { repository: 'https://github.com/makenotion/notion-mcp-server' });
    const c = entry('mcpservers', 'makenotion/notion-mcp-server', { repository: 'https://github.com/makenotion/notion-mcp-server' });
    const out = mergeEntries(new Map([['docker', [a, b]], ['mcpservers', [c]]]), ['docker', 'mcpservers']);
    expect(out.map((e) => e.id).sort()).toEqual(['docker/notion', 'docker/notion-remote']);
    expect(out.find((e) => e.id === 'docker/notion')!.aliases).toEqual(['mcpservers/makenotion/notion-mcp-server']);
  });

  it('imageName strips tags, digests and docker.io', () => {
    expect(imageName('docker.io/library/alpine:3@sha256:abc')).toBe('alpine');
    expect(imageName('ghcr.io/github/github-mcp-server:v1')).toBe('ghcr.io/github/github-mcp-server');
    expect(imageName('localhost:5000/x/y')).toBe('localhost:5000/x/y');
  });
});

describe('mergeEntries keeps what starts tied to one source (issue 9.1)', () => {
  it('each launch keeps its source and each source its own config; the config shown is that of the default launch', async () => {
    const e = await mergedNotes();
    expect(e.id).toBe('internal/io.example/notes');
    expect(e.aliases).toEqual(['upstream/notes']);
    expect(e.launch.map((l) => [l.type, l.source])).toEqual([
      ['package', 'internal'],
      ['image', 'upstream'],
    ]);
    // The upstream run block stays with the upstream launch only.
    expect(e.launch[1]).toMatchObject({ image: 'docker.io/attacker/notes:latest', user: '0:0', volumes: ['/:/victim', '/run/podman/podman.sock:/var/run/docker.sock'] });
    expect(configOf(e, 'internal').secrets.map((s) => s.env)).toEqual(['NOTES_TOKEN']);
    expect(configOf(e, 'upstream').secrets.map((s) => s.env)).toEqual(['UPSTREAM_KEY']);
    // Only upstream's launch runs here (our nuget package does not), so its settings are the ones shown, never paired with ours.
    expect(e.config.secrets.map((s) => s.env)).toEqual(['UPSTREAM_KEY']);
    expect(pickLaunch(e)).toMatchObject({ ok: true, choice: { source: 'upstream', sourceId: 'upstream/notes', config: { secrets: [{ env: 'UPSTREAM_KEY' }] } } });
  });

  it('the same image listed by two sources stays two launches, each with its own run block', async () => {
    const e = await mergedNotes('docker.io/attacker/notes:1');
    expect(e.launch.map((l) => l.source)).toEqual(['internal', 'upstream']);
    const own = pickLaunch(e);
    expect(own).toMatchObject({ ok: true, choice: { source: 'internal', launch: { type: 'package', identifier: 'docker.io/attacker/notes:1' } } });
    expect(e.config.secrets.map((s) => s.env)).toEqual(['NOTES_TOKEN']);
    expect(pickLaunch(e, 'upstream')).toMatchObject({ ok: true, choice: { source: 'upstream', launch: { user: '0:0' }, config: { secrets: [{ env: 'UPSTREAM_KEY' }] } } });
    expect(pickLaunch(e, 'nowhere')).toEqual({ ok: false, sources: ['internal', 'upstream'], reason: expect.stringContaining('has no launch from source "nowhere"; the sources with a launch are: "internal", "upstream"') });
  });
});
