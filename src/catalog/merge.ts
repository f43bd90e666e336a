/** Merging sources into one entry list: identity keys, union of one server across sources, launch precedence. */
import type { Entry, EntryConfig, Launch } from '../model/entry.js';
import { pickLaunch } from '../model/launch-choice.js';

/**
 * Merge entries that describe the same server across sources. Two entries are the same server when they share a
 * normalised repository URL (with subfolder), a container image (tag/digest stripped) or a remote URL.
 * `sourceOrder` is the config order: the first source wins each field it has; later sources fill gaps.
 * Entries of one source never merge with each other (a source knows its own servers are distinct).
 */
export function mergeEntries(bySource: Map<string, Entry[]>, sourceOrder: string[]): Entry[] {
  const rank = new Map(sourceOrder.map((s, i) => [s, i]));
  const all: Entry[] = [];
  for (const name of [...bySource.keys()].sort((a, b) => (rank.get(a) ?? 1e9) - (rank.get(b) ?? 1e9))) {
    for (const e of bySource.get(name)!) all.push(e);
  }

  // Union-find over entries, refusing unions that would put two entries of one source together.
  const parent = all.map((_, i) => i);
  const groupSources = all.map((e) => new Set([e.sources[0]!.source]));
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  const union = (a: number, b: number) => {
    const ra = find(a);
    const rb = find(b);
    if (ra === rb) return;
    for (const s of groupSources[rb]!) if (groupSources[ra]!.has(s)) return;
    const [keep, drop] = ra < rb ? [ra, rb] : [rb, ra];
    parent[drop] = keep;
    for (const s of groupSources[drop]!) groupSources[keep]!.add(s);
  };

  const firstByKey = new Map<string, number>();
  all.forEach((e, i) => {
    for (const key of identityKeys(e)) {
      const j = firstByKey.get(key);
      if (j === undefined) firstByKey.set(key, i);
      else union(j, i);
    }
  });

  const groups = new Map<number, Entry[]>();
  all.forEach((e, i) => {
    const r = find(i);
    let g = groups.get(r);
    if (!g) groups.set(r, (g = []));
    g.push(e);
  });
  const out: Entry[] = [];
  for (const g of groups.values()) out.push(g.length === 1 ? g[0]! : combine(g));
  return out;
}

/** Keys under which an entry can be recognised in another source. */
export function identityKeys(e: Entry): string[] {
  const keys: string[] = [];
  if (e.repository) keys.push('repo:' + e.repository.toLowerCase());
  for (const l of e.launch) {
    if (l.type === 'image') keys.push('image:' + imageName(l.image));
    else if (l.type === 'package' && l.registryType === 'oci') keys.push('image:' + imageName(l.identifier));
    else if (l.type === 'remote') keys.push('remote:' + remoteKey(l.url));
  }
  return keys;
}

/** Image reference without tag or digest, and without an explicit docker.io/ (library/) prefix. */
export function imageName(ref: string): string {
  let r = ref.trim().toLowerCase();
  const at = r.indexOf('@');
  if (at >= 0) r = r.slice(0, at);
  const lastSlash = r.lastIndexOf('/');
  const colon = r.lastIndexOf(':');
  if (colon > lastSlash) r = r.slice(0, colon);
  r = r.replace(/^(docker\.io|index\.docker\.io)\//, '').replace(/^library\//, '');
  return r;
}

function remoteKey(url: string): string {
  try {
    const u = new URL(url);
    return (u.host + u.pathname).toLowerCase().replace(/\/+$/, '');
  } catch {
    return url.toLowerCase();
  }
}

/**
 * Combine entries ordered by precedence (first = highest). Descriptions are joined for search; launches are not:
 * each keeps the source it came from, and each source keeps its own config, so a start never pairs one source's
 * launch with another's run block, settings or trust.
 */
function combine(group: Entry[]): Entry {
  const [head, ...rest] = group as [Entry, ...Entry[]];
  const merged: Entry = structuredClone(head);
  const configs: Record<string, EntryConfig> = {};
  merged.launch = [];
  for (const e of group) {
    const source = e.sources[0]!.source;
    // Shallow copies: launches and configs are never changed in place after a merge.
    merged.launch = mergeLaunch(merged.launch, e.launch.map((l) => ({ ...l, source: l.source ?? source })));
    configs[source] ??= e.config;
  }
  for (const e of rest) {
    merged.description ||= e.description;
    if (!merged.description || (e.description.length > merged.description.length * 3 && merged.description.length < 40)) {
      // A title-only fallback description loses to a real one from another source.
      merged.description = e.description || merged.description;
    }
    merged.category ??= e.category;
    merged.repository ??= e.repository;
    merged.website ??= e.website;
    merged.icon ??= e.icon;
    merged.version ??= e.version;
    merged.updatedAt ??= e.updatedAt;
    merged.publishedAt ??= e.publishedAt;
    merged.readme ??= e.readme;
    merged.oauth ??= e.oauth;
    if (e.official) merged.official = true;
    merged.tags = [...new Set([...merged.tags, ...e.tags])];
    if (!merged.tools.length && e.tools.length) merged.tools = e.tools;
    merged.dynamicTools ??= e.dynamicTools;
    if (!merged.config.secrets.length && !merged.config.env.length && !merged.config.parameters) merged.config = e.config;
    merged.sources.push(...e.sources);
    merged.aliases.push(e.id, ...e.aliases);
    if (e.meta) merged.meta = { ...e.meta, ...merged.meta };
    if (e.status === 'deprecated' && !merged.status) merged.status = 'deprecated';
  }
  merged.aliases = [...new Set(merged.aliases)].filter((a) => a !== merged.id);
  // The config shown (and searched) is the one of the launch that runs by default; with nothing runnable, the first
  // source that declares any (set above). `configs` keeps every other source's; configOf() falls back to `config`
  // only for the default's own source.
  const pick = pickLaunch({ ...merged, configs });
  if (pick.ok) {
    merged.config = pick.choice.config;
    delete configs[pick.choice.source];
  }
  if (Object.keys(configs).length) merged.configs = configs;
  return merged;
}

/** Launches of several sources, in precedence order; the same launch twice from ONE source is kept once. */
function mergeLaunch(a: Launch[], b: Launch[]): Launch[] {
  const key = (l: Launch) => `${l.source ?? ''}\0${launchKey(l)}`;
  const seen = new Set(a.map(key));
  const out = [...a];
  for (const l of b) if (!seen.has(key(l))) out.push(l);
  return out;
}

function launchKey(l: Launch): string {
  switch (l.type) {
    case 'image':
      return 'image:' + imageName(l.image);
    case 'remote':
      return 'remote:' + remoteKey(l.url);
    case 'package':
      return `pkg:${l.registryType}:${l.registryType === 'oci' ? imageName(l.identifier) : l.identifier}`;
    case 'poci':
      return 'poci:' + l.tools.map((t) => t.name).join(',');
  }
}
