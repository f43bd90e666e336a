import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDetailPage } from '../../src/sources/mcpservers-html.js';
import { detailToEntry } from '../../src/sources/mcpservers.js';
import { inferLaunch, snippetLaunch } from '../../src/sources/inferred-launch.js';
import { pickLaunch } from '../../src/model/launch-choice.js';
import { Policy } from '../../src/governance/policy.js';
import { normalizeEntry } from '../../src/model/entry.js';
import { sharedData } from '../helpers/shared-data.js';

/**
 * Issue 12 point 5: an mcpservers.org entry with only a repository gets its launch inferred from the client
 * configuration its detail page documents — on the real captured pages, and on the anki page with the README blocks
 * the capture cut put back. An inferred launch says where it was read and is never allowed without approval.
 */

const BASE = 'https://mcpservers.org';
const page = (f: string) => readFileSync(sharedData(`mcpservers/${f}`), 'utf8');
const anki = page('server-detail-anki.pt-BR.excerpt.html');
const b12 = page('remote-detail-b12.pt-BR.excerpt.html');
const ANKI_URL = `${BASE}/servers/anki-mcp/anki-mcp-desktop`;
const withReadme = (html: string) => anki.replace('<h2>Servidor Anki MCP</h2>', `<h2>Servidor Anki MCP</h2>${html}`);

describe('inferred launches from real detail pages', () => {
  it('the real anki capture documents no command (its README was cut): nothing is guessed', () => {
    const e = detailToEntry(parseDetailPage(anki, BASE), ANKI_URL);
    expect(e.launch).toBeUndefined();
    expect(e.repository).toBe('https://github.com/ankimcp/anki-mcp-server');
  });

  it('a remote page is its endpoint, never an inferred package (its "claude mcp add" line is not a launch)', () => {
    const e = detailToEntry(parseDetailPage(b12, BASE), `${BASE}/remote-mcp-servers/b12`);
    expect(e.launch).toEqual([{ type: 'remote', url: 'https://b12.io/mcp', transport: 'streamable-http' }]);
  });

  it('reads the client config JSON of the README: npx with a pinned version and its arguments', () => {
    const html = withReadme('<pre><code>{"mcpServers": {"memory": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory@2026.8.31"]}}}</code></pre>');
    const e = detailToEntry(parseDetailPage(html, BASE), ANKI_URL);
    expect(e.launch).toEqual([
      {
        type: 'package',
        registryType: 'npm',
        identifier: '@modelcontextprotocol/server-memory',
        version: '2026.8.31',
        runtimeHint: 'npx',
        transport: { type: 'stdio' },
        inferred: { page: ANKI_URL, snippet: 'npx -y @modelcontextprotocol/server-memory@2026.8.31' },
      },
    ]);
  });

  it('skips snippets with placeholders and takes the first one that is a launch (uvx, docker run)', () => {
    const html = withReadme(
      '<pre><code>docker run -i --rm &lt;your-image&gt;</code></pre>' + '<pre><code>{"command": "uvx", "args": ["mcp-server-anki==0.4.1", "--port", "8765"]}</code></pre>',
    );
    const [l] = detailToEntry(parseDetailPage(html, BASE), ANKI_URL).launch!;
    expect(l).toMatchObject({ type: 'package', registryType: 'pypi', identifier: 'mcp-server-anki', version: '0.4.1', runtimeHint: 'uvx', packageArguments: [{ type: 'positional', value: '--port' }, { type: 'positional', value: '8765' }] });
    expect(l).toMatchObject({ inferred: { page: ANKI_URL, snippet: 'uvx mcp-server-anki==0.4.1 --port 8765' } });
  });
});

describe('snippet forms', () => {
  it('npx, uvx, pipx run and docker run; placeholders and non-launches are not launches', () => {
    expect(snippetLaunch('npx -y mcp-remote@latest')).toMatchObject({ registryType: 'npm', identifier: 'mcp-remote' });
    expect(snippetLaunch('npx -y mcp-remote@latest')).not.toHaveProperty('version');
    expect(snippetLaunch('npx @scope/pkg /data')).toMatchObject({ identifier: '@scope/pkg', packageArguments: [{ type: 'positional', value: '/data' }] });
    expect(snippetLaunch('uvx --from mcp-time mcp-time')).toMatchObject({ registryType: 'pypi', identifier: 'mcp-time' });
    expect(snippetLaunch('uvx --from git+https://github.com/a/b b')).toBeUndefined();
    expect(snippetLaunch('pipx run mcp-time')).toMatchObject({ registryType: 'pypi', identifier: 'mcp-time' });
    expect(snippetLaunch('docker run -i --rm -e TOKEN ghcr.io/a/b:1.2 --stdio')).toEqual({ type: 'image', image: 'ghcr.io/a/b:1.2', command: ['--stdio'] });
    expect(snippetLaunch('npx -y @scope/pkg --dir /path/to/folder')).toBeUndefined();
    expect(snippetLaunch('npx -y pkg YOUR_API_KEY')).toBeUndefined();
    expect(snippetLaunch('npx')).toBeUndefined();
    expect(inferLaunch(['npx', 'docker run <img>'], ANKI_URL)).toBeUndefined();
  });
});

describe('policy: an inferred launch always needs approval', () => {
  const snippet = 'npx -y @modelcontextprotocol/server-memory@2026.8.31';
  const entry = normalizeEntry({
    id: 'mine/memory',
    nativeName: 'memory',
    name: 'memory',
    description: 'x',
    sources: [{ source: 'mine', id: 'mine/memory' }],
    launch: [{ type: 'package', registryType: 'npm', identifier: '@modelcontextprotocol/server-memory', version: '2026.8.31', transport: { type: 'stdio' }, inferred: { page: ANKI_URL, snippet } }],
  });
  const load = async (yaml: string) => Policy.fromText(yaml, 'policy.yaml', { mine: 'file' });

  it('not allowed by a source trust (even a file source) nor by a pattern; allowed by its exact id or an approval', async () => {
    expect(pickLaunch(entry).ok).toBe(true);
    const none = (await load('allow: []\n')).decide(entry);
    expect(none).toMatchObject({ allowed: false, needsApproval: true, command: 'mcp-registry allow mine/memory' });
    expect(none.reason).toContain(`its launch (\`${snippet}\`) was inferred from ${ANKI_URL}, not published by a catalog, so it always needs approval`);
    expect((await load('allow: ["mine/*"]\n')).decide(entry)).toMatchObject({ allowed: false, needsApproval: true });
    expect((await load('allow: ["mine/memory"]\n')).decide(entry)).toMatchObject({ allowed: true });
    expect((await load('allow: []\n')).decide(entry, { 'mine/memory': { approvedAt: '2026-12-03T00:00:00Z', by: 'elicitation' } })).toMatchObject({ allowed: true });
  });
});
