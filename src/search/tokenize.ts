/**
 * Text → index terms. The same pipeline runs over entries and queries so that inflections, spellings
 * of compound names and a few common abbreviations meet in one term:
 *   surface word (lower-cased run of letters/digits) → synonym canonical form → light stem.
 */

/** Words that carry no meaning in a search for a server. Removed from queries, not from the index. */
const STOPWORDS = new Set(
  (
    'a an the and or of to in on at for from by with without into onto via as is are be been being it its ' +
    'this that these those my our your their me i we you he she they them some any all each every ' +
    'can could would should will shall may might must do does did done please want wants need needs ' +
    'let lets how what which who whom where when why there here so than then also just only very ' +
    'something anything thing things stuff way ways using'
  ).split(' '),
);

/**
 * Words nearly every entry in an MCP catalog says about itself. Dropped from a query that has other
 * words ("mcp server for postgres" → "postgres"), kept when they are all the query has.
 */
const DOMAIN_STOPWORDS = new Set(['mcp', 'server', 'servers', 'protocol', 'tool', 'tools', 'integration', 'ai', 'agent', 'agents', 'assistant', 'assistants', 'llm', 'llms', 'allow', 'allows', 'enable', 'enables', 'provide', 'provides']);

/**
 * Equivalent spellings folded into one canonical word, at index and query time alike,
 * so "pg", "postgresql" and "postgres" are one term. A Map, not an object: "constructor" is a word too.
 */
const SYNONYMS = new Map<string, string>(
  Object.entries({
    postgresql: 'postgres',
    postgre: 'postgres',
    pg: 'postgres',
    psql: 'postgres',
    pgsql: 'postgres',
    db: 'database',
    dbs: 'database',
    k8s: 'kubernetes',
    kube: 'kubernetes',
    gh: 'github',
    repo: 'repository',
    repos: 'repository',
    js: 'javascript',
    ts: 'typescript',
    py: 'python',
    mail: 'email',
    emails: 'email',
    msg: 'message',
    msgs: 'message',
    doc: 'documentation',
    docs: 'documentation',
    img: 'image',
    pic: 'image',
    pics: 'image',
    photo: 'image',
    photos: 'image',
    llms: 'llm',
  }),
);

export function isStopword(word: string): boolean {
  return STOPWORDS.has(word);
}
export function isDomainStopword(word: string): boolean {
  return DOMAIN_STOPWORDS.has(word);
}

const VOWEL = /[aeiouy]/;

/** Undo the consonant doubling of "running" / "embedded" once the suffix is gone. */
function undouble(w: string): string {
  const n = w.length;
  if (n >= 4 && w[n - 1] === w[n - 2] && !'lsz'.includes(w[n - 1]!) && !VOWEL.test(w[n - 1]!)) return w.slice(0, -1);
  return w;
}

/**
 * A deliberately light stemmer (plural, -ing, -ed, final e). It only has to send inflections of one
 * word to the same key; the key itself is never shown.
 */
export function stem(word: string): string {
  let w = word;
  if (w.length <= 3 || /\d/.test(w)) return w;
  if (w.endsWith('ies') && w.length > 4) w = w.slice(0, -3) + 'y';
  else if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us') && !w.endsWith('is')) w = w.slice(0, -1);

  // "generation" / "generate", "automation" / "automate"
  if (w.endsWith('ation') && w.length > 7) w = w.slice(0, -5) + 'ate';
  else if (w.endsWith('ing') && w.length >= 6 && VOWEL.test(w.slice(0, -3))) w = undouble(w.slice(0, -3));
  else if (w.endsWith('ied') && w.length >= 5) w = w.slice(0, -3) + 'y';
  else if (w.endsWith('ed') && w.length >= 5 && VOWEL.test(w.slice(0, -2))) w = undouble(w.slice(0, -2));

  if (w.endsWith('e') && w.length > 4) w = w.slice(0, -1);
  return w;
}

