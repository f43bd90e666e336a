/** The docker source: a git clone of docker/mcp-registry, fetched and hard-reset, re-parsed only when HEAD moved. */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { simpleGit, type SimpleGit, type SimpleGitProgressEvent } from 'simple-git';
import { errorMessage, type Logger } from '../util/log.js';
import { SourceError, type FetchContext, type FetchResult, type Source } from './source.js';
import { readDockerServersDir } from './docker-yaml.js';
import { isLocalGitUrl } from '../config/config.js';

/**
 * The Docker MCP registry (github.com/docker/mcp-registry) as a catalog source: a git clone kept in the source's
 * work directory, updated with fetch + hard reset (so upstream force-pushes never wedge it), parsed from
 * `servers/*` only when HEAD moved.
 */

export interface DockerSourceConfig {
  name: string;
  /** Any git URL, a local repository path or a git bundle path. */
  url: string;
  /** Branch to follow. */
  ref: string;
}

/** What the source keeps between fetches. */
export interface DockerState {
  commit: string;
  url: string;
  ref: string;
  /** Bumped whenever parsing changes, so cached entries from an older parser are not reused. */
  parser: number;
}

export const DOCKER_PARSER_VERSION = 1;

const CLONE_DIR = 'repo';
const PARTIAL_PREFIX = 'repo.partial-';
const BROKEN_PREFIX = 'repo.broken-';

export class DockerSource implements Source {
  readonly type = 'docker';
  readonly name: string;
  /** Two refreshes of one source must not run git in the same clone at once. */
  private running: Promise<unknown> = Promise.resolve();

  constructor(private readonly cfg: DockerSourceConfig) {
    this.name = cfg.name;
  }

  fetch(ctx: FetchContext): Promise<FetchResult> {
    const run = this.running.then(
      () => this.doFetch(ctx),
      () => this.doFetch(ctx),
    );
    this.running = run.catch(() => undefined);
    return run;
  }

  private async doFetch(ctx: FetchContext): Promise<FetchResult> {
    const log = ctx.log;
    this.checkConfig();
    await mkdir(ctx.workDir, { recursive: true });
    await removeLeftovers(ctx.workDir, log);

    const commit = await this.sync(ctx);

    const prevState = ctx.previous?.state as Partial<DockerState> | undefined;
    const state: DockerState = { commit, url: this.cfg.url, ref: this.cfg.ref, parser: DOCKER_PARSER_VERSION };
    if (
      !ctx.force &&
      ctx.previous &&
      prevState?.commit === commit &&
      prevState.parser === DOCKER_PARSER_VERSION &&
      prevState.url === this.cfg.url &&
      prevState.ref === this.cfg.ref
    ) {
      ctx.progress({ message: `unchanged at ${commit.slice(0, 8)}` });
      return { entries: ctx.previous.entries, state, unchanged: true };
    }

    const serversDir = join(ctx.workDir, CLONE_DIR, 'servers');
    if (!existsSync(serversDir)) {
      throw new SourceError(
        `source "${this.name}": ${this.cfg.url} (${this.cfg.ref}) has no servers/ folder`,
        'point url at the docker/mcp-registry repository (https://github.com/docker/mcp-registry.git) or a copy of it',
      );
    }
    ctx.progress({ message: `reading servers at ${commit.slice(0, 8)}` });
    let parsed;
    try {
      parsed = await readDockerServersDir(serversDir, this.name, log);
    } catch (err) {
      throw new SourceError(`source "${this.name}": ${errorMessage(err)}`, `delete ${join(ctx.workDir, CLONE_DIR)} and refresh again`);
    }
    ctx.progress({ message: `${parsed.entries.length} servers`, current: parsed.entries.length, total: parsed.entries.length });
    log.info(`${this.name}: ${parsed.entries.length} servers at ${commit.slice(0, 8)}`, { warnings: parsed.warnings.length });
    return { entries: parsed.entries, state, warnings: parsed.warnings.length ? parsed.warnings : undefined };
  }

  /** Values that git would read as options (or that no branch can have) are refused before running git. */
  private checkConfig(): void {
    const { name, url, ref } = this.cfg;
    if (!url.trim() || url.startsWith('-')) {
      throw new SourceError(`source "${name}": "${url}" is not a git URL or path`, 'set url in config.yaml to a git URL, a local repository or a bundle path');
    }
    if (!/^[A-Za-z0-9._][A-Za-z0-9._/-]*$/.test(ref) || ref.includes('..') || ref.endsWith('/') || ref.endsWith('.lock')) {
      throw new SourceError(`source "${name}": "${ref}" is not a branch name`, 'set ref in config.yaml to a branch, e.g. main');
    }
  }

