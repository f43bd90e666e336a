// The stdio MCP server (`mcp-registry` / `mcp-registry serve`): connect first, then assemble the registry behind it.
import { HealthView } from '../catalog/health-view.js';
import type { App } from '../assemble.js';
import { createRegistryServer, type RegistryServer } from '../tools/mcp-server.js';
import { RegistryStdioServerTransport } from '../tools/stdio-transport.js';
import { serveStdio, type StdioServerHandle } from '@modelcontextprotocol/server/stdio';
import { megabytes } from '../util/line-buffer.js';
import type { ToolDef } from '../tools/tool-def.js';
import type { ToolContext } from '../model/tool-contract.js';
import type { ToolExposure } from '../tools/lazy-tools.js';
import { createLogger, errorMessage, redactText } from '../util/log.js';
import type { AuditLog } from '../governance/audit-log.js';
import type { Entry } from '../model/entry.js';
import type { Runtime } from '../runtime/runtime.js';

export { exposureFlag } from '../tools/lazy-tools.js';
export { profileFlag } from '../tools/registry-profile.js';

/**
 * The stdio MCP server. Connects before the rest of the registry loads, so initialize is answered at once; tools/list
 * and calls wait for the registry (a few tens of ms), searches for the cached catalog; refreshes run in the background.
 * Stops cleanly (containers of this instance stopped) on SIGTERM, SIGINT, SIGHUP, stdin close or a closed connection.
 */
export async function runStdioServer(opts: { expose?: ToolExposure; profile?: string } = {}): Promise<void> {
  // Started by hand in a terminal (npm start, or plain mcp-registry): say what this is, on stderr — stdout is MCP's.
  const notice = terminalNotice(!!process.stdin.isTTY);
  if (notice) process.stderr.write(notice);
  const log = createLogger('registry');
  let settleTools!: { resolve: (t: ToolDef[]) => void; reject: (e: unknown) => void };
  const tools = new Promise<ToolDef[]>((resolve, reject) => (settleTools = { resolve, reject }));
  const reg = createRegistryServer(tools);
  let assembling: ReturnType<typeof assemble> | undefined;
  let exitCode = 0;
  let connection: StdioServerHandle | undefined;

  // A message over the size limit is answered with an error and skipped; the connection and the containers stay.
  const transport = new RegistryStdioServerTransport({
    onOversized: (m) => log.warn(`discarded a ${m.kind === 'response' ? 'response' : 'request'} of ${megabytes(m.bytes)} from the client (over the limit)${m.kind !== 'response' ? ', answered with an error' : ''}`),
  });

  let stopping = false;
  const shutdown = async (why: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`shutting down (${why})`);
    // Only probed (a 2026 client's bare server/discover in a sibling process) or never spoken to: nothing started,
    // nothing to stop — exit now, since the client's connect waits for this process to end.
    if (!assembling) process.exit(exitCode);
    const force = setTimeout(() => process.exit(exitCode), 10_000);
    force.unref();
    // Still loading (a client that sends its requests and closes stdin at once): finish, so the requests already
    // waiting for the tool table are answered (or told the start-up failed) before the connection closes.
    const parts = await assembling.catch(() => undefined);
    await new Promise((r) => setImmediate(r));
    // The client closed stdin after writing its requests: let their answers out before stopping anything.
    if (why === 'stdin closed') await transport.whenAnswered(2_000);
    if (parts) {
      await parts.app.scheduler.stop().catch(() => {});
      await parts.runtime.shutdown().catch((e) => log.warn(`stopping the servers failed: ${errorMessage(e)}`));
    }
    await transport.whenAnswered(1_000);
    await connection?.close().catch(() => {});
    process.exit(exitCode);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGHUP', () => void shutdown('SIGHUP')); // terminal closed: same clean stop
  process.stdin.on('end', () => void shutdown('stdin closed'));
  process.stdin.on('close', () => void shutdown('stdin closed'));
  // Should the connection still close (stdout failed), shut down (stopping containers) rather than linger deaf.
  transport.onclosed = () => void shutdown('MCP connection closed');

  const startRegistry = async () => {
    if (assembling || stopping) return;
    assembling = assemble(reg, opts.expose, opts.profile);
    let assembled: Awaited<ReturnType<typeof assemble>>;
    try {
      assembled = await assembling;
    } catch (err) {
      // A broken config.yaml or policy.yaml: say so where the client's log shows it, fail the requests waiting for
      // the table (their error replies go out first), and stop with exit code 1 — whatever else started a stop.
      exitCode = 1;
      process.stderr.write(`mcp-registry: ${errorMessage(err)}\n`);
      settleTools.reject(err);
      await new Promise((r) => setImmediate(r));
      await shutdown('start-up failed');
      return;
    }
    const { app, runtime, audit } = assembled;
    // Calls answered during a stop still have their records queued: the last thing the process does is write them.
    process.once('exit', () => audit.flushSync());
    settleTools.resolve(assembled.tools);
    // Restoring mounts loads podman support and starts containers. The first search waits for the cached catalog,
    // and both need the one main thread: start once the catalog has loaded (at most a second from now). Calls to a
    // restored tool wait for its restore either way.
    const catalogFirst = new Promise<void>((resolve) => {
      setTimeout(resolve, 1000).unref();
      assembled.catalogLoaded.then(resolve, resolve);
    });
    const started = catalogFirst.then(() => runtime.start().catch((err) => app.log.error(`runtime start-up failed: ${errorMessage(err)}`)));
    // --profile: its servers are mounted once the saved mounts are restored (a profile server among them is kept).
    if (assembled.activateProfile) void started.then(assembled.activateProfile);
    void assembled.catalogLoaded.then(
      () => startBackgroundWork(app),
      (err) => app.log.error(`could not load the catalog cache: ${errorMessage(err)}`),
    );
  };
  // The registry (config, catalog, mounts restored, containers) starts with the client's first request other than
  // server/discover. A 2026 client's SDK probes with server/discover in a throw-away sibling process and then ends
  // it: that process answers from the static capabilities and exits at once, having started (and restored) nothing.
  transport.oninbound = (m) => {
    if (!assembling && !('method' in m && m.method === 'server/discover')) void startRegistry();
  };
  connection = serveStdio((ctx) => reg.build(ctx), { transport, onerror: (err) => log.warn(`MCP connection: ${errorMessage(err)}`) });
}

