/**
 * One category vocabulary for every source. mcpservers.org's categories are the base (they are what most
 * entries carry); a few extra ones keep large docker groups (devops, ai, security, monitoring …) from being
 * flattened into "other". Sources spell the same idea many ways (`ai-ml`, `devtools`, `Fintech`), so every
 * value goes through normalizeCategory before it is stored or compared.
 */
export const CATEGORIES = [
  // mcpservers.org
  'development',
  'productivity',
  'database',
  'search',
  'web-scraping',
  'file-system',
  'version-control',
  'communication',
  'cloud-service',
  'cloud-storage',
  'marketing',
  'finance',
  'design',
  'memory',
  'other',
  // extra groups that would otherwise be lost
  'ai',
  'devops',
  'security',
  'monitoring',
  'analytics',
  'media',
  'commerce',
  'blockchain',
  'maps',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** Synonyms (already slugged) → canonical category. Canonical names map to themselves implicitly. */
const SYNONYMS: Record<string, Category> = {
  // development
  devtools: 'development',
  'dev-tools': 'development',
  'developer-tools': 'development',
  developer: 'development',
  'software-development': 'development',
  code: 'development',
  coding: 'development',
  programming: 'development',
  documentation: 'development', // the docker "documentation" servers are developer docs (context7, docs sites)
  docs: 'development',
  testing: 'development',
  'api-development': 'development',
  // devops
  infrastructure: 'devops',
  'ci-cd': 'devops',
  cicd: 'devops',
  containers: 'devops',
  kubernetes: 'devops',
  deployment: 'devops',
  // ai
  'ai-ml': 'ai',
  ml: 'ai',
  'machine-learning': 'ai',
  'artificial-intelligence': 'ai',
  llm: 'ai',
  'ai-tools': 'ai',
  'ai-services': 'ai',
  // analytics
  'data-analytics': 'analytics',
  'data-visualization': 'analytics',
  visualization: 'analytics',
  data: 'analytics',
  'data-science': 'analytics',
  'business-intelligence': 'analytics',
  bi: 'analytics',
  // finance
  fintech: 'finance',
  payments: 'finance',
  payment: 'finance',
  banking: 'finance',
  trading: 'finance',
  'cost-management': 'finance',
  accounting: 'finance',
  // blockchain
  crypto: 'blockchain',
  cryptocurrency: 'blockchain',
  web3: 'blockchain',
  // commerce
  ecommerce: 'commerce',
  'e-commerce': 'commerce',
  shopping: 'commerce',
  retail: 'commerce',
  // marketing
  crm: 'marketing',
  sales: 'marketing',
  seo: 'marketing',
  advertising: 'marketing',
  'social-media': 'marketing',
  // communication
  messaging: 'communication',
  chat: 'communication',
  email: 'communication',
  // media
  video: 'media',
  audio: 'media',
  image: 'media',
  images: 'media',
  music: 'media',
  news: 'media',
  entertainment: 'media',
  games: 'media',
  gaming: 'media',
  // memory
  knowledge: 'memory',
  'knowledge-graph': 'memory',
  'knowledge-base': 'memory',
  'knowledge-management': 'memory',
  // web-scraping
  scraping: 'web-scraping',
  'web-scraper': 'web-scraping',
  crawling: 'web-scraping',
  browser: 'web-scraping',
  'browser-automation': 'web-scraping',
  // file-system
  filesystem: 'file-system',
  files: 'file-system',
  'file-management': 'file-system',
  // version-control
  git: 'version-control',
  vcs: 'version-control',
  // productivity
  automation: 'productivity',
  integration: 'productivity',
  integrations: 'productivity',
  workflow: 'productivity',
  business: 'productivity',
  'project-management': 'productivity',
  collaboration: 'productivity',
  office: 'productivity',
  // design
  web: 'design', // docker's "web" servers are website builders (Webflow, Wix)
  ui: 'design',
  'ui-design': 'design',
  // monitoring
  observability: 'monitoring',
  logging: 'monitoring',
  logs: 'monitoring',
  // security
  cybersecurity: 'security',
  identity: 'security',
  // database
  databases: 'database',
  db: 'database',
  sql: 'database',
  // cloud
  cloud: 'cloud-service',
  'cloud-services': 'cloud-service',
  'cloud-platform': 'cloud-service',
  storage: 'cloud-storage',
  // maps
  geospatial: 'maps',
  location: 'maps',
  gis: 'maps',
  // other
  tools: 'other',
  utilities: 'other',
  misc: 'other',
  miscellaneous: 'other',
};

const CANONICAL = new Set<string>(CATEGORIES);

/** "AI & ML", "ai_ml", " Ai-Ml " → "ai-ml". */
function slug(raw: string): string {
  return raw
    .trim()
    .toLowerCase()
    .replace(/&/g, '-')
    .replace(/[\s_/]+/g, '-')
    .replace(/[^a-z0-9-]/g, '')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
}

/** The canonical category for a known value, or undefined when the value is unknown. */
function lookup(raw: string): Category | undefined {
  const s = slug(raw);
  if (CANONICAL.has(s)) return s as Category;
  return SYNONYMS[s];
}

/**
 * Canonical category of a source's raw value. Unknown non-empty values become "other" so the vocabulary stays
 * closed (sources keep the raw word as a tag when it carries meaning); empty or missing values stay undefined.
 */
export function normalizeCategory(raw: string | undefined): string | undefined {
  if (typeof raw !== 'string' || !slug(raw)) return undefined;
  return lookup(raw) ?? 'other';
}

/** The canonical category a user's filter word names (a category or one of its synonyms), or undefined. */
export function knownCategory(word: string): Category | undefined {
  return lookup(word);
}

/** True when a stored category (already normalised or raw) is what a user's category filter asks for. */
export function categoryMatches(entryCategory: string | undefined, query: string): boolean {
  if (!entryCategory) return false;
  const q = lookup(query);
  // An unknown filter word would otherwise become "other" and match every uncategorised entry.
  if (!q) return false;
  return normalizeCategory(entryCategory) === q;
}