  /** Bring the clone to the remote's `ref` and return its HEAD commit. */
  private async sync(ctx: FetchContext): Promise<string> {
    const repoDir = join(ctx.workDir, CLONE_DIR);
    if (existsSync(repoDir)) {
      const healthy = await this.isHealthy(repoDir, ctx);
      if (healthy) {
        try {
          return await this.update(repoDir, ctx);
        } catch (err) {
          if (ctx.signal.aborted) throw abortError(ctx);
          const classified = this.classify(err, 'fetch');
          // A remote problem is not the clone's fault: keep the clone for when the remote is back.
          if (classified.remote) throw classified.error;
          ctx.log.warn(`${this.name}: updating the clone failed (${firstLine(errorMessage(err))}); cloning afresh`);
        }
      } else {
        ctx.log.warn(`${this.name}: the clone in ${repoDir} is damaged; cloning afresh`);
      }
    }
    return this.cloneFresh(repoDir, ctx);
  }

  private git(dir: string, ctx: FetchContext, onProgress?: (e: SimpleGitProgressEvent) => void): SimpleGit {
    return simpleGit({
      baseDir: dir,
      abort: ctx.signal,
      ...(onProgress ? { progress: onProgress } : {}),
      // The user's own environment (ssh command, askpass, config paths) is trusted for reaching private remotes;
      // simple-git refuses it unless allowed. Protocol overrides and hooks stay blocked.
      unsafe: { allowUnsafeSshCommand: true, allowUnsafeAskPass: true, allowUnsafeConfigPaths: true, allowUnsafeGitProxy: true, allowUnsafeConfigEnvCount: true },
    }).env(gitEnv(ctx.workDir));
  }

  private async isHealthy(repoDir: string, ctx: FetchContext): Promise<boolean> {
    if (!existsSync(join(repoDir, '.git'))) return false;
    try {
      await removeStaleLocks(repoDir);
      const g = this.git(repoDir, ctx);
      // Without --quiet so a failure has stderr (simple-git only rejects then). Reading HEAD's tree catches
      // missing or truncated objects, the usual result of a crash mid-update.
      await g.raw(['rev-parse', '--verify', 'HEAD^{commit}']);
      await g.raw(['ls-tree', '-r', '--name-only', 'HEAD', '--', 'servers/']);
      return true;
    } catch (err) {
      if (ctx.signal.aborted) throw abortError(ctx);
      ctx.log.debug(`${this.name}: health check failed`, { error: firstLine(errorMessage(err)) });
      return false;
    }
  }

  private async update(repoDir: string, ctx: FetchContext): Promise<string> {
    const { url, ref } = this.cfg;
    const g = this.git(repoDir, ctx, progressReporter(ctx));
    const remotes = await g.getRemotes(true);
    const origin = remotes.find((r) => r.name === 'origin');
    if (!origin) await g.addRemote('origin', url);
    else if (origin.refs.fetch !== url) {
      ctx.log.info(`${this.name}: url changed to ${url}; re-pointing the clone`);
      await g.remote(['set-url', 'origin', url]);
    }
    ctx.progress({ message: `fetching ${ref} from ${url}` });
    const args = ['--no-tags', '--force'];
    // Local paths and bundles cannot be cloned shallowly (git ignores --depth for them and says so).
    if (!isLocalGitUrl(url)) args.push('--depth', '1');
    await g.fetch('origin', `+refs/heads/${ref}:refs/remotes/origin/${ref}`, args);
    // checkout -B + clean is a hard reset that also follows a changed `ref` and drops stray files.
    await g.raw(['checkout', '--force', '-B', ref, `refs/remotes/origin/${ref}`]);
    await g.raw(['clean', '-ffdx', '--quiet']);
    return (await g.revparse(['HEAD'])).trim();
  }

