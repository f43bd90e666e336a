#!/usr/bin/env node
/** The `mcp-registry` command line: help text, argument parsing, dispatch to the stdio server or a subcommand. */
import { parseArgs } from 'node:util';
import { VERSION } from './util/version.js';
import { ConfigError } from './config/config.js';
import { errorMessage, setLogLevel } from './util/log.js';

const HELP = `mcp-registry ${VERSION} — an MCP server that is a dynamic registry of MCP servers

Usage:
  mcp-registry                         run the MCP server on stdio (what MCP clients start)
  mcp-registry --tools lazy            the same, mounted tools kept out of tools/list (registry-find kind "tools" finds them)
  mcp-registry --profile NAME          the same, mounting the servers of profile NAME (config.yaml profiles:, or <home>/profiles/NAME.yaml)
  mcp-registry search <query> [--limit N] [--json] [--source NAME]… [--category C] [--runnable]
  mcp-registry info <id> [--json]      everything about one entry: sources, how it runs, settings it needs, tools, trust
  mcp-registry list [--source NAME] [--category C] [--limit N] [--cursor C] [--json]
                                       browse the catalog page by page (sorted by id)
  mcp-registry refresh [--source NAME] [--force]
  mcp-registry status [--json]
  mcp-registry doctor                  check config, sources, podman, git and state paths; print fixes
  mcp-registry allow <id|pattern>      let an entry start without asking (adds it to policy.yaml allow)
  mcp-registry deny <id|pattern>       never let an entry start (adds it to policy.yaml deny; deny wins)
  mcp-registry approve <id> [--json]   accept the image and tools a restart withheld (they changed since approval)
  mcp-registry prepare <id> [--source S] [--remove] [--json]
                                       build an npm/PyPI server's image ahead of its first start (--remove: delete its images)
  mcp-registry policy [<id>] [--json]  the effective policy (environment, rules, governance options), or one entry's standing
  mcp-registry audit [--since 1h|2026-07-01] [--entry ID|PATTERN] [--op OP] [--limit N] [--json]
                                       what the registry did: the audit log (argument shapes, never values)
  mcp-registry serve-http [--host 127.0.0.1] [--port 8080] [--base-path /prefix] [--trust-proxy] [--rate-limit N]
                                       serve the catalog as an MCP Registry API v0.1 (VS Code, Copilot)
  mcp-registry serve-mcp [--host 127.0.0.1] [--port 8765] [--token-file FILE] [--allow-remote] [--allowed-host NAME]…
                                       the MCP server itself over Streamable HTTP at /mcp, bearer-token protected
                                       (MCP_REGISTRY_TOKEN or --token-file; else a token is printed once), for
                                       several clients sharing one registry and one set of containers
  mcp-registry apikey create --scope read|publish|admin [--name N] [--group G]... [--expires 90d] | list | revoke <id>
                                       API keys for serve-http (printed once; stored hashed)
  mcp-registry validate <file|dir> [--format text|github] [--require-signed] [--key K.pub]… [--require-governance] [--json]
                                       check a catalog for CI: schema, unknown fields, duplicates, semver, governance
  mcp-registry keygen --out NAME       an Ed25519 key pair for signing catalogs: NAME.key (private, 0600) and NAME.pub
  mcp-registry sign <catalog> --key NAME.key [--digest REF=DIGEST]… [--npm-registry URL] [--pypi-index URL]
                                       sign every entry and its artefact digests, in place
  mcp-registry verify <catalog> --key NAME.pub… [--json]
                                       exit 0 only when every entry verifies against those keys
  mcp-registry export <format> [--out FILE] [--source NAME]… [--registry-url URL] [--without-registry]
                                       the approved catalog as client allowlists: claude-code, claude-code-mcp, copilot, vscode
  mcp-registry --help | --version

Files: MCP_REGISTRY_HOME (when set) holds config.yaml, policy.yaml, cache/, sources/, state/;
otherwise ~/.config/mcp-registry, ~/.cache/mcp-registry and ~/.local/share/mcp-registry.
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--tools' || cmd === '--profile') {
    const { runStdioServer, exposureFlag, profileFlag } = await import('./commands/serve-stdio.js');
    await runStdioServer({ expose: exposureFlag(argv), profile: profileFlag(argv) });
    return -1; // keep running
  }
  if (cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (cmd === '--version' || cmd === '-v') {
    process.stdout.write(VERSION + '\n');
    return 0;
  }
  // Subcommands print results on stdout; keep routine logs quiet.
  setLogLevel((process.env.MCP_REGISTRY_LOG_LEVEL as never) ?? 'warning');
  if (cmd === 'apikey') return (await import('./commands/apikey.js')).apikey(rest);
  const commands = await import('./commands/subcommands.js');
  switch (cmd) {
    case 'search': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { limit: { type: 'string' }, json: { type: 'boolean' }, source: { type: 'string', multiple: true }, category: { type: 'string' }, runnable: { type: 'boolean' } },
      });
      return commands.search(positionals.join(' '), { limit: values.limit, json: !!values.json, sources: values.source, category: values.category, runnable: values.runnable });
    }
    case 'info': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { json: { type: 'boolean' } } });
      return commands.info(positionals.join(' '), { json: !!values.json });
    }
    case 'list': {
      const { values } = parseArgs({
        args: rest,
        options: { source: { type: 'string' }, category: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' }, json: { type: 'boolean' } },
      });
      return commands.list({ ...values, json: !!values.json });
    }
    case 'refresh': {
      const { values } = parseArgs({ args: rest, options: { source: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' } } });
      return commands.refresh({ source: values.source, force: !!values.force, json: !!values.json });
    }
    case 'status': {
      const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' } } });
      return commands.status({ json: !!values.json });
    }
    case 'doctor':
      return commands.doctor();
    case 'allow':
    case 'deny': {
      const { positionals } = parseArgs({ args: rest, allowPositionals: true, options: {} });
      return cmd === 'allow' ? commands.allow(positionals.join(' ')) : commands.deny(positionals.join(' '));
    }
    case 'approve':
    case 'policy': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { json: { type: 'boolean' } } });
      return cmd === 'approve' ? commands.approve(positionals.join(' '), { json: !!values.json }) : commands.showPolicy(positionals.join(' '), { json: !!values.json });
    }
    case 'prepare': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { json: { type: 'boolean' }, remove: { type: 'boolean' }, source: { type: 'string' } } });
      const { prepare } = await import('./commands/prepare.js');
      return prepare(positionals.join(' '), { json: !!values.json, remove: !!values.remove, ...(values.source ? { source: values.source } : {}) });
    }
    case 'audit': {
      const { values } = parseArgs({
        args: rest,
        options: { since: { type: 'string' }, entry: { type: 'string' }, op: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } },
      });
      return commands.audit({ ...values, json: !!values.json });
    }
    case 'keygen': {
      const { values } = parseArgs({ args: rest, options: { out: { type: 'string' }, json: { type: 'boolean' } } });
      return (await import('./commands/keygen.js')).keygen({ out: values.out, json: !!values.json });
    }
    case 'sign': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { key: { type: 'string' }, digest: { type: 'string', multiple: true }, 'npm-registry': { type: 'string' }, 'pypi-index': { type: 'string' }, json: { type: 'boolean' } },
      });
      return (await import('./commands/sign.js')).sign(positionals.join(' '), { key: values.key, digest: values.digest, npmRegistry: values['npm-registry'], pypiIndex: values['pypi-index'], json: !!values.json });
    }
    case 'verify': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { key: { type: 'string', multiple: true }, json: { type: 'boolean' } } });
      return (await import('./commands/verify.js')).verify(positionals.join(' '), { key: values.key, json: !!values.json });
    }
    case 'validate': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { format: { type: 'string' }, 'require-signed': { type: 'boolean' }, 'require-governance': { type: 'boolean' }, key: { type: 'string', multiple: true }, json: { type: 'boolean' } },
      });
      return (await import('./commands/validate.js')).validate(positionals.join(' '), {
        format: values.format,
        requireSigned: !!values['require-signed'],
        requireGovernance: !!values['require-governance'],
        key: values.key,
        json: !!values.json,
      });
    }
    case 'export': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { out: { type: 'string' }, 'registry-url': { type: 'string' }, source: { type: 'string', multiple: true }, 'without-registry': { type: 'boolean' } },
      });
      return (await import('./commands/export.js')).exportCommand(positionals.join(' '), {
        out: values.out,
        registryUrl: values['registry-url'],
        source: values.source,
        withoutRegistry: !!values['without-registry'],
      });
    }
    case 'serve-mcp': {
      const { values } = parseArgs({
        args: rest,
        options: { host: { type: 'string' }, port: { type: 'string' }, 'token-file': { type: 'string' }, 'allow-remote': { type: 'boolean' }, 'allowed-host': { type: 'string', multiple: true } },
      });
      return (await import('./commands/serve-mcp.js')).serveMcp(values);
    }
    case 'serve-http': {
      const { values } = parseArgs({
        args: rest,
        options: { host: { type: 'string' }, port: { type: 'string' }, 'base-path': { type: 'string' }, 'trust-proxy': { type: 'boolean' }, 'rate-limit': { type: 'string' } },
      });
      return commands.serveHttp(values);
    }
    default:
      process.stderr.write(`Unknown command "${cmd}".\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err) => {
    const hint = err instanceof ConfigError ? '' : '\nRun "mcp-registry doctor" to check your setup.';
    process.stderr.write(`mcp-registry: ${errorMessage(err)}${hint}\n`);
    process.exitCode = err?.name === 'TypeError' && err?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? 2 : 1;
  },
);
