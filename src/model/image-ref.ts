/**
 * Container image references: the OCI/Docker grammar `[host[:port]/]path[:tag][@algo:hex]`, and Docker's rule for
 * short names. Catalogs (the Docker catalog above all) are written for Docker, where `mcp/postgres` means
 * `docker.io/mcp/postgres`; podman has no such default — on Debian it has no unqualified-search registries at all,
 * elsewhere it may search several registries in turn, and its local lookup matches any image whose name ends the
 * same way. So every reference is qualified here before podman sees it, and a reference that is not one (e.g.
 * `--privileged`) is refused before it can reach a podman command line as an option.
 */

export interface ImageRef {
  /** The registry host (with port), e.g. `docker.io`, `ghcr.io`, `localhost:5000`, `localhost`. */
  domain: string;
  /** The repository path, lowercase, e.g. `mcp/postgres`, `library/alpine`. */
  path: string;
  tag?: string;
  /** `algo:hex`, e.g. `sha256:…`. */
  digest?: string;
}

export const DOCKER_HUB = 'docker.io';
/** Names Docker Hub goes by in references: all mean docker.io. */
const DOCKER_HUB_ALIASES = new Set([DOCKER_HUB, 'index.docker.io', 'registry-1.docker.io']);

const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const PORT = /^[0-9]{1,5}$/;
const IPV6 = /^\[[0-9a-fA-F:.]+\]$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$/;
const IMAGE_ID = /^(?:sha256:)?[0-9a-f]{64}$/;
const MAX_NAME = 255;

export class ImageRefError extends Error {}

/** Docker's test for a first component that names a registry: it has a `.` or `:`, is `localhost`, or has capitals. */
function namesRegistry(first: string): boolean {
  return /[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase();
}

function checkDomain(domain: string): string | undefined {
  const colon = domain.startsWith('[') ? domain.indexOf(']:') + 1 || -1 : domain.lastIndexOf(':');
  const host = colon > 0 ? domain.slice(0, colon) : domain;
  const port = colon > 0 ? domain.slice(colon + 1) : undefined;
  if (port !== undefined && !PORT.test(port)) return `"${port}" is not a port`;
  if (IPV6.test(host)) return undefined;
  if (!host.split('.').every((c) => DOMAIN_COMPONENT.test(c))) return `"${host}" is not a registry host name`;
  return undefined;
}

/**
 * Parse a reference per the grammar; throws ImageRefError saying what is wrong. A reference without a registry
 * gets `domain: ''` (see `qualify` for what it means).
 */
export function parseImageRef(input: string): ImageRef {
  const ref = input;
  const bad = (why: string): never => {
    throw new ImageRefError(`${JSON.stringify(input)} is not an image reference: ${why}`);
  };
  if (!ref) bad('it is empty');
  if (ref.startsWith('-')) bad('it starts with "-" (it would be read as an option)');
  if (/\s/.test(ref)) bad('it contains white space');
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) bad(`"@${digest}" is not a digest (algorithm:hex, e.g. sha256: and 64 hex digits)`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) bad(`":${tag}" is not a tag (letters, digits, "_", "." and "-", at most 128, not starting with "." or "-")`);
  }
  if (!rest) bad('it has no name');
  if (rest.length > MAX_NAME) bad(`its name is longer than ${MAX_NAME} characters`);
  let domain = '';
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash > 0 && namesRegistry(rest.slice(0, slash))) {
    domain = rest.slice(0, slash);
    path = rest.slice(slash + 1);
    const why = checkDomain(domain);
    if (why) bad(why);
  }
  for (const c of path.split('/')) {
    if (!PATH_COMPONENT.test(c)) {
      bad(
        c === ''
          ? 'its name has an empty part ("//" or a "/" at either end)'
          : `"${c}" is not a name part (lowercase letters and digits, separated by ".", "_", "__" or "-")`,
      );
    }
  }
  if (!domain && IMAGE_ID.test(path)) bad('a 64-digit hex string is an image ID, not a name');
  return { domain, path, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

export function formatImageRef(r: ImageRef): string {
  return `${r.domain ? `${r.domain}/` : ''}${r.path}${r.tag !== undefined ? `:${r.tag}` : ''}${r.digest !== undefined ? `@${r.digest}` : ''}`;
}

/**
 * The reference with Docker's short-name rule applied: no registry means Docker Hub (`mcp/x` → `docker.io/mcp/x`),
 * and a one-part name there is an official image (`alpine` → `docker.io/library/alpine`). A reference naming a
 * registry (`ghcr.io/…`, `localhost/…`, `host:5000/…`) stays as written. Throws ImageRefError when it is not a
 * reference.
 */
export function qualifyImageRef(ref: string): string {
  return formatImageRef(parseQualified(ref));
}

/** `parseImageRef` with Docker's short-name rule applied (see `qualifyImageRef`). */
export function parseQualified(ref: string): ImageRef {
  return qualified(parseImageRef(ref));
}

function qualified(r: ImageRef): ImageRef {
  if (r.domain) return r;
  return { ...r, domain: DOCKER_HUB, path: r.path.includes('/') ? r.path : `library/${r.path}` };
}

/** What is wrong with a reference, or undefined when it is one (or an image ID, which podman runs as it is). */
export function imageRefProblem(ref: string): string | undefined {
  if (isImageId(ref)) return undefined;
  try {
    parseImageRef(ref);
    return undefined;
  } catch (err) {
    if (err instanceof ImageRefError) return err.message;
    throw err;
  }
}

/** A reference qualified, or undefined when it is not one (for display and comparison of stored, older values). */
export function tryQualifyImageRef(ref: string): string | undefined {
  try {
    return qualifyImageRef(ref);
  } catch {
    return undefined;
  }
}

/**
 * The repository path on Docker Hub (`mcp/postgres`, `library/alpine`) when the reference names an image there
 * under any of Hub's names (also as a short name); else undefined.
 */
export function dockerHubPath(ref: string): string | undefined {
  let r: ImageRef;
  try {
    r = qualified(parseImageRef(ref));
  } catch {
    return undefined;
  }
  if (!DOCKER_HUB_ALIASES.has(r.domain.toLowerCase())) return undefined;
  return r.path.includes('/') ? r.path : `library/${r.path}`;
}

/** An image ID as podman prints it (64 hex digits, optionally `sha256:`-prefixed): runnable as it is. */
export function isImageId(s: string): boolean {
  return IMAGE_ID.test(s);
}

