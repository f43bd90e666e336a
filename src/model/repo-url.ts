/**
 * One spelling per repository so entries from different sources can be matched by repository:
 * `https://<host>/<owner>/<repo>[/<subfolder>]`, host/owner/repo lower-case, no `.git`, no `www.`,
 * no trailing slash, no `/tree/<branch>/`. Returns undefined for anything that is not a repository URL.
 *
 * `subfolder` (a path inside the repository, e.g. docker's `source.directory`) replaces any path the URL itself
 * points into, because such paths are relative to the repository root.
 */
export function normalizeRepoUrl(url: string | undefined | null, subfolder?: string): string | undefined {
  if (typeof url !== 'string') return undefined;
  let s = url.trim();
  if (!s) return undefined;
  s = s.replace(/^git\+/i, '');
  // scp-like `git@github.com:owner/repo.git`
  const scp = /^[\w.-]+@([\w.-]+):(?!\/\/)(.+)$/.exec(s);
  if (scp) s = `https://${scp[1]}/${scp[2]}`;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) {
    // "github.com/owner/repo" without a scheme
    if (/^(www\.)?[\w-]+(\.[\w-]+)+\/[^/\s]+\/[^/\s]+/i.test(s)) s = `https://${s}`;
    else return undefined;
  }
  let parsed: URL;
  try {
    parsed = new URL(s);
  } catch {
    return undefined;
  }
  if (!/^(https?|git|ssh)$/i.test(parsed.protocol.replace(/:$/, ''))) return undefined;
  const host = parsed.hostname.toLowerCase().replace(/^www\./, '');
  if (!host) return undefined;
  let segs = parsed.pathname
    .split('/')
    .filter(Boolean)
    .map((x) => safeDecode(x));
  let rest: string[] = [];

  // GitLab-style `/-/tree/…` marks where the project path ends.
  const dash = segs.indexOf('-');
  if (dash >= 0) {
    rest = segs.slice(dash + 1);
    segs = segs.slice(0, dash);
  } else if (host === 'github.com' || host === 'bitbucket.org' || host === 'codeberg.org' || segs.length >= 3) {
    // Hosts with owner/repo paths: anything after the repo is a view (tree, blob, issues …).
    const isTwoLevel = host === 'github.com' || host === 'bitbucket.org' || host === 'codeberg.org';
    const viewAt = isTwoLevel ? 2 : segs.findIndex((x, i) => i >= 2 && (x === 'tree' || x === 'blob' || x === 'src'));
    if (viewAt >= 2) {
      rest = segs.slice(viewAt);
      segs = segs.slice(0, viewAt);
    }
  }
  if (segs.length < 2) return undefined;
  segs[segs.length - 1] = segs[segs.length - 1]!.replace(/\.git$/i, '');
  if (!segs[segs.length - 1]) return undefined;
  const base = `https://${host}/${segs.map((x) => x.toLowerCase()).join('/')}`;

  let sub: string[] = [];
  if (subfolder !== undefined && subfolder.trim()) {
    sub = subfolder.split(/[\\/]/).filter((x) => x && x !== '.' && x !== '..');
  } else if (rest.length >= 2 && (rest[0] === 'tree' || rest[0] === 'blob' || rest[0] === 'src')) {
    // `tree/<branch>/<path>`: keep the path; for `blob` the last segment is a file, so keep its folder.
    sub = rest.slice(2);
    if (rest[0] === 'blob') sub = sub.slice(0, -1);
  }
  return sub.length ? `${base}/${sub.join('/')}` : base;
}

function safeDecode(x: string): string {
  try {
    return decodeURIComponent(x);
  } catch {
    return x;
  }
}