/** Synonym canonical form of a surface word (the word itself when it has none). */
export function canonical(word: string): string {
  return SYNONYMS.get(word) ?? word;
}

/** The index term of one lower-cased surface word. */
export function termOf(word: string): string {
  const c = canonical(word);
  const s = stem(c);
  return SYNONYMS.get(s) ?? s;
}

const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;
const UPPER = /\p{Lu}/u;
const LOWER = /\p{Ll}/u;

/** Letter or digit at code point c (ASCII by table, the rest by Unicode property). */
function isWordCode(c: number): boolean {
  if (c < 128) return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  return LETTER_OR_DIGIT.test(String.fromCodePoint(c));
}

/**
 * Calls fn(start, end, camel) for each run of letters/digits in text; camel tells whether the run mixes
 * cases with an upper-case letter after its first character (a camelCase or PascalCase compound).
 * Hand-rolled: a Unicode regex over every description was most of the index build time.
 */
function scanWords(text: string, fn: (start: number, end: number, camel: boolean) => void): void {
  const n = text.length;
  let i = 0;
  while (i < n) {
    let c = text.codePointAt(i)!;
    if (!isWordCode(c)) {
      i += c > 0xffff ? 2 : 1;
      continue;
    }
    const start = i;
    let innerUpper = false;
    let lower = false;
    while (i < n) {
      c = text.codePointAt(i)!;
      if (!isWordCode(c)) break;
      if (c < 128 ? c >= 65 && c <= 90 : UPPER.test(String.fromCodePoint(c))) {
        if (i > start) innerUpper = true;
      } else if (c < 128 ? c >= 97 : LOWER.test(String.fromCodePoint(c))) lower = true;
      i += c > 0xffff ? 2 : 1;
    }
    fn(start, i, innerUpper && lower);
  }
}

/** camelCase parts: "NuGetPackageSearch" → Nu Get Package Search, "parseHTMLPage" → parse HTML Page. */
function camelParts(raw: string): string[] {
  return raw
    .replace(/([\p{Ll}\p{N}])(\p{Lu})/gu, '$1 $2')
    .replace(/(\p{Lu})(\p{Lu}\p{Ll})/gu, '$1 $2')
    .toLowerCase()
    .split(' ');
}

/**
 * Surface words of a text as an index sees them: lower-cased alphanumeric runs, plus the parts of
 * camelCase words and the joins of neighbouring camelCase parts ("NuGetPackageSearch" → nugetpackagesearch,
 * nu, get, package, search, nuget, getpackage, packagesearch), so both "nuget" and "package" find it.
 * snake_case and kebab-case split on the separator like any other punctuation.
 */
export function indexWords(text: string, out: string[] = []): string[] {
  const lower = text.toLowerCase();
  // Lower-casing the whole text once saves an allocation per word; a few characters change length when
  // lower-cased (İ), and then positions only hold in the original.
  const aligned = lower.length === text.length;
  scanWords(text, (start, end, camel) => {
    out.push(aligned ? lower.slice(start, end) : text.slice(start, end).toLowerCase());
    if (!camel) return;
    const parts = camelParts(text.slice(start, end));
    if (parts.length < 2) return;
    for (const p of parts) out.push(p);
    // With two parts the join is the whole word, already pushed.
    if (parts.length > 2) for (let k = 0; k + 1 < parts.length; k++) out.push(parts[k]! + parts[k + 1]!);
  });
  return out;
}

/** Surface words of a query: lower-cased alphanumeric runs (no camelCase split — "sendMessage" stays one word). */
export function queryWords(text: string): string[] {
  const lower = text.toLowerCase();
  const out: string[] = [];
  scanWords(lower, (start, end) => out.push(lower.slice(start, end)));
  return out;
}

/** Letters and digits only, lower-cased: how names are compared for an exact-name match. */
export function compact(text: string): string {
  return text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');
}
