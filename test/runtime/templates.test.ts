import { describe, expect, it } from 'vitest';
import { renderTemplate, renderTemplateDetailed, templateSecretRefs, templateSettings, TemplateError } from '../../src/runtime/templates.js';

const ctx = (settings: Record<string, unknown> = {}, secrets: Record<string, string> = {}, server = 'filesystem') => ({ server, settings, secrets });

describe('renderTemplate (Docker server.yaml templates)', () => {
  it('reads {{server.param}} and {{param}} as the same setting', () => {
    const c = ctx({ url: 'https://x.example' }, {}, 'grafana');
    expect(renderTemplate('{{grafana.url}}', c)).toBe('https://x.example');
    expect(renderTemplate('{{url}}', c)).toBe('https://x.example');
    expect(renderTemplate('--url={{grafana.url}}/api', c)).toBe('--url=https://x.example/api');
  });

  it('reads nested settings ("a.b") as atlassian does', () => {
    const c = ctx({ confluence: { url: 'https://wiki.example', username: 'me' } }, {}, 'atlassian');
    expect(renderTemplate('{{atlassian.confluence.url}}', c)).toBe('https://wiki.example');
    expect(renderTemplate('{{confluence.username}}', c)).toBe('me');
    expect(renderTemplate('{{atlassian.jira.url}}', c)).toBeUndefined();
  });

  it('turns numbers and booleans into text', () => {
    expect(renderTemplate('{{port}}', ctx({ port: 5432 }))).toBe('5432');
    expect(renderTemplate('{{ro}}', ctx({ ro: false }))).toBe('false');
  });

  it('|volume maps a path onto itself and |into expands a list into several arguments', () => {
    const c = ctx({ paths: ['/home/me/src', '/data'] });
    expect(renderTemplate('{{filesystem.paths|volume|into}}', c)).toEqual(['/home/me/src:/home/me/src', '/data:/data']);
    expect(renderTemplate('{{filesystem.paths|volume-target|into}}', c)).toEqual(['/home/me/src', '/data']);
    // Without |into a list stays one value.
    expect(renderTemplate('{{filesystem.paths}}', c)).toBe('/home/me/src,/data');
  });

  it('|volume keeps an explicit src:dst, |volume-target takes its container side', () => {
    expect(renderTemplate('{{p|volume}}', ctx({ p: '/a:/b' }))).toBe('/a:/b');
    expect(renderTemplate('{{p|volume-target}}', ctx({ p: '/a:/b:ro' }))).toBe('/b');
    // ast-grep: "{{ast-grep.path|volume-target}}:/src" mounts the host folder at /src.
    expect(renderTemplate('{{ast-grep.path|volume-target}}:/src', ctx({ path: '/home/me/code' }, {}, 'ast-grep'))).toBe('/home/me/code:/src');
  });

  it('|or:<default> and |or:[] fill unset values; an empty list renders nothing', () => {
    expect(renderTemplate('{{level|or:info}}', ctx())).toBe('info');
    expect(renderTemplate('{{level|or:info}}', ctx({ level: 'debug' }))).toBe('debug');
    expect(renderTemplate('{{openapi-schema.SchemaPath|or:[]|volume|into}}', ctx({}, {}, 'openapi-schema'))).toBeUndefined();
    expect(renderTemplate('{{openapi-schema.SchemaPath|or:[]|volume|into}}', ctx({ SchemaPath: '/s.json' }, {}, 'openapi-schema'))).toBe('/s.json:/s.json');
  });

  it('renders empty as undefined so callers omit the env var or argument', () => {
    expect(renderTemplate('{{missing}}', ctx())).toBeUndefined();
    expect(renderTemplate('{{paths|volume|into}}', ctx({ paths: [] }))).toBeUndefined();
    expect(renderTemplate('{{x}}', ctx({ x: '' }))).toBeUndefined();
    expect(renderTemplate('', ctx())).toBeUndefined();
  });

  it('$VAR and ${VAR} read secrets by env name and say which secrets were used', () => {
    const r = renderTemplateDetailed('Bearer ${HUBSPOT_API_KEY}', ctx({}, { HUBSPOT_API_KEY: 'pat-123' }));
    expect(r.value).toBe('Bearer pat-123');
    expect(r.secrets).toEqual(['HUBSPOT_API_KEY']);
    expect(renderTemplate('token=$TOKEN;', ctx({}, { TOKEN: 'abc' }))).toBe('token=abc;');
  });

  it('leaves $VARs that are not secrets of the server as written ($HOME in a path)', () => {
    expect(renderTemplate('$HOME/.kube:/root/.kube', ctx())).toBe('$HOME/.kube:/root/.kube');
    expect(renderTemplate('${HOME}/x', ctx())).toBe('${HOME}/x');
  });

  it('never re-reads a substituted setting: a value cannot pull in a secret or another setting', () => {
    const c = ctx({ note: '$GITHUB_TOKEN and {{other}} and ${GITHUB_TOKEN}', other: 'o' }, { GITHUB_TOKEN: 'ghp_secret' });
    const r = renderTemplateDetailed('--note={{note}}', c);
    expect(r.value).toBe('--note=$GITHUB_TOKEN and {{other}} and ${GITHUB_TOKEN}');
    expect(r.secrets).toEqual([]);
  });

  it('fills official {var} placeholders only when asked, and reports empty placeholders', () => {
    const c = ctx({ tenant: 'acme corp' }, { API_KEY: '' });
    expect(renderTemplate('https://{tenant}.example.com/mcp', c)).toBe('https://{tenant}.example.com/mcp');
    const r = renderTemplateDetailed('https://{tenant}.example.com/{region}', c, { singleBrace: true, encode: encodeURIComponent });
    expect(r.value).toBe('https://acme%20corp.example.com/');
    expect(r.missing).toEqual(['region']);
    // A declared-but-unset secret renders empty and is reported missing, not left as literal text.
    const h = renderTemplateDetailed('Bearer ${API_KEY}', c, { singleBrace: true });
    expect(h.value).toBe('Bearer ');
    expect(h.missing).toEqual(['API_KEY']);
  });

  it('rejects unknown filters and unclosed expressions with a message naming them', () => {
    expect(() => renderTemplate('{{x|shout}}', ctx({ x: 'a' }))).toThrow(TemplateError);
    expect(() => renderTemplate('{{x|shout}}', ctx({ x: 'a' }))).toThrow(/unknown filter "\|shout".*known: volume/);
    expect(() => renderTemplate('--x={{x', ctx())).toThrow(/unclosed/);
  });

  it('lists the settings and secrets a template reads', () => {
    expect(templateSettings('{{aks.azure_dir}}:/home/mcp/.azure {{aks.cfg.path|volume}}', 'aks')).toEqual(['azure_dir', 'cfg.path']);
    expect(templateSecretRefs('Bearer ${A_KEY} $B')).toEqual(['A_KEY', 'B']);
  });
});
