#!/usr/bin/env node
/**
 * A deterministic synthetic catalog shaped like mcpservers.org entries (ids `mcpservers/<owner>/<repo>`,
 * one of its categories, a repository URL, a one-paragraph description, sometimes tags and tools), for
 * benchmarks and scale tests. Invented brand names make the vocabulary grow with the catalog the way a
 * real one does, so typo correction and index size are measured against a realistic dictionary.
 *
 *   import { syntheticEntries } from './scripts/synthetic-catalog.mjs'; syntheticEntries(12000, 1)
 *   node scripts/synthetic-catalog.mjs 12000 [seed]  > entries.json
 */

const CATEGORIES = [
  'development', 'productivity', 'database', 'search', 'web-scraping', 'file-system', 'version-control', 'communication',
  'cloud-service', 'cloud-storage', 'marketing', 'finance', 'design', 'memory', 'other',
];

/** Well-known products an MCP server wraps, grouped by the category they usually land in. */
const SERVICES = {
  development: ['npm', 'pypi', 'vscode', 'jetbrains', 'docker', 'kubernetes', 'terraform', 'jenkins', 'circleci', 'sentry', 'datadog', 'openapi', 'graphql', 'swagger', 'eslint', 'pytest', 'cargo', 'maven', 'gradle', 'xcode', 'android', 'unity', 'godot', 'figma', 'storybook'],
  productivity: ['notion', 'obsidian', 'todoist', 'trello', 'asana', 'jira', 'linear', 'clickup', 'monday', 'airtable', 'calendar', 'evernote', 'confluence', 'miro', 'zapier', 'n8n', 'excel', 'word', 'powerpoint', 'onenote'],
  database: ['postgres', 'mysql', 'sqlite', 'mongodb', 'redis', 'elasticsearch', 'clickhouse', 'snowflake', 'bigquery', 'dynamodb', 'cassandra', 'neo4j', 'supabase', 'firebase', 'duckdb', 'mariadb', 'oracle', 'mssql', 'qdrant', 'pinecone', 'weaviate', 'chroma', 'milvus'],
  search: ['google', 'bing', 'brave', 'duckduckgo', 'tavily', 'exa', 'perplexity', 'kagi', 'searxng', 'serper', 'wikipedia', 'arxiv', 'pubmed', 'scholar'],
  'web-scraping': ['playwright', 'puppeteer', 'selenium', 'firecrawl', 'crawl4ai', 'browserless', 'scrapy', 'apify', 'jina', 'chromium'],
  'file-system': ['filesystem', 'dropbox', 'gdrive', 'onedrive', 'box', 's3', 'ftp', 'sftp', 'smb', 'webdav'],
  'version-control': ['github', 'gitlab', 'bitbucket', 'gitea', 'git', 'mercurial', 'gerrit', 'forgejo'],
  communication: ['slack', 'discord', 'telegram', 'whatsapp', 'teams', 'gmail', 'outlook', 'twilio', 'zoom', 'matrix', 'signal', 'mastodon', 'bluesky', 'twitter', 'reddit', 'email', 'sms'],
  'cloud-service': ['aws', 'azure', 'gcp', 'cloudflare', 'vercel', 'netlify', 'heroku', 'digitalocean', 'fly', 'render', 'railway', 'hetzner', 'linode'],
  'cloud-storage': ['s3', 'r2', 'gcs', 'backblaze', 'wasabi', 'minio', 'icloud', 'mega'],
  marketing: ['hubspot', 'mailchimp', 'salesforce', 'semrush', 'ahrefs', 'analytics', 'klaviyo', 'intercom', 'linkedin', 'facebook', 'instagram', 'youtube', 'tiktok'],
  finance: ['stripe', 'paypal', 'plaid', 'quickbooks', 'xero', 'coinbase', 'binance', 'alpaca', 'yahoo-finance', 'polygon', 'wise', 'square'],
  design: ['figma', 'canva', 'sketch', 'blender', 'photoshop', 'illustrator', 'dalle', 'midjourney', 'stable-diffusion', 'excalidraw', 'mermaid'],
  memory: ['knowledge-graph', 'vector-store', 'embeddings', 'mem0', 'zep', 'letta', 'notes', 'journal'],
  other: ['weather', 'spotify', 'maps', 'calculator', 'time', 'translate', 'recipes', 'flights', 'hotels', 'home-assistant', 'minecraft', 'chess', 'news', 'rss', 'podcast', 'pdf', 'ocr', 'speech', 'youtube-transcript'],
};

