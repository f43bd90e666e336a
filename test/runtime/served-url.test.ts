import { describe, expect, it } from 'vitest';
import { resolveServedUrl } from '../../src/runtime/served-url.js';

describe('resolveServedUrl: where an OCI package that serves HTTP listens in its container', () => {
  it('fills {variables} from the package and keeps the path', () => {
    expect(resolveServedUrl('streamable-http', 'http://localhost:{PORT}/mcp', (n) => (n === 'PORT' ? '3555' : undefined))).toEqual({ ok: true, endpoint: { transport: 'streamable-http', containerPort: 3555, path: '/mcp' } });
    expect(resolveServedUrl('sse', 'http://0.0.0.0:8080/sse?x=1', () => undefined)).toEqual({ ok: true, endpoint: { transport: 'sse', containerPort: 8080, path: '/sse?x=1' } });
  });

  it('refuses an unfilled variable, a non-local host and https, saying why', () => {
    expect(resolveServedUrl('streamable-http', 'http://localhost:{port}/mcp', () => undefined)).toMatchObject({ ok: false, reason: expect.stringContaining('names {port}, which no argument or environment variable') });
    expect(resolveServedUrl('streamable-http', 'http://evil.example:80/mcp', () => undefined)).toMatchObject({ ok: false, reason: expect.stringContaining('must be a local one') });
    expect(resolveServedUrl('streamable-http', 'https://localhost/mcp', () => undefined)).toMatchObject({ ok: false, reason: expect.stringContaining('not plain http://') });
    expect(resolveServedUrl('streamable-http', undefined, () => undefined)).toMatchObject({ ok: false });
  });
});
