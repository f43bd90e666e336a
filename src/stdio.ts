import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createApp, type App } from './app.js';
import { createRegistryServer } from './server/server.js';
import { catalogTools } from './server/catalog-tools.js';
import { errorMessage } from './log.js';
import { createRuntime } from './runtime/index.js';
import { auditedProvider, auditedTools } from './governance/audit-log.js';

/**
 * The stdio MCP server. Answers initialize/tools/list from the cached catalog at once; refreshes in the background.
 * Stops cleanly (containers of this instance stopped) on SIGTERM, SIGINT, SIGHUP, stdin close or a closed connection.
 */
export async function runStdioServer(): Promise<void> {
  const app = await createApp(process.env, { load: false });
  // The runtime is built before the server (its tools are part of the table); it notifies through `reg` later.
  const runtime = await createRuntime({
    app,
    reg: {
      notifyToolsChanged: () => reg.notifyToolsChanged(),
      notifyResourcesChanged: () => reg.notifyResourcesChanged(),
      notifyPromptsChanged: () => reg.notifyPromptsChanged(),
    },
  });
  // Every registry tool call and every mounted tool call leaves one audit record (argument shapes, never values).
  const entryOfTool = (name: string) => runtime.entryOfTool(name);
  const tools = auditedTools(
    [
      ...catalogTools({ catalog: app.catalog, hooks: { configured: (e) => runtime.configured(e) }, governance: runtime.governance, runtimeStatus: () => runtime.status() }),
      ...runtime.tools,
    ],
    runtime.audit,
    { entryOfTool },
  );
  const reg = createRegistryServer(tools);
  reg.addProvider(auditedProvider(runtime.provider, runtime.audit, { entryOfTool }));
  reg.addResourceProvider(runtime.provider);

  let stopping = false;
  const shutdown = async (why: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info(`shutting down (${why})`);
    const force = setTimeout(() => process.exit(0), 10_000);
    force.unref();
    await app.scheduler.stop().catch(() => {});
    await runtime.shutdown().catch((e) => app.log.warn(`stopping the servers failed: ${errorMessage(e)}`));
    await reg.server.close().catch(() => {});
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGHUP', () => void shutdown('SIGHUP')); // terminal closed: same clean stop
  process.stdin.on('end', () => void shutdown('stdin closed'));
  process.stdin.on('close', () => void shutdown('stdin closed'));

  const transport = new StdioServerTransport();
  // The SDK closes its stdio transport on a message it cannot take (over 10 MB) and stops reading stdin: say why,
  // and shut down (stopping containers) rather than linger deaf with every later request hanging.
  reg.server.onerror = (err) => app.log.warn(`MCP connection: ${errorMessage(err)}`);
  reg.server.onclose = () => void shutdown('MCP connection closed');
  await reg.server.connect(transport);
  // Restoring mounts loads podman support and starts containers: let initialize and tools/list go first.
  setTimeout(() => void runtime.start().catch((err) => app.log.error(`runtime start-up failed: ${errorMessage(err)}`)), 50).unref();
  // The cache loads after connecting so initialize/tools/list never wait for it; searches await the load.
  void app.catalog.load().then(
    () => startBackgroundWork(app),
    (err) => app.log.error(`could not load the catalog cache: ${errorMessage(err)}`),
  );
}

function startBackgroundWork(app: App): void {
  app.scheduler.start();
  // Let initialize and the first requests go through before any source work starts.
  // An empty catalog (first run) is always fetched; otherwise only when refresh.onStart asks for it.
  setTimeout(() => {
    if (!app.catalog.hasData || app.config.refresh.onStart) void app.scheduler.tick('start');
  }, 50).unref();
}
