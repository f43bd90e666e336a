/**
 * Docker's template language for server.yaml (`run.command`, `run.volumes`, `run.user`, `config.env`, remote headers):
 *   {{server.param}} / {{param}} / {{param.nested}}  read the user's settings
 *   |volume  |volume-target  |into  |or:<default>  |or:[]   filters, applied left to right
 *   $VAR / ${VAR}                                    read a secret by its environment-variable name
 * Official server.json placeholders (`{var}` in remote URLs and headers) are read with `singleBrace`.
 *
 * The template text is scanned once: values substituted from settings are never scanned again, so a setting that
 * contains "$GITHUB_TOKEN" or "{{x}}" stays literal text and cannot pull a secret into an argument.
 */

export interface TemplateContext {
  /** The server's native name: `{{<server>.x}}` and `{{x}}` are the same setting. */
  server: string;
  settings: Record<string, unknown>;
  /** Secret values by environment-variable name. A name missing here leaves `$NAME` as literal text. */
  secrets: Record<string, string>;
}

export interface RenderOptions {
  /** Also fill official `{var}` placeholders from settings (remote URLs and headers of server.json). */
  singleBrace?: boolean;
  /** Encode substituted setting values for use inside a URL. */
  encode?: (s: string) => string;
}

export interface RenderResult {
  value: string | string[] | undefined;
  /** Environment names of the secrets whose values went into the result. */
  secrets: string[];
  /** Top-level setting names the template read (whether or not they had a value). */
  settings: string[];
  /** Placeholders that rendered empty: setting paths ("a.b", server prefix removed) and secret env names. */
  missing: string[];
}

export class TemplateError extends Error {}

const KNOWN_FILTERS = 'volume, volume-target, into, or:<default>';
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

type Value = string | string[] | undefined;

/** Render a template; an empty result is `undefined` so callers omit that env var, argument or header. */
export function renderTemplate(tpl: string, ctx: TemplateContext): string | string[] | undefined {
  return renderTemplateDetailed(tpl, ctx).value;
}

export function renderTemplateDetailed(tpl: string, ctx: TemplateContext, opts: RenderOptions = {}): RenderResult {
  const usedSecrets = new Set<string>();
  const usedSettings = new Set<string>();
  const missing = new Set<string>();
  const parts: Value[] = [];
  let literal = '';
  let i = 0;
  const flush = () => {
    if (literal) parts.push(literal);
    literal = '';
  };
  while (i < tpl.length) {
    const c = tpl[i]!;
    if (c === '{' && tpl[i + 1] === '{') {
      const end = tpl.indexOf('}}', i + 2);
      if (end < 0) throw new TemplateError(`unclosed "{{" in template ${JSON.stringify(tpl)}`);
      flush();
      const expr = tpl.slice(i + 2, end);
      const v = evalExpression(expr, ctx, usedSettings, opts);
      if (v === undefined) missing.add(settingPath(expr.split('|')[0]!.trim(), ctx.server).join('.'));
      parts.push(v);
      i = end + 2;
      continue;
    }
    if (c === '{' && opts.singleBrace) {
      const m = /^\{([A-Za-z0-9_.-]+)\}/.exec(tpl.slice(i));
      if (m) {
        flush();
        const v = lookupSetting(m[1]!, ctx, usedSettings);
        if (isEmpty(v)) missing.add(settingPath(m[1]!, ctx.server).join('.'));
        parts.push(isEmpty(v) ? undefined : applyEncode(toText(v), opts));
        i += m[0].length;
        continue;
      }
    }
    if (c === '$') {
      const braced = tpl[i + 1] === '{';
      const rest = tpl.slice(i + (braced ? 2 : 1));
      const m = VAR_NAME.exec(rest);
      const closed = !braced || rest[m?.[0].length ?? 0] === '}';
      if (m && closed && Object.prototype.hasOwnProperty.call(ctx.secrets, m[0])) {
        flush();
        const v = ctx.secrets[m[0]]!;
        if (v !== '') usedSecrets.add(m[0]);
        else missing.add(m[0]);
        parts.push(v);
        i += (braced ? 3 : 1) + m[0].length;
        continue;
      }
      if (m && closed) {
        // Not a secret of this server (e.g. $HOME): kept as written, and `${X}` is not re-read as a `{X}` setting.
        const len = (braced ? 3 : 1) + m[0].length;
        literal += tpl.slice(i, i + len);
        i += len;
        continue;
      }
    }
    literal += c;
    i++;
  }
  flush();
  return { value: join(parts), secrets: [...usedSecrets], settings: [...usedSettings], missing: [...missing] };
}

