/** All this project knows of mcpservers.org's markup: listing cards, detail pages, challenge pages, by structure. */
import * as cheerio from 'cheerio';
import type { CheerioAPI } from 'cheerio';

/**
 * Everything this project knows about mcpservers.org's markup lives in this file, so a site redesign is a
 * one-file change. The site is localised (15 locales); visible wording differs per locale, so nothing here
 * reads labels: only URLs, `data-slot` attributes, classes, element structure and numbers.
 */

/** A server card of a listing page (`/all`, `/official`, `/category/x`) or of the remote index. */
export interface ListingCard {
  kind: 'server' | 'remote';
  /** `owner/repo` or a single segment, as in the card's link (case kept). */
  slug: string;
  name: string;
  description: string;
  /** Category slug (`productivity`), resolved through the page's own category links; absent when unknown. */
  category?: string;
  /** The category as the page shows it (localised). */
  categoryLabel?: string;
  official: boolean;
  /** The URL the logo was made from: usually the repository, sometimes the vendor's website. */
  logoTarget?: string;
  /** An absolute icon URL (remote cards link third-party icons directly). */
  icon?: string;
  /** Endpoint of a remote server when the card shows one. */
  endpoint?: string;
}

export interface ListingPage {
  cards: ListingCard[];
  /** Total servers of this listing ("showing a-b of N"). */
  total?: number;
  /** The a-b of "showing a-b of N". */
  range?: { from: number; to: number };
  /** This page's number (from the active pagination link or the range). */
  page?: number;
  /** Highest page number the pagination links to. */
  pageCount?: number;
  /** Page numbers above this one that the pagination links to, ascending. */
  nextPages: number[];
  /** Sponsor cards seen and skipped (ads, not catalog entries). */
  sponsorsSkipped: number;
}

export interface RemoteConnection {
  url: string;
  transport?: 'streamable-http' | 'sse';
  /** The connection facts as the page lists them (localised labels: transport, authentication …). */
  details: { label: string; value: string }[];
}

export interface DetailPage {
  kind: 'server' | 'remote';
  name?: string;
  official: boolean;
  /** The short description under the title. */
  description?: string;
  /** A longer "about" paragraph (remote pages). */
  about?: string;
  repositoryUrl?: string;
  websiteUrl?: string;
  githubStars?: number;
  category?: string;
  categoryLabel?: string;
  /** README as plain text with markdown-ish structure (headings, lists, fenced code), capped. */
  readme?: string;
  /** The site's own "what can you do with it" list (plain text). */
  useCases?: string;
  /** Install/launch commands found in the README (`npx -y …`, `uvx …`, `docker run …`), deduplicated. */
  installSnippets: string[];
  remote?: RemoteConnection;
  /** Slugs of the "related servers" box. */
  related: string[];
}

/** README text kept from a detail page; READMEs can be tens of kilobytes of translated text. */
export const README_CAP = 32_000;
const MAX_SNIPPETS = 10;
const MAX_SNIPPET_LEN = 600;

const CATEGORY_PATH = /\/category\/([a-z0-9-]+)\/?$/i;

/** The site's Cloudflare "Just a moment..." interstitial, which it serves with HTTP 200. */
export function isChallengePage(html: string): boolean {
  const head = html.slice(0, 20_000);
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(head)?.[1]?.trim();
  if (title && /^just a moment/i.test(title)) return true;
  // Other Cloudflare interstitial variants carry these markers instead of (or besides) the title.
  return /\b(cf-browser-verification|cf_chl_opt|challenge-platform\/)/.test(head);
}

