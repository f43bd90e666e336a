/** Where an OCI package that serves HTTP listens inside its container: its transport URL, placeholders filled. */

/** The port and path a containerised HTTP server answers on (its host and scheme are the registry's business). */
export interface ServedEndpoint {
  transport: 'streamable-http' | 'sse';
  /** The port inside the container (published on a random loopback port of the host). */
  containerPort: number;
  /** Path and query of the MCP endpoint, e.g. "/mcp". */
  path: string;
}

export type ServedUrl = { ok: true; endpoint: ServedEndpoint } | { ok: false; reason: string };

/**
 * server.json: a package's `transport.url` (e.g. `http://localhost:{port}/mcp`) names its `{variables}` after the
 * package's arguments (name or valueHint) or environment variables; `lookup` gives their values as the launch
 * renders them. Only a local address makes sense: the server runs in the container, so any other host is refused.
 */
export function resolveServedUrl(transport: 'streamable-http' | 'sse', template: string | undefined, lookup: (name: string) => string | undefined): ServedUrl {
  if (!template) return { ok: false, reason: `serves over ${transport} but names no transport.url (where in the container it listens)` };
  const unknown: string[] = [];
  const filled = template.replace(/\{([A-Za-z0-9_.-]+)\}/g, (whole, name: string) => {
    const v = lookup(name);
    if (v === undefined || v === '') {
      unknown.push(name);
      return whole;
    }
    return v;
  });
  if (unknown.length) return { ok: false, reason: `its transport URL ${template} names ${unknown.map((u) => `{${u}}`).join(', ')}, which no argument or environment variable of the package provides` };
  let url: URL;
  try {
    url = new URL(filled);
  } catch {
    return { ok: false, reason: `its transport URL ${JSON.stringify(filled)} is not a URL` };
  }
  if (url.protocol !== 'http:') return { ok: false, reason: `its transport URL ${filled} is not plain http:// (a server in a container is reached over the host's loopback)` };
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!['localhost', '127.0.0.1', '0.0.0.0', '::1', '::'].includes(host)) {
    return { ok: false, reason: `its transport URL ${filled} names the host ${host}; a package's server runs in its container, so its URL must be a local one (localhost)` };
  }
  const containerPort = Number(url.port || '80');
  return { ok: true, endpoint: { transport, containerPort, path: `${url.pathname}${url.search}` } };
}