const VERBS = ['query', 'search', 'manage', 'create', 'update', 'delete', 'list', 'read', 'write', 'analyze', 'monitor', 'deploy', 'sync', 'export', 'import', 'summarize', 'translate', 'schedule', 'send', 'fetch', 'browse', 'automate', 'inspect', 'visualize', 'track', 'generate', 'convert', 'index', 'upload', 'download', 'backup', 'restore', 'validate', 'transform', 'explore', 'debug', 'run', 'execute', 'publish', 'archive'];
const OBJECTS = ['tables', 'records', 'documents', 'files', 'messages', 'channels', 'issues', 'pull requests', 'repositories', 'commits', 'pages', 'databases', 'collections', 'indexes', 'queries', 'dashboards', 'metrics', 'logs', 'traces', 'alerts', 'incidents', 'tickets', 'tasks', 'projects', 'events', 'calendars', 'contacts', 'invoices', 'payments', 'customers', 'orders', 'products', 'images', 'videos', 'transcripts', 'notes', 'bookmarks', 'emails', 'threads', 'comments', 'workflows', 'pipelines', 'builds', 'deployments', 'containers', 'pods', 'clusters', 'buckets', 'objects', 'secrets', 'users', 'teams', 'permissions', 'schemas', 'migrations', 'embeddings', 'vectors', 'screenshots', 'web pages', 'search results', 'spreadsheets', 'slides', 'charts', 'diagrams', 'forecasts', 'prices', 'quotes', 'trades', 'wallets', 'transactions'];
const ADJECTIVES = ['fast', 'simple', 'secure', 'lightweight', 'local', 'remote', 'unofficial', 'community', 'read-only', 'typed', 'async', 'minimal', 'powerful', 'self-hosted', 'open-source', 'production-ready', 'experimental', 'cross-platform', 'serverless', 'real-time'];
const LANGS = ['TypeScript', 'Python', 'Go', 'Rust', 'Java', 'C#', 'Kotlin', 'Ruby', 'Elixir', 'Deno'];
const CONNECT = ['that lets AI assistants', 'enabling LLMs to', 'for agents to', 'which allows Claude to', 'so your assistant can', 'to help models'];
const TAIL = [
  'Supports pagination and filtering.', 'Includes OAuth authentication.', 'Works with self-hosted instances.', 'Configurable via environment variables.',
  'Runs over stdio or streamable HTTP.', 'Built with the official SDK.', 'Caches responses locally.', 'Respects API rate limits.', '', '', '',
];
const SYLLABLES = ['ka', 'zen', 'tor', 'vi', 'lo', 'mar', 'qu', 'ix', 'ra', 'po', 'nel', 'dri', 'fy', 'sol', 'tek', 'bri', 'ova', 'lux', 'neo', 'sy', 'pha', 'gri', 'mo', 'dex', 'ul', 'tra', 'cin', 'ze', 'ko', 'vel'];
const OWNER_WORDS = ['labs', 'dev', 'hq', 'io', 'ai', 'tech', 'works', 'cloud', 'data', 'org', 'team', 'app', 'soft', 'hub'];

/** mulberry32: small, fast, deterministic. */
function rng(seed) {
  let a = seed >>> 0 || 1;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * n synthetic entries in the normalised Entry shape (src/model/entry.ts), the same for the same (n, seed).
 * @param {number} n
 * @param {number} [seed]
 */
export function syntheticEntries(n, seed = 1) {
  const r = rng(seed);
  const pick = (arr) => arr[Math.floor(r() * arr.length)];
  const brand = () => {
    let s = '';
    const k = 2 + Math.floor(r() * 2);
    for (let i = 0; i < k; i++) s += pick(SYLLABLES);
    return s;
  };
  const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);
  const usedIds = new Set();
  const out = [];
  for (let i = 0; i < n; i++) {
    const category = pick(CATEGORIES);
    const service = r() < 0.75 ? pick(SERVICES[category]) : brand();
    const owner = r() < 0.5 ? brand() : `${brand()}-${pick(OWNER_WORDS)}`;
    const style = r();
    let repo = style < 0.4 ? `${service}-mcp` : style < 0.7 ? `mcp-server-${service}` : style < 0.85 ? `${service}-mcp-server` : `${brand()}-${service}`;
    let id = `mcpservers/${owner}/${repo}`;
    if (usedIds.has(id.toLowerCase())) {
      repo = `${repo}-${i}`;
      id = `mcpservers/${owner}/${repo}`;
    }
    usedIds.add(id.toLowerCase());
    const verbs = [pick(VERBS), pick(VERBS), pick(VERBS)];
    const objects = [pick(OBJECTS), pick(OBJECTS), pick(OBJECTS)];
    const svc = cap(service.replace(/-/g, ' '));
    const description = [
      `A ${pick(ADJECTIVES)} ${pick(LANGS)} MCP server for ${svc} ${pick(CONNECT)} ${verbs[0]} ${objects[0]}, ${verbs[1]} ${objects[1]} and ${verbs[2]} ${objects[2]}.`,
      r() < 0.5 ? `Also ${pick(VERBS)}s ${pick(OBJECTS)} in ${cap(brand())} and ${cap(brand())}.` : '',
      pick(TAIL),
    ]
      .filter(Boolean)
      .join(' ');
    const tags = r() < 0.3 ? [service, category, pick(ADJECTIVES)] : [];
    const tools =
      r() < 0.08
        ? Array.from({ length: 2 + Math.floor(r() * 10) }, () => {
            const v = pick(VERBS);
            const o = pick(OBJECTS).replace(/ /g, '_');
            return { name: `${v}_${o}`, description: `${cap(v)} ${o.replace(/_/g, ' ')} in ${svc}.` };
          })
        : [];
    const name = r() < 0.5 ? repo : `${svc} ${pick(['MCP', 'MCP Server', 'Server', 'Connector', 'Tools'])}`;
    out.push({
      id,
      nativeName: `${owner}/${repo}`,
      name,
      description,
      category,
      tags: [...new Set(tags.map((t) => t.toLowerCase()))],
      repository: `https://github.com/${owner}/${repo}`,
      official: r() < 0.05 ? true : undefined,
      sources: [{ source: 'mcpservers', id: `${owner}/${repo}`, url: `https://mcpservers.org/servers/${owner}/${repo}` }],
      aliases: [],
      tools: [...new Map(tools.map((t) => [t.name, t])).values()],
      launch: [],
      config: { secrets: [], env: [] },
    });
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 100);
  const seed = Number(process.argv[3] ?? 1);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write('usage: node scripts/synthetic-catalog.mjs <count> [seed]\n');
    process.exit(2);
  }
  process.stdout.write(JSON.stringify(syntheticEntries(n, seed)) + '\n');
}