export function parseListingPage(html: string, baseUrl: string): ListingPage {
  const $ = cheerio.load(html);
  const categories = categoryLabels($);
  const cards: ListingCard[] = [];
  let sponsorsSkipped = 0;
  const seen = new Set<string>();

  $('a[href]').each((_, a) => {
    const $a = $(a);
    const href = $a.attr('href') ?? '';
    const card = $a.find('[data-slot=card]').first();
    if (card.length) {
      const slug = serverSlug(href, baseUrl);
      // Sponsor placements are ads linking out (utm_medium=sponsor, green badge). A sponsored card that links to
      // a catalog page is still a real server, so only the link decides.
      if (!slug || isSponsorLink(href)) {
        if (isSponsorLink(href) || card.find('span.rounded-full[class*="bg-green-"]').length) sponsorsSkipped++;
        return;
      }
      const key = 'server:' + slug.toLowerCase();
      if (seen.has(key)) return;
      seen.add(key);
      const title = card.find('[data-slot=card-title]').first();
      const categoryLabel = clean(title.next().text()) || undefined;
      const logo = card.find('img[src*="/api/logo"]').first().attr('src');
      cards.push({
        kind: 'server',
        slug,
        name: clean(title.text()),
        description: clean(card.find('[data-slot=card-description]').first().text()),
        categoryLabel,
        category: categoryLabel ? categories.get(categoryLabel.toLowerCase()) : undefined,
        official: card.find('span.rounded-full[class*="bg-blue-"]').length > 0,
        logoTarget: logo ? logoTarget(logo, baseUrl) : undefined,
      });
      return;
    }
    const remoteSlug = remoteSlugOf(href, baseUrl);
    if (!remoteSlug || isSponsorLink(href)) return;
    // Remote index cards: the link wraps an icon and a block whose first two children are name and tagline.
    const texts = $a.children('div').first().children();
    const name = clean(texts.eq(0).text());
    if (!name) return;
    const key = 'remote:' + remoteSlug.toLowerCase();
    if (seen.has(key)) return;
    seen.add(key);
    const icon = $a.find('img[src]').first().attr('src');
    const endpoint = $a
      .find('code')
      .map((_, c) => clean($(c).text()))
      .get()
      .find((t) => /^https?:\/\/\S+$/.test(t));
    cards.push({
      kind: 'remote',
      slug: remoteSlug,
      name,
      description: clean(texts.eq(1).text()),
      official: $a.find('span.rounded-full[class*="bg-blue-"]').length > 0,
      icon: icon ? absolute(icon, baseUrl) : undefined,
      endpoint,
    });
  });

  const out: ListingPage = { cards, nextPages: [], sponsorsSkipped };
  const count = countLine($);
  if (count) {
    out.total = count.total;
    out.range = { from: count.from, to: count.to };
  }
  const pages = new Set<number>();
  let active: number | undefined;
  $('[data-slot=pagination-link][href]').each((_, a) => {
    const n = pageNumber($(a).attr('href')!, baseUrl);
    if (n === undefined) return;
    pages.add(n);
    const $a = $(a);
    if ($a.attr('aria-current') === 'page' || $a.attr('data-active') === 'true') active = n;
  });
  if (active === undefined && out.range && out.range.to > out.range.from) {
    active = Math.floor((out.range.from - 1) / (out.range.to - out.range.from + 1)) + 1;
  }
  out.page = active;
  if (pages.size) out.pageCount = Math.max(...pages);
  out.nextPages = [...pages].filter((n) => n > (active ?? 1)).sort((a, b) => a - b);
  return out;
}