/** Setting paths ("a.b", server prefix removed) a template reads; used to say which setting a bad path came from. */
export function templateSettings(tpl: string, server: string): string[] {
  const out = new Set<string>();
  for (const m of tpl.matchAll(/\{\{\s*([^}|\s]+)/g)) out.add(settingPath(m[1]!, server).join('.'));
  return [...out];
}

/** Environment names a template reads as secrets (`$VAR` / `${VAR}`). */
export function templateSecretRefs(tpl: string): string[] {
  const out = new Set<string>();
  for (const m of tpl.matchAll(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g)) out.add((m[1] ?? m[2])!);
  return [...out];
}

function applyEncode(s: string, opts: RenderOptions): string {
  return opts.encode ? opts.encode(s) : s;
}

/** A list only survives as a list when the whole template is one `|into` expression; otherwise parts join as text. */
function join(parts: Value[]): Value {
  if (parts.length === 1 && Array.isArray(parts[0])) {
    const list = parts[0].filter((s) => s !== '');
    return list.length ? list : undefined;
  }
  const text = parts.map((p) => (Array.isArray(p) ? p.join(',') : (p ?? ''))).join('');
  return text === '' ? undefined : text;
}

function settingPath(expr: string, server: string): string[] {
  const path = expr.split('.');
  // `{{server.param}}`: the server's own name is a namespace, not a setting (unless a setting has that name).
  if (path.length > 1 && path[0] === server) path.shift();
  return path;
}

function lookupSetting(expr: string, ctx: TemplateContext, used: Set<string>): unknown {
  if (Object.prototype.hasOwnProperty.call(ctx.settings, expr)) {
    used.add(expr);
    return ctx.settings[expr];
  }
  const path = settingPath(expr, ctx.server);
  used.add(path[0]!);
  const flat = path.join('.');
  if (Object.prototype.hasOwnProperty.call(ctx.settings, flat)) return ctx.settings[flat];
  let cur: unknown = ctx.settings;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.prototype.hasOwnProperty.call(cur, k)) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

function toText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v === null || v === undefined) return '';
  return JSON.stringify(v);
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);
}

function evalExpression(body: string, ctx: TemplateContext, used: Set<string>, opts: RenderOptions): Value {
  const [rawName, ...filters] = body.split('|').map((s) => s.trim());
  if (!rawName) throw new TemplateError(`empty expression "{{${body}}}": write {{<setting>}} or {{<server>.<setting>}}`);
  let v: unknown = lookupSetting(rawName, ctx, used);
  let into = false;
  for (const f of filters) {
    if (f === 'into') into = true;
    else if (f.startsWith('or:')) {
      const dflt = f.slice(3);
      if (isEmpty(v)) v = dflt === '[]' ? [] : dflt;
    } else if (f === 'volume') v = mapItems(v, toVolume);
    else if (f === 'volume-target') v = mapItems(v, volumeTarget);
    else throw new TemplateError(`unknown filter "|${f}" in "{{${body}}}" (known: ${KNOWN_FILTERS})`);
  }
  if (isEmpty(v)) return undefined;
  if (Array.isArray(v)) {
    const items = v.map(toText).map((s) => applyEncode(s, opts));
    return into ? items : items.join(',');
  }
  return applyEncode(toText(v), opts);
}

function mapItems(v: unknown, fn: (s: string) => string): unknown {
  if (isEmpty(v)) return v;
  if (Array.isArray(v)) return v.filter((x) => !isEmpty(x)).map((x) => fn(toText(x)));
  return fn(toText(v));
}

/** `/data` → `/data:/data`; `src:dst[:opts]` is already a volume spec. */
function toVolume(p: string): string {
  return p.includes(':') ? p : `${p}:${p}`;
}

/** Where a volume lands in the container: `src:dst[:opts]` → `dst`; a bare path is mounted at itself. */
function volumeTarget(p: string): string {
  const bits = p.split(':');
  return bits.length > 1 ? bits[1]! : p;
}
