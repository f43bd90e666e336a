import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { installSnippets, isChallengePage, parseDetailPage, parseListingPage, serverSlug } from '../../src/sources/mcpservers-html.js';
import { detailToEntry, dockerRunImage } from '../../src/sources/mcpservers.js';
import { sharedData } from '../helpers/shared-data.js';

const BASE = 'https://mcpservers.org';
const page = (f: string) => readFileSync(sharedData(`mcpservers/${f}`), 'utf8');
const listing = page('official-page2.pt-BR.excerpt.html');
const anki = page('server-detail-anki.pt-BR.excerpt.html');
const remoteIndex = page('remote-index.pt-BR.trimmed.html');
const b12 = page('remote-detail-b12.pt-BR.excerpt.html');
const challenge = page('cloudflare-challenge.html');

describe('listing page (real pt-BR capture of /official?page=2)', () => {
  const parsed = parseListingPage(listing, BASE);

  it('reads every catalog card and skips the sponsor card', () => {
    // The excerpt keeps 7 of the page's 30 cards; one is the Alpha Vantage sponsor placement.
    expect(parsed.cards.map((c) => c.slug)).toEqual([
      'allvoicelab/mcp',
      'isaiahbjork/allyson-mcp',
      'neild-nyc/altbots-tearsheet',
      'alter-mcp',
      'AudienseCo/mcp-audiense-insights',
      'mwstech/auditra',
    ]);
    expect(parsed.sponsorsSkipped).toBe(1);
    expect(parsed.cards.some((c) => /alpha vantage/i.test(c.name))).toBe(false);
  });

  it('reads a card: name, description, category slug (not the Portuguese label), official badge, logo target', () => {
    const c = parsed.cards.find((x) => x.slug === 'AudienseCo/mcp-audiense-insights')!;
    expect(c).toMatchObject({
      kind: 'server',
      name: 'Audiense Insights',
      categoryLabel: 'Produtividade',
      category: 'productivity',
      official: true,
      logoTarget: 'https://github.com/AudienseCo/mcp-audiense-insights',
    });
    expect(c.description).toMatch(/^Insights de marketing e análise de audiência/);
    // Single-segment slugs and website logos (not repositories) exist.
    const alter = parsed.cards.find((x) => x.slug === 'alter-mcp')!;
    expect(alter).toMatchObject({ name: 'ALTER', category: 'other', logoTarget: 'https://truealter.com' });
    expect(parsed.cards.every((x) => x.official)).toBe(true);
  });

  it('reads the count line and the pagination by numbers, not wording', () => {
    expect(parsed.total).toBe(647);
    expect(parsed.range).toEqual({ from: 31, to: 60 });
    expect(parsed.page).toBe(2);
    expect(parsed.pageCount).toBe(22);
    expect(parsed.nextPages).toEqual([3, 4, 22]);
  });

  it('finds nothing in a page without cards (so the source can tell a markup change)', () => {
    const stripped = listing.replace(/data-slot="card"/g, 'data-slot="tile"');
    const p = parseListingPage(stripped, BASE);
    expect(p.cards).toHaveLength(0);
    expect(p.total).toBe(647);
  });
});