export function parseDetailPage(html: string, baseUrl: string): DetailPage {
  const $ = cheerio.load(html);
  const canonical = $('link[rel=canonical]').attr('href') ?? $('meta[property="og:url"]').attr('content') ?? '';
  const remote = remoteConnection($);
  const kind: DetailPage['kind'] = remoteSlugOf(canonical, baseUrl) || (remote && !serverSlug(canonical, baseUrl)) ? 'remote' : 'server';
  const h1 = $('main h1').first();
  const out: DetailPage = { kind, official: false, installSnippets: [], related: [] };
  out.name = clean(h1.text()) || undefined;
  out.official = h1.parent().find('span.rounded-full[class*="bg-blue-"]').length > 0;
  // The tagline is the paragraph right after the title (remote pages) or after the title row (server pages).
  const tagline = h1.nextAll('p').first().length ? h1.nextAll('p').first() : h1.parent().nextAll('p').first();
  out.description = clean(tagline.text()) || undefined;
  if (kind === 'remote') {
    // Remote pages: the first section with a heading and a prose paragraph is the "about" text.
    const about = $('main section')
      .filter((_, s) => $(s).children('h2').length > 0 && $(s).children('p').length > 0)
      .first();
    out.about = clean(about.children('p').text()) || undefined;
    const docs = h1
      .closest('header')
      .find('a[href^="http"][target=_blank]')
      .filter((_, a) => !/sponsored/.test($(a).attr('rel') ?? ''))
      .first()
      .attr('href');
    if (docs) out.websiteUrl = docs;
  }

  const ghButton = $('a[data-slot=button][href^="https://github.com/"]').first();
  if (ghButton.length) {
    out.repositoryUrl = ghButton.attr('href');
    const stars = parseCount(ghButton.children('div').last().text());
    if (stars !== undefined) out.githubStars = stars;
  }
  if (!out.repositoryUrl) {
    // Sidebar link to the repository carries the same logo as the cards.
    const side = $('aside a[href^="http"]')
      .filter((_, a) => $(a).find('img[src*="/api/logo"]').length > 0)
      .first()
      .attr('href');
    if (side) out.repositoryUrl = side;
  }
  if (!out.repositoryUrl && kind === 'server') {
    const logo = $('img[src*="/api/logo"]').first().attr('src');
    const target = logo ? logoTarget(logo, baseUrl) : undefined;
    if (target) out.repositoryUrl = target;
  }

  const catLink = $('aside dl a[href*="/category/"], main dl a[href*="/category/"]').first();
  const catSlug = catLink.length ? CATEGORY_PATH.exec(pathOf(catLink.attr('href')!, baseUrl))?.[1] : undefined;
  if (catSlug) {
    out.category = catSlug.toLowerCase();
    out.categoryLabel = clean(catLink.text()) || undefined;
  } else {
    const crumb = breadcrumbCategory($, baseUrl);
    if (crumb) {
      out.category = crumb.slug;
      out.categoryLabel = crumb.label;
    }
  }

  const useCases = $('div.markdown-body.use-cases-markdown').first();
  if (useCases.length) out.useCases = cap(blockText(useCases.get(0) as unknown as DomNode), 4_000);
  const readmeEl = $('div.markdown-body')
    .filter((_, d) => !$(d).hasClass('use-cases-markdown'))
    .first();
  if (readmeEl.length) {
    const text = blockText(readmeEl.get(0) as unknown as DomNode);
    if (text) out.readme = cap(text, README_CAP);
    out.installSnippets = installSnippets(
      readmeEl
        .find('pre, code')
        .map((_, c) => $(c).text())
        .get(),
    );
  }
  if (remote) out.remote = remote;
  $('section[data-nosnippet] li a[href]').each((_, a) => {
    const s = serverSlug($(a).attr('href')!, baseUrl);
    if (s) out.related.push(s);
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------------------

/** `/servers/<slug>` (with or without a locale prefix, relative or absolute on the site) → slug. */
export function serverSlug(href: string, baseUrl: string): string | undefined {
  return slugAfter(href, baseUrl, 'servers');
}

/** `/remote-mcp-servers/<slug>` → slug. */
export function remoteSlugOf(href: string, baseUrl: string): string | undefined {
  return slugAfter(href, baseUrl, 'remote-mcp-servers');
}

function slugAfter(href: string, baseUrl: string, section: string): string | undefined {
  let u: URL;
  let base: URL;
  try {
    base = new URL(baseUrl);
    u = new URL(href, base);
  } catch {
    return undefined;
  }
  if (u.host !== base.host) return undefined;
  const parts = u.pathname.split('/').filter(Boolean);
  // An optional locale segment (pt-BR, zh-CN, ja …) may precede the section.
  const at = parts[0] === section ? 0 : parts[1] === section && /^[a-z]{2}(-[a-z]{2,4})?$/i.test(parts[0]!) ? 1 : -1;
  if (at < 0) return undefined;
  const rest = parts.slice(at + 1);
  if (!rest.length || rest.length > 3) return undefined;
  try {
    return rest.map((p) => decodeURIComponent(p)).join('/');
  } catch {
    return undefined;
  }
}

function isSponsorLink(href: string): boolean {
  return /[?&]utm_medium=sponsor\b/i.test(href.replace(/&amp;/g, '&'));
}

/** `/api/logo?url=<encoded>` → the URL it was made from. */
function logoTarget(src: string, baseUrl: string): string | undefined {
  try {
    const target = new URL(src, baseUrl).searchParams.get('url');
    return target && /^https?:\/\//i.test(target) ? target : undefined;
  } catch {
    return undefined;
  }
}

function absolute(src: string, baseUrl: string): string | undefined {
  try {
    return new URL(src, baseUrl).toString();
  } catch {
    return undefined;
  }
}

function pathOf(href: string, baseUrl: string): string {
  try {
    return new URL(href, baseUrl).pathname;
  } catch {
    return href;
  }
}

function pageNumber(href: string, baseUrl: string): number | undefined {
  try {
    const u = new URL(href, baseUrl);
    const p = u.searchParams.get('page');
    if (p === null) return 1; // the first page is linked without ?page
    const n = Number(p);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Category label (lower-cased, as this page's locale writes it) → slug, from the page's own category links. */
function categoryLabels($: CheerioAPI): Map<string, string> {
  const map = new Map<string, string>();
  $('a[href*="/category/"]').each((_, a) => {
    const slug = CATEGORY_PATH.exec(pathOf($(a).attr('href')!, 'https://x.invalid'))?.[1];
    const label = clean($(a).text()).toLowerCase();
    if (slug && label && !map.has(label)) map.set(label, slug.toLowerCase());
  });
  return map;
}

/**
 * The "showing a-b of N" line in any locale: a leaf element whose text holds a number range and one more number.
 * Word order differs between locales, so only the numbers are read.
 */
function countLine($: CheerioAPI): { from: number; to: number; total: number } | undefined {
  let found: { from: number; to: number; total: number } | undefined;
  $('main div, main p, main span').each((_, el) => {
    const $el = $(el);
    // Leaves only, and outside cards (a description may well contain "1-5 of 10").
    if ($el.children().length || $el.closest('a').length) return;
    const text = clean($el.text());
    if (text.length > 120) return;
    const m = /(\d[\d.,\s]*?)\s*[-–—]\s*(\d[\d.,\s]*)/.exec(text);
    if (!m) return;
    const rest = text.slice(0, m.index) + ' ' + text.slice(m.index + m[0].length);
    const others = rest.match(/\d[\d.,]*/g);
    if (!others || others.length !== 1) return;
    const from = toInt(m[1]!);
    const to = toInt(m[2]!);
    const total = toInt(others[0]!);
    if (from === undefined || to === undefined || total === undefined || from > to || to > total) return;
    found = { from, to, total };
    return false;
  });
  return found;
}

function toInt(s: string): number | undefined {
  const digits = s.replace(/\D/g, '');
  return digits ? Number(digits) : undefined;
}

/** "474", "1,234", "1.234", "1.2k", "12k" → number. */
function parseCount(s: string): number | undefined {
  const t = clean(s);
  const k = /^(\d+(?:[.,]\d+)?)\s*([kKmM])$/.exec(t);
  if (k) return Math.round(Number(k[1]!.replace(',', '.')) * (k[2]!.toLowerCase() === 'k' ? 1_000 : 1_000_000));
  return /^\d[\d.,\s]*$/.test(t) ? toInt(t) : undefined;
}

function breadcrumbCategory($: CheerioAPI, baseUrl: string): { slug: string; label?: string } | undefined {
  let out: { slug: string; label?: string } | undefined;
  $('script[type="application/ld+json"]').each((_, s) => {
    let data: unknown;
    try {
      data = JSON.parse($(s).text());
    } catch {
      return;
    }
    const items = (data as { '@type'?: string; itemListElement?: unknown })?.['@type'] === 'BreadcrumbList' ? (data as { itemListElement?: unknown }).itemListElement : undefined;
    if (!Array.isArray(items)) return;
    for (const it of items as { name?: unknown; item?: unknown }[]) {
      const url = typeof it.item === 'string' ? it.item : (it.item as { '@id'?: string } | undefined)?.['@id'];
      const slug = url ? CATEGORY_PATH.exec(pathOf(url, baseUrl))?.[1] : undefined;
      if (slug) {
        out = { slug: slug.toLowerCase(), label: typeof it.name === 'string' ? it.name : undefined };
        return false;
      }
    }
    return;
  });
  return out;
}

/** The "connection details" block of a remote page: a section with an endpoint `code` (outside any `pre`) and a `dl`. */
function remoteConnection($: CheerioAPI): RemoteConnection | undefined {
  let out: RemoteConnection | undefined;
  $('main section').each((_, s) => {
    const $s = $(s);
    if (!$s.find('dl').length) return;
    const url = $s
      .find('code')
      .filter((_, c) => $(c).closest('pre').length === 0)
      .map((_, c) => clean($(c).text()))
      .get()
      .find((t) => /^https?:\/\/\S+$/.test(t));
    if (!url) return;
    const details: { label: string; value: string }[] = [];
    $s.find('dl dt').each((_, dt) => {
      const label = clean($(dt).text());
      const value = clean($(dt).nextAll('dd').first().text());
      if (label || value) details.push({ label, value });
    });
    out = { url, details };
    return false;
  });
  if (!out) return undefined;
  // Transport names ("Streamable HTTP", "SSE") are technical terms the site does not translate; the setup
  // commands (`--transport http|sse`) and the URL are fallbacks.
  const values = out.details.map((d) => d.value).join(' ');
  const commands = $('pre code')
    .map((_, c) => $(c).text())
    .get()
    .join('\n');
  if (/\bsse\b/i.test(values)) out.transport = 'sse';
  else if (/streamable|\bhttp\b/i.test(values)) out.transport = 'streamable-http';
  else if (/--transport[ =]sse\b/.test(commands)) out.transport = 'sse';
  else if (/--transport[ =]http\b/.test(commands)) out.transport = 'streamable-http';
  else if (/\/sse\/?$/i.test(out.url)) out.transport = 'sse';
  return out;
}

const SNIPPET_START = /^(?:npx|uvx|bunx|pipx\s+run|docker\s+run)\s/;

/** Launch commands in README code: shell lines (with `\` continuations) and MCP client JSON configs. */
export function installSnippets(codeTexts: string[]): string[] {
  const out: string[] = [];
  const add = (s: string) => {
    const t = s.replace(/\s+/g, ' ').trim();
    if (t && t.length <= MAX_SNIPPET_LEN && !out.includes(t)) out.push(t);
  };
  for (const text of codeTexts) {
    const joined = text.replace(/\\\r?\n\s*/g, ' ');
    for (const raw of joined.split(/\r?\n/)) {
      const line = raw.replace(/^\s*(?:\$|>|#)\s+/, '').trim();
      if (SNIPPET_START.test(line)) add(line);
    }
    // {"command": "npx", "args": ["-y", "pkg"]} as written in client configuration examples.
    const json = /"command"\s*:\s*"(npx|uvx|bunx|docker)"\s*,\s*"args"\s*:\s*(\[[^\]]*\])/g;
    for (let m = json.exec(text); m; m = json.exec(text)) {
      try {
        const args = JSON.parse(m[2]!) as unknown[];
        if (args.every((a) => typeof a === 'string')) {
          if (m[1] === 'docker' && args[0] !== 'run') continue;
          add([m[1], ...(args as string[]).map(shellQuote)].join(' '));
        }
      } catch {
        /* not JSON after all (comments, placeholders): the shell form may still be found */
      }
    }
    if (out.length >= MAX_SNIPPETS) break;
  }
  return out.slice(0, MAX_SNIPPETS);
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

const BLOCK = new Set(['p', 'div', 'section', 'article', 'table', 'tr', 'ul', 'ol', 'blockquote', 'details', 'summary', 'dl', 'dt', 'dd', 'hr']);

/** The few fields of a parsed DOM node the text conversion reads (cheerio's nodes have them). */
interface DomNode {
  type: string;
  name?: string;
  data?: string;
  children?: DomNode[];
}

function rawText(n: DomNode): string {
  if (n.type === 'text') return n.data ?? '';
  return (n.children ?? []).map(rawText).join('');
}

/** HTML → readable text with markdown-ish structure: headings, list items, fenced code blocks, paragraphs. */
function blockText(root: DomNode): string {
  const parts: string[] = [];
  const walk = (node: DomNode): void => {
    if (node.type === 'text') {
      parts.push((node.data ?? '').replace(/\s+/g, ' '));
      return;
    }
    if (node.type !== 'tag') return;
    const name = node.name ?? '';
    if (name === 'script' || name === 'style' || name === 'img' || name === 'svg' || name === 'button') return;
    if (name === 'pre') {
      parts.push('\n\n```\n' + rawText(node).replace(/\s+$/, '') + '\n```\n\n');
      return;
    }
    if (name === 'br') {
      parts.push('\n');
      return;
    }
    const h = /^h([1-6])$/.exec(name);
    if (h) parts.push('\n\n' + '#'.repeat(Number(h[1])) + ' ');
    else if (name === 'li') parts.push('\n- ');
    else if (name === 'code') parts.push('`');
    else if (BLOCK.has(name)) parts.push('\n\n');
    else if (name === 'td' || name === 'th') parts.push(' | ');
    for (const c of node.children ?? []) walk(c);
    if (h || BLOCK.has(name)) parts.push('\n\n');
    else if (name === 'code') parts.push('`');
  };
  for (const c of root.children ?? []) walk(c);
  let inFence = false;
  return parts
    .join('')
    .split('\n')
    .map((l) => {
      if (l.startsWith('```')) {
        inFence = !inFence;
        return l;
      }
      return inFence ? l : l.trim();
    })
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function cap(s: string, max: number): string {
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

function clean(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
