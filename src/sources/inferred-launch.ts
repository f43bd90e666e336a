/** Launches inferred from the commands a detail page documents (`npx -y <pkg>`, `uvx <pkg>`, `docker run … <image>`). */
import type { ImageLaunch, PackageLaunch } from '../model/entry.js';

/**
 * The long tail of mcpservers.org lists a repository and a README, no launch. The README's client configuration
 * (already cut into one-line snippets by mcpservers-html.ts) says how its author runs it; the first snippet that
 * names a package or an image becomes the entry's launch, marked `inferred` with the page and the snippet it came
 * from: policy always asks before it runs (governance/policy.ts), and registry-info shows where it was read.
 * Placeholders (`<your-token>`, `YOUR_KEY`, `/path/to/...`) are not guessed at: such a snippet is not a launch.
 */

/** `docker run` flags that take a value (the image is the first word that is neither a flag nor a value). */
const DOCKER_VALUE_FLAGS = new Set([
  '-e', '--env', '--env-file', '-v', '--volume', '--mount', '-p', '--publish', '--name', '--network', '--net', '-w', '--workdir',
  '-u', '--user', '--entrypoint', '--platform', '--add-host', '-l', '--label', '--cpus', '-m', '--memory', '--pull', '--restart',
  '-h', '--hostname', '--cap-add', '--cap-drop', '--security-opt', '--tmpfs', '--device', '--ulimit', '--log-driver', '--gpus',
]);
const IMAGE_REF = /^(?:[a-z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
/** npx's and uvx's own flags (they say nothing about the server). */
const NPX_FLAGS = new Set(['-y', '--yes', '-q', '--quiet', '--silent', '--no-install', '--prefer-offline']);
const UVX_VALUE_FLAGS = new Set(['--python', '-p', '--with', '--index-url', '--extra-index-url', '--index']);
const NPM_NAME = /^(?:@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/;
const PYPI_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?(?:\[[A-Za-z0-9,._-]+\])?$/;
const PLACEHOLDER = /[<>{}]|\bYOUR[_-]|\byour[-_]|\/path\/to\b|\.\.\./;

/** The first snippet that is a launch, as that launch (marked inferred from `page`); undefined when none is. */
export function inferLaunch(snippets: readonly string[], page: string): PackageLaunch | ImageLaunch | undefined {
  for (const snippet of snippets) {
    const l = snippetLaunch(snippet);
    if (l) return { ...l, inferred: { page, snippet } };
  }
  return undefined;
}

/** One snippet as a launch (not yet marked inferred), or undefined. */
export function snippetLaunch(snippet: string): PackageLaunch | ImageLaunch | undefined {
  const words = shellWords(snippet);
  if (words.some((w) => PLACEHOLDER.test(w))) return undefined;
  if (words[0] === 'npx' || words[0] === 'bunx') return npxLaunch(words.slice(1));
  if (words[0] === 'uvx' || (words[0] === 'pipx' && words[1] === 'run')) return uvxLaunch(words.slice(words[0] === 'uvx' ? 1 : 2));
  if (words[0] === 'docker' && words[1] === 'run') return dockerRunImage(words.slice(2));
  return undefined;
}

function npxLaunch(words: string[]): PackageLaunch | undefined {
  let i = 0;
  while (i < words.length && NPX_FLAGS.has(words[i]!)) i++;
  const pkg = words[i];
  if (!pkg || pkg.startsWith('-')) return undefined;
  // `@scope/name@1.2.3`, `name@1.2.3`, `name`: the version follows the last "@" that is not the scope's.
  const at = pkg.lastIndexOf('@');
  const [name, version] = at > 0 ? [pkg.slice(0, at), pkg.slice(at + 1)] : [pkg, undefined];
  if (!NPM_NAME.test(name) || version === '') return undefined;
  // `@latest` names no version: the build resolves one and records it (never "latest" silently).
  return packageLaunch('npm', 'npx', name, version === 'latest' ? undefined : version, words.slice(i + 1));
}

function uvxLaunch(words: string[]): PackageLaunch | undefined {
  let i = 0;
  let from: string | undefined;
  while (i < words.length && words[i]!.startsWith('-')) {
    const w = words[i]!;
    if (w === '--from') from = words[++i];
    else if (UVX_VALUE_FLAGS.has(w)) i++;
    i++;
  }
  const command = words[i];
  if (!command) return undefined;
  const [name, version] = splitPypi(from ?? command);
  if (!PYPI_NAME.test(name)) return undefined;
  // `uvx --from pkg cmd`: the command is the package's script, not an argument; only the simple form runs here.
  if (from && command !== name.replace(/\[.*$/, '')) return undefined;
  return packageLaunch('pypi', 'uvx', name, version, words.slice(i + 1));
}

/** `name==1.2`, `name@1.2` (uvx) or `name`. */
function splitPypi(s: string): [string, string | undefined] {
  const m = /^([^=@<>~!]+)(?:==|@)([\w.+!-]+)$/.exec(s);
  return m ? [m[1]!, m[2]!] : [s, undefined];
}

function packageLaunch(registryType: 'npm' | 'pypi', runtimeHint: string, identifier: string, version: string | undefined, args: string[]): PackageLaunch {
  return {
    type: 'package',
    registryType,
    identifier,
    ...(version ? { version } : {}),
    runtimeHint,
    transport: { type: 'stdio' },
    ...(args.length ? { packageArguments: args.map((value) => ({ type: 'positional', value })) } : {}),
  };
}

/** `docker run [flags] <image> [command…]` (the words after `run`) → an image launch; undefined for a placeholder. */
function dockerRunImage(words: string[]): ImageLaunch | undefined {
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w.startsWith('-')) {
      if (DOCKER_VALUE_FLAGS.has(w)) i++;
      continue;
    }
    if (!IMAGE_REF.test(w)) return undefined;
    const command = words.slice(i + 1);
    return command.length ? { type: 'image', image: w, command } : { type: 'image', image: w };
  }
  return undefined;
}

/** Split a command line into words, honouring single and double quotes. */
export function shellWords(s: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(s); m; m = re.exec(s)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3]!));
  return out;
}