describe('server detail page (real pt-BR capture of /servers/anki-mcp/anki-mcp-desktop)', () => {
  const d = parseDetailPage(anki, BASE);

  it('reads title, official badge, description, repository, stars and category', () => {
    expect(d.kind).toBe('server');
    expect(d.name).toBe('Anki MCP');
    expect(d.official).toBe(true);
    expect(d.description).toMatch(/^Um servidor MCP que permite que assistentes de IA interajam com o Anki/);
    // The slug (anki-mcp/anki-mcp-desktop) is not the GitHub repository.
    expect(d.repositoryUrl).toBe('https://github.com/ankimcp/anki-mcp-server');
    expect(d.githubStars).toBe(474);
    expect(d.category).toBe('productivity');
  });

  it('takes the category from ld+json BreadcrumbList when the sidebar has none', () => {
    const noDl = anki.replace(/<dl[\s\S]*?<\/dl>/, '');
    expect(parseDetailPage(noDl, BASE).category).toBe('productivity');
  });

  it('keeps the README (not the use-case box) as text, and the related servers', () => {
    expect(d.readme).toMatch(/^## Servidor Anki MCP/);
    expect(d.readme).not.toMatch(/Revisar cartões pendentes/);
    expect(d.useCases).toMatch(/^- Revisar cartões pendentes de forma conversacional — .*`get_due_cards`/);
    expect(d.related).toEqual(['rember/rember-mcp', 'MCP-Mirror/samefarrar_mcp-ankiconnect', 'jasperket/clanki', 'flashmemorize-com']);
    expect(d.remote).toBeUndefined();
  });

  it('finds install snippets in README code (shell lines and client JSON configs) and caps the README', () => {
    // The capture cut the README body; put back the kind of blocks it had (the npm badge names the package).
    const readme =
      '<pre><code>npx -y @ankimcp/anki-mcp-server\n</code></pre>' +
      '<pre><code>{"mcpServers": {"anki": {"command": "uvx", "args": ["anki-mcp", "--port", "8765"]}}}</code></pre>' +
      '<pre><code>docker run -i --rm \\\n  -e ANKI_URL \\\n  ghcr.io/ankimcp/anki-mcp-server:1.2 --stdio</code></pre>' +
      '<p>' + 'x'.repeat(40_000) + '</p>';
    const html = anki.replace('<h2>Servidor Anki MCP</h2>', `<h2>Servidor Anki MCP</h2>${readme}`);
    const p = parseDetailPage(html, BASE);
    expect(p.installSnippets).toEqual([
      'npx -y @ankimcp/anki-mcp-server',
      'uvx anki-mcp --port 8765',
      'docker run -i --rm -e ANKI_URL ghcr.io/ankimcp/anki-mcp-server:1.2 --stdio',
    ]);
    expect(p.readme!.length).toBeLessThanOrEqual(32_000);
    expect(p.readme).toContain('```\nnpx -y @ankimcp/anki-mcp-server\n```');
    const page = 'https://mcpservers.org/servers/anki-mcp/anki-mcp-desktop';
    const e = detailToEntry(p, page);
    // The first documented command becomes the launch, marked as inferred from this page (it always needs approval).
    expect(e.launch).toEqual([
      { type: 'package', registryType: 'npm', identifier: '@ankimcp/anki-mcp-server', runtimeHint: 'npx', transport: { type: 'stdio' }, inferred: { page, snippet: 'npx -y @ankimcp/anki-mcp-server' } },
    ]);
    expect(e.meta).toMatchObject({ githubStars: 474, installSnippets: p.installSnippets });
    expect(e).toMatchObject({ repository: 'https://github.com/ankimcp/anki-mcp-server', category: 'productivity', official: true });
  });
});

describe('remote servers (real pt-BR captures)', () => {
  it('reads the remote index cards', () => {
    const p = parseListingPage(remoteIndex, BASE);
    expect(p.cards).toHaveLength(10);
    expect(p.cards.every((c) => c.kind === 'remote')).toBe(true);
    expect(p.cards[0]).toMatchObject({ slug: 'ahrefs', name: 'Ahrefs', description: 'Análise de SEO e busca com IA', icon: 'https://svgl.app/library/ahrefs.svg' });
    expect(p.cards.map((c) => c.slug)).toContain('github');
    expect(p.total).toBeUndefined();
    expect(p.nextPages).toEqual([]);
  });

  it('reads the endpoint and transport from the connection details of a remote detail page', () => {
    const d = parseDetailPage(b12, BASE);
    expect(d.kind).toBe('remote');
    expect(d.name).toBe('B12');
    expect(d.description).toBe('Geração de sites com IA');
    expect(d.about).toMatch(/^B12 é um construtor de sites/);
    expect(d.websiteUrl).toBe('https://www.b12.io');
    expect(d.remote).toEqual({
      url: 'https://b12.io/mcp',
      transport: 'streamable-http',
      details: [
        { label: 'Transporte', value: 'Streamable HTTP' },
        { label: 'Autenticação', value: 'Aberto — sem autenticação' },
      ],
    });
    const e = detailToEntry(d);
    expect(e.launch).toEqual([{ type: 'remote', url: 'https://b12.io/mcp', transport: 'streamable-http' }]);
    expect(e.description).toBe(d.about);
    // The sponsored "Try this MCP" link is not the vendor's website.
    expect(e.website).toBe('https://www.b12.io');
  });

  it('reads an SSE transport', () => {
    const sse = b12.replace('>Streamable HTTP<', '>SSE<').replace('https://b12.io/mcp</code>', 'https://b12.io/sse</code>');
    expect(parseDetailPage(sse, BASE).remote).toMatchObject({ url: 'https://b12.io/sse', transport: 'sse' });
  });
});

describe('Cloudflare challenge', () => {
  it('is recognised in the real challenge page and not in real content pages', () => {
    expect(isChallengePage(challenge)).toBe(true);
    for (const html of [listing, anki, remoteIndex, b12]) expect(isChallengePage(html)).toBe(false);
  });
});

describe('helpers', () => {
  it('accepts server links with or without a locale prefix, and only on the site', () => {
    expect(serverSlug('/pt-BR/servers/AudienseCo/mcp-audiense-insights', BASE)).toBe('AudienseCo/mcp-audiense-insights');
    expect(serverSlug('/servers/alter-mcp', BASE)).toBe('alter-mcp');
    expect(serverSlug('https://mcpservers.org/zh-CN/servers/a/b', BASE)).toBe('a/b');
    expect(serverSlug('https://mcp.alphavantage.co/servers/x', BASE)).toBeUndefined();
    expect(serverSlug('/pt-BR/category/productivity', BASE)).toBeUndefined();
  });

  it('reads docker run images and refuses placeholders', () => {
    expect(dockerRunImage('docker run -i --rm -e TOKEN -v /a:/b mcp/github')).toEqual({ type: 'image', image: 'mcp/github' });
    expect(dockerRunImage('docker run --rm -i <your-image>')).toBeUndefined();
    expect(dockerRunImage('npx -y pkg')).toBeUndefined();
    expect(installSnippets(['$ uvx mcp-server-time\n# comment'])).toEqual(['uvx mcp-server-time']);
  });
});
