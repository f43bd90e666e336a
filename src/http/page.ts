/** The HTML page served at `/` (inline script and style) and the Content-Security-Policy that allows it. */
import { createHash } from 'node:crypto';

/**
 * The catalog page at `/`: a search box, results and entry details, in plain HTML with a little JS that calls the
 * same v0.1 API (relative URLs, so it works behind a path prefix). Data is only ever inserted as text, and a strict
 * Content-Security-Policy allows exactly this inline script and style.
 */

const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #59636e; --line: #d1d9e0; --bg2: #f6f8fa; --accent: #0969da; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9198a1; --line: #3d444d; --bg2: #151b23; --accent: #4493f8; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); }
header { padding: 14px 20px; border-bottom: 1px solid var(--line); display: flex; gap: 16px; align-items: center; flex-wrap: wrap; }
header h1 { font-size: 18px; margin: 0; }
header input { flex: 1; min-width: 220px; font: inherit; padding: 7px 10px; border: 1px solid var(--line); border-radius: 6px; background: transparent; color: inherit; }
main { display: grid; grid-template-columns: minmax(280px, 2fr) 3fr; min-height: calc(100vh - 60px); }
#list { border-right: 1px solid var(--line); overflow: auto; max-height: calc(100vh - 60px); }
#status { color: var(--muted); padding: 8px 16px; font-size: 13px; }
ul { list-style: none; margin: 0; padding: 0; }
#results button { all: unset; box-sizing: border-box; display: block; width: 100%; padding: 9px 16px; border-top: 1px solid var(--line); cursor: pointer; }
#results button:hover, #results button:focus-visible, #results button[aria-current="true"] { background: var(--bg2); }
.n { font-weight: 600; } .nm { color: var(--muted); font-size: 12px; font-family: ui-monospace, monospace; word-break: break-all; }
.d { color: var(--muted); font-size: 13px; }
.badge { display: inline-block; font-size: 11px; padding: 0 6px; border: 1px solid var(--line); border-radius: 10px; margin-left: 6px; color: var(--muted); }
.badge.deprecated { color: #9a6700; border-color: #9a6700; }
.badge.health { color: #b42318; border-color: #b42318; }
#more { margin: 10px 16px; font: inherit; padding: 5px 12px; }
#detail { padding: 16px 24px; overflow: auto; max-height: calc(100vh - 60px); }
#detail h2 { margin: 0 0 4px; }
#detail h3 { font-size: 14px; margin: 18px 0 6px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
#detail code { font-family: ui-monospace, monospace; font-size: 13px; background: var(--bg2); padding: 1px 5px; border-radius: 4px; word-break: break-all; }
#detail li { margin: 3px 0; }
a { color: var(--accent); }
.empty { color: var(--muted); }
`;

const SCRIPT = `
(() => {
  'use strict';
  const base = location.pathname.replace(/index\\.html$/, '').replace(/\\/?$/, '/');
  const api = base + 'v0.1/servers';
  const OFFICIAL = 'io.modelcontextprotocol.registry/official';
  const OURS = 'io.github.mcp-registry/aggregator';
  const $ = (id) => document.getElementById(id);
  const q = $('q'), results = $('results'), more = $('more'), status = $('status'), detail = $('detail');
  let cursor = null, seq = 0, timer = 0, current = null;

  function el(tag, props, ...kids) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === 'class') n.className = v; else if (k === 'text') n.textContent = v; else n.setAttribute(k, v);
    }
    for (const k of kids) if (k !== null && k !== undefined && k !== false) n.append(k);
    return n;
  }
  const link = (url, text) => (/^https?:\\/\\//i.test(url || '') ? el('a', { href: url, rel: 'noopener noreferrer', target: '_blank', text: text || url }) : document.createTextNode(text || url || ''));
  const badge = (status) => (status && status !== 'active' ? el('span', { class: 'badge ' + status, text: status }) : null);
  // Remote endpoints' health (serve-http's probes): marked when not ACTIVE; the details say when it was checked.
  const healthBadge = (h) => (h && h.status !== 'ACTIVE' ? el('span', { class: 'badge health', text: h.status }) : null);
  const healthText = (h) => 'Health: ' + h.status + ' since ' + h.since + (h.checkedAt ? ', checked ' + h.checkedAt : '') + (h.latencyMs !== undefined ? ', ' + h.latencyMs + ' ms' : '') + (h.lastError ? ' — ' + h.lastError : '');

  async function getJson(url) {
    const r = await fetch(url, { headers: { Accept: 'application/json' } });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(body.detail || r.status + ' ' + r.statusText);
    return body;
  }

  async function search(reset) {
    const my = ++seq;
    const p = new URLSearchParams({ limit: '30', version: 'latest' });
    const text = q.value.trim();
    if (text) p.set('search', text);
    if (!reset && cursor) p.set('cursor', cursor);
    status.textContent = 'Loading…';
    try {
      const page = await getJson(api + '?' + p);
      if (my !== seq) return;
      if (reset) results.replaceChildren();
      for (const s of page.servers) results.append(item(s));
      cursor = page.metadata.nextCursor || null;
      more.hidden = !cursor;
      const n = results.children.length;
      status.textContent = n ? n + (n === 1 ? ' server' : ' servers') + (cursor ? ' (more available)' : '') : 'No servers match "' + text + '".';
    } catch (e) {
      if (my === seq) status.textContent = 'Could not load servers: ' + e.message;
    }
  }

  function item(s) {
    const srv = s.server, meta = (s._meta || {})[OFFICIAL] || {}, ours = (s._meta || {})[OURS] || {};
    const b = el('button', { type: 'button', 'data-name': srv.name },
      el('div', {}, el('span', { class: 'n', text: srv.title || srv.name }), badge(meta.status), healthBadge(ours.health)),
      el('div', { class: 'nm', text: srv.name + ' ' + srv.version }),
      el('div', { class: 'd', text: srv.description }));
    b.addEventListener('click', () => show(srv.name));
    return el('li', {}, b);
  }

  function section(title, items) {
    if (!items || !items.length) return null;
    return [el('h3', { text: title }), el('ul', {}, ...items.map((i) => el('li', {}, ...[].concat(i))))];
  }

  function inputsText(list) {
    return (list || []).map((v) => {
      const flags = [v.isSecret ? 'secret' : '', v.isRequired ? 'required' : ''].filter(Boolean).join(', ');
      return [el('code', { text: v.name }), (flags ? ' (' + flags + ')' : '') + (v.description ? ' — ' + v.description : '')];
    });
  }

  async function show(name) {
    current = name;
    history.replaceState(null, '', location.pathname + location.search + '#server=' + encodeURIComponent(name));
    for (const b of results.querySelectorAll('button')) b.setAttribute('aria-current', String(b.dataset.name === name));
    detail.replaceChildren(el('p', { class: 'empty', text: 'Loading ' + name + '…' }));
    try {
      const s = await getJson(api + '/' + encodeURIComponent(name) + '/versions/latest');
      if (current !== name) return;
      render(s);
    } catch (e) {
      detail.replaceChildren(el('p', { class: 'empty', text: 'Could not load ' + name + ': ' + e.message }));
    }
  }

  function render(s) {
    const srv = s.server, meta = s._meta || {}, off = meta[OFFICIAL] || {}, ours = meta[OURS] || {};
    const parts = [
      el('h2', { text: srv.title || srv.name }, badge(off.status)),
      el('div', {}, el('code', { id: 'detail-name', text: srv.name }), ' version ', el('code', { text: srv.version })),
      el('p', { text: srv.description }),
      srv.repository ? el('div', {}, 'Repository: ', link(srv.repository.url)) : null,
      srv.websiteUrl ? el('div', {}, 'Website: ', link(srv.websiteUrl)) : null,
      off.statusMessage ? el('p', { class: 'empty', text: off.statusMessage }) : null,
      ours.health ? el('div', { id: 'detail-health', class: 'd', text: healthText(ours.health) }) : null,
      el('div', { class: 'd', text: 'Updated ' + (off.updatedAt || '?') + (ours.trust ? ' · trust: ' + ours.trust.status : '') + (ours.category ? ' · ' + ours.category : '') }),
    ];
    const pkgs = (srv.packages || []).map((p) => [el('code', { text: p.registryType + ' ' + p.identifier + (p.version ? '@' + p.version : '') }), ' via ' + ((p.transport && p.transport.type) || 'stdio'),
      p.environmentVariables && p.environmentVariables.length ? el('ul', {}, ...inputsText(p.environmentVariables).map((i) => el('li', {}, ...i))) : null]);
    const remotes = (srv.remotes || []).map((r) => [el('code', { text: r.type }), ' ', link(r.url),
      r.headers && r.headers.length ? el('ul', {}, ...inputsText(r.headers).map((i) => el('li', {}, ...i))) : null]);
    const sources = (ours.sources || []).map((x) => [x.url ? link(x.url, x.id) : el('code', { text: x.id }), ' (' + x.source + ')']);
    const tools = (ours.tools || []).map((t) => [el('code', { text: t.name }), t.description ? ' — ' + t.description : '']);
    for (const sec of [section('Packages', pkgs), section('Remotes', remotes), section('Sources', sources),
      section('Also known as', (ours.aliases || []).map((a) => el('code', { text: a }))), section('Tools', tools)]) if (sec) parts.push(...sec);
    if (!pkgs.length && !remotes.length) parts.push(el('p', { class: 'empty', text: 'No package or remote a client can install directly.' }));
    detail.replaceChildren(...parts.filter(Boolean));
  }

  q.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const u = new URL(location.href);
      if (q.value.trim()) u.searchParams.set('q', q.value.trim()); else u.searchParams.delete('q');
      history.replaceState(null, '', u);
      search(true);
    }, 200);
  });
  more.addEventListener('click', () => search(false));
  q.value = new URLSearchParams(location.search).get('q') || '';
  search(true);
  const m = /#server=([^&]+)/.exec(location.hash);
  if (m) show(decodeURIComponent(m[1]));
})();
`;

const hash = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;

/** Allows exactly the inline script and style of the page, same-origin API calls and https icons. */
export const PAGE_CSP = [
  "default-src 'none'",
  `script-src ${hash(SCRIPT)}`,
  `style-src ${hash(STYLE)}`,
  'img-src https: data:',
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>MCP server catalog</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>MCP server catalog</h1>
<input id="q" type="search" placeholder="Search servers by name or description" aria-label="Search servers" autocomplete="off" autofocus>
</header>
<main>
<section id="list" aria-label="Results">
<div id="status" role="status">Loading…</div>
<ul id="results"></ul>
<button id="more" type="button" hidden>Load more</button>
</section>
<section id="detail" aria-label="Details"><p class="empty">Select a server to see how to install it.</p></section>
</main>
<noscript><p>This page needs JavaScript. The catalog itself is at <a href="v0.1/servers">v0.1/servers</a>.</p></noscript>
<script>${SCRIPT}</script>
</body>
</html>
`;