/** What a person who started the server in a terminal sees (nothing when an MCP client started it on pipes). */
export function terminalNotice(stdinIsTTY: boolean): string | undefined {
  if (!stdinIsTTY) return undefined;
  return [
    'mcp-registry: this is the MCP server. It speaks MCP on stdin/stdout and is waiting for an MCP client to connect,',
    'so it prints nothing more here. Press Ctrl-D or Ctrl-C to stop it.',
    '  Try the registry from a terminal:  mcp-registry search "query a postgres database"   (mcp-registry --help lists commands)',
    '  Use it from an agent: add it to Claude Desktop, Claude Code, VS Code or Cursor (README, "Add it to your client").',
    '',
  ].join('\n');
}

/** The registry behind the server: config, catalog, stores, policy, runtime, and the tool table (every call audited). */
export async function assemble(
  reg: RegistryServer,
  expose?: ToolExposure,
  profileName?: string,
): Promise<{ app: App; runtime: Runtime; audit: AuditLog; tools: ToolDef[]; catalogLoaded: Promise<void>; activateProfile?: () => Promise<void> }> {
  const [{ createApp }, { catalogTools, runtimeTools, profileTools }, { createRuntime }, { auditedProvider, auditedTools }, { AuditLog }, { PinStore }, { governedCatalog }, { SecretStore, StateStore }, { newInstanceId }, jit, profiles, { LearnedTools }] =
    await Promise.all([
      import('../assemble.js'),
      import('../tools/registry-tools.js'),
      import('../runtime/runtime.js'),
      import('../tools/audited.js'),
      import('../governance/audit-log.js'),
      import('../governance/pins.js'),
      import('../governance/catalog-view.js'),
      import('../store/state.js'),
      import('../runtime/instance.js'),
      import('../tools/jit-exec.js'),
      import('./profile-start.js'),
      import('../store/learned-tools.js'),
    ]);
  const app = await createApp(process.env, { load: false });
  // A profile named on the command line that cannot be read stops the start, as a broken config.yaml does.
  const startProfile = profileName ? await profiles.readStartProfile(app, profileName) : undefined;
  // The cached catalog starts loading now, beside the rest: searches await it, nothing else does.
  const catalogLoaded = app.catalog.load();
  catalogLoaded.catch(() => {}); // reported where it is awaited
  const log = app.log.child('runtime');
  const instance = newInstanceId();
  const state = new StateStore(app.paths.stateDir);
  const secrets = new SecretStore(app.paths.secretsFile);
  const pins = new PinStore(state);
  const view = governedCatalog({ policyFile: app.paths.policyFile, sources: () => app.catalog.config.sources, environment: app.config.environment, state, lookup: (id) => app.catalog.get(id) });
  const policy = view.loader;
  // Tool lists seen at starts: tool search finds a stopped server's tools (read beside the catalog).
  const learned = new LearnedTools(app.paths.stateDir, log);
  void learned.load();
  // Every search applies it: loaded beside the catalog, so the first search does not wait for it too.
  void policy.load().catch(() => {});
  // Records pass through the log redactor too, which knows every stored secret (the runtime adds them).
  const audit = new AuditLog(app.paths.stateDir, { instance, maxBytes: app.config.audit.maxSize, keep: app.config.audit.keep, redact: redactText });
  const runtime = await createRuntime({
    catalog: app.catalog,
    runtime: app.config.runtime,
    liveRuntime: () => app.config.runtime,
    instance,
    policy,
    state,
    secrets,
    pins,
    audit,
    log,
    onToolsSeen: (id, seen) => learned.record(id, seen.map(jit.learnedTool)),
    notify: {
      notifyToolsChanged: () => reg.notifyToolsChanged(),
      notifyResourcesChanged: () => reg.notifyResourcesChanged(),
      notifyPromptsChanged: () => reg.notifyPromptsChanged(),
    },
  });
  const governance = {
    ...view,
    launches: (entry: Entry) => runtime.launches(entry, view.approvals()),
    details: (entry: Entry) => runtime.details(entry),
  };
  // Every registry tool call and every mounted tool call leaves one audit record (argument shapes, never values).
  const entryOfTool = (name: string) => runtime.entryOfTool(name);
  // Tool search and just-in-time registry-exec share one finder, so a tool hit's name is the one exec knows.
  const jitDeps = {
    load: () => app.catalog.load(),
    all: () => app.catalog.all(),
    mounts: runtime.manager,
    hooks: { configured: (e: Entry) => runtime.configured(e), trust: (e: Entry) => governance.trust(e), built: (e: Entry) => runtime.built(e) },
    add: (id: string, ctx: ToolContext) => runtime.manager.add(id, {}, ctx),
    learned: () => learned.all(),
  };
  const toolFinder = jit.toolFinderFor(jitDeps);
  // How mounted tools reach this client: the flag, else the --profile's choice, else config.yaml.
  const exposure = expose ?? startProfile?.profile.tools?.expose ?? app.config.tools.expose;
  const profileDeps = profiles.profileDeps(app, runtime.manager, state);
  const tools = auditedTools(
    jit.withJustInTimeExec([
      ...catalogTools({
        catalog: app.catalog,
        hooks: { configured: (e) => runtime.configured(e), built: (e) => runtime.built(e) },
        governance,
        runtimeStatus: () => runtime.status(),
        checkConfig: () => app.checkConfig(),
        mounts: runtime.manager,
        toolFinder,
        // serve-http probes and writes the states; this server only reads them (catalog/health-view.ts).
        health: new HealthView(app.org.health),
      }),
      ...runtimeTools(runtime.manager, exposure),
      ...profileTools(profileDeps),
    ], toolFinder, jitDeps),
    audit,
    { entryOfTool },
  );
  // Providers first: the table resolving is what lets waiting calls through, and they may be for mounted tools.
  reg.addProvider(jit.exposedProvider(auditedProvider(runtime.manager, audit, { entryOfTool }), exposure));
  reg.addResourceProvider(runtime.manager);
  const activateProfile = startProfile && (() => profiles.activateAtStart(startProfile, profileDeps, app.log));
  return { app, runtime, audit, tools, catalogLoaded, ...(activateProfile ? { activateProfile } : {}) };
}

export function startBackgroundWork(app: App): void {
  void app.scheduler.start().catch((err) => app.log.warn(`background refresh could not start: ${errorMessage(err)}`));
  // Let initialize and the first requests go through before any source work starts.
  // An empty catalog (first run) is always fetched; otherwise only when refresh.onStart asks for it.
  setTimeout(() => {
    if (!app.catalog.hasData || app.config.refresh.onStart) void app.scheduler.tick('start');
  }, 50).unref();
}