  /** Clone beside the old clone and swap it in only when complete: an interrupted clone never replaces a good one. */
  private async cloneFresh(repoDir: string, ctx: FetchContext): Promise<string> {
    const { url, ref } = this.cfg;
    const partial = join(ctx.workDir, `${PARTIAL_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
    ctx.progress({ message: `cloning ${url} (${ref})` });
    const args = ['--single-branch', '--branch', ref, '--no-tags'];
    if (!isLocalGitUrl(url)) args.push('--depth', '1');
    try {
      await this.git(ctx.workDir, ctx, progressReporter(ctx)).clone(url, partial, args);
      const commit = (await this.git(partial, ctx).revparse(['HEAD'])).trim();
      if (existsSync(repoDir)) {
        const broken = join(ctx.workDir, `${BROKEN_PREFIX}${randomBytes(4).toString('hex')}`);
        await rename(repoDir, broken);
        await rm(broken, { recursive: true, force: true });
      }
      await rename(partial, repoDir);
      return commit;
    } catch (err) {
      await rm(partial, { recursive: true, force: true }).catch(() => undefined);
      if (ctx.signal.aborted) throw abortError(ctx);
      throw this.classify(err, 'clone').error;
    }
  }

  /** Turn git's stderr into a message that says what to do; `remote` marks problems on the remote's side. */
  private classify(err: unknown, op: 'clone' | 'fetch'): { error: SourceError; remote: boolean } {
    if (err instanceof SourceError) return { error: err, remote: true };
    const text = errorMessage(err);
    const line = gitFatalLine(text);
    const { name } = this.cfg;
    const { url, ref } = this.cfg;
    if (/Remote branch .* not found|couldn't find remote ref|Could not find remote branch/i.test(text)) {
      return {
        remote: true,
        error: new SourceError(`source "${name}": ${url} has no branch "${ref}"`, `set ref to an existing branch in config.yaml (docker/mcp-registry uses main)`),
      };
    }
    if (/Authentication failed|could not read (Username|Password)|terminal prompts disabled|Permission denied \(publickey/i.test(text)) {
      return {
        remote: true,
        error: new SourceError(
          `source "${name}": ${url} asks for credentials (${line})`,
          'use a public URL, or set up a git credential helper or ssh key for it; git is never allowed to prompt here',
        ),
      };
    }
    if (
      /does not exist|does not appear to be a git repository|not a git repository|Could not read from remote|Could not resolve host|Failed to connect|unable to access|Connection (refused|timed out)|repository .* not found|not a valid bundle|is not a bundle|No such file or directory|Name or service not known|Network is unreachable/i.test(
        text,
      )
    ) {
      const bundleHint = /^file:\/\/.*\.bundle$/i.test(url) ? ' (a bundle must be given as a plain path, not a file:// URL)' : '';
      return {
        remote: true,
        error: new SourceError(
          `source "${name}": cannot ${op} ${url}${bundleHint}: ${line}`,
          'check the url in config.yaml (a git URL, a local repository or a bundle path) and the network; the last good catalog stays in use until a refresh succeeds',
        ),
      };
    }
    return {
      remote: false,
      error: new SourceError(
        `source "${name}": git ${op} of ${url} failed: ${line}`,
        `try "mcp-registry refresh --source ${name} --force"; if it keeps failing, delete the source's repo folder and refresh`,
      ),
    };
  }
}

/** Environment for every git call: never prompt, never wander into an enclosing repository, messages in English. */
function gitEnv(workDir: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    // Editors and pagers are never needed non-interactively (simple-git also rejects them).
    if (v === undefined || /^(EDITOR|VISUAL|PAGER|GIT_EDITOR|GIT_SEQUENCE_EDITOR|GIT_PAGER|GIT_EXTERNAL_DIFF|GIT_TEMPLATE_DIR|PREFIX|GIT_EXEC_PATH)$/i.test(k)) continue;
    env[k] = v;
  }
  env.GIT_TERMINAL_PROMPT = '0';
  env.GCM_INTERACTIVE = 'never';
  env.GIT_CEILING_DIRECTORIES = workDir;
  env.LC_ALL = 'C';
  env.LANGUAGE = 'C';
  return env;
}

function progressReporter(ctx: FetchContext): (e: SimpleGitProgressEvent) => void {
  let lastStage = '';
  let lastPct = -100;
  return (e) => {
    // git reports every percent of every stage; a few steps are enough for a human.
    if (e.stage === lastStage && (e.progress === lastPct || (e.progress - lastPct < 10 && e.progress < 100))) return;
    lastStage = e.stage;
    lastPct = e.progress;
    ctx.progress({ message: `git ${e.method} ${e.stage} ${e.progress}%`, current: e.processed, total: e.total });
  };
}

/** Clones interrupted by a crash, and broken clones not yet deleted, from earlier runs. */
async function removeLeftovers(workDir: string, log: Logger): Promise<void> {
  let names: string[];
  try {
    names = await readdir(workDir);
  } catch {
    return;
  }
  for (const n of names) {
    if (!n.startsWith(PARTIAL_PREFIX) && !n.startsWith(BROKEN_PREFIX)) continue;
    // Only our own process can be mid-clone here (fetches are serialised per source), so any other pid is stale.
    if (n.startsWith(`${PARTIAL_PREFIX}${process.pid}-`)) continue;
    log.debug(`removing leftover ${n}`);
    await rm(join(workDir, n), { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Lock files left by a git process that was killed; they would make every later fetch fail. */
async function removeStaleLocks(repoDir: string): Promise<void> {
  const gitDir = join(repoDir, '.git');
  const candidates = ['index.lock', 'shallow.lock', 'HEAD.lock', 'packed-refs.lock', 'config.lock', 'FETCH_HEAD.lock'];
  await Promise.all(candidates.map((f) => rm(join(gitDir, f), { force: true }).catch(() => undefined)));
  const refsDir = join(gitDir, 'refs');
  const entries = await readdir(refsDir, { recursive: true }).catch(() => [] as string[]);
  await Promise.all(entries.filter((e) => e.endsWith('.lock')).map((e) => rm(join(refsDir, e), { force: true }).catch(() => undefined)));
}

function gitFatalLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /^fatal:|^error:/i.test(l))?.replace(/^(fatal|error):\s*/i, '') ?? lines[0] ?? 'unknown error';
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

function abortError(ctx: FetchContext): Error {
  const r: unknown = ctx.signal.reason;
  return r instanceof Error ? r : new Error('refresh cancelled');
}
