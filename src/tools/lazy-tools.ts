/** Tool exposure (`all` or `lazy`): whether mounted tools are in tools/list, and the `--tools` flag. */
import type { ToolProvider } from '../model/tool-contract.js';

/*
 * tools.expose "lazy": mounted tools stay callable (by name, or through registry-exec) but do not enter tools/list,
 * so the client holds only the registry's own definitions and finds the rest with registry-find kind "tools".
 */

export type ToolExposure = 'all' | 'lazy';

export const EXPOSURES: readonly ToolExposure[] = ['all', 'lazy'];

/** The provider as tools/list should see it under this exposure. */
export function exposedProvider(provider: ToolProvider, expose: ToolExposure): ToolProvider {
  if (expose === 'all') return provider;
  return { listTools: () => [], callTool: (name, args, ctx) => provider.callTool(name, args, ctx) };
}

/** `--tools all|lazy` on the command line (it wins over config.yaml for this client); undefined when absent. */
export function exposureFlag(argv: readonly string[]): ToolExposure | undefined {
  const i = argv.indexOf('--tools');
  if (i < 0) return undefined;
  const v = argv[i + 1];
  if (v === 'all' || v === 'lazy') return v;
  throw new Error(`--tools takes "all" or "lazy" (got ${v === undefined ? 'nothing' : JSON.stringify(v)}): lazy keeps mounted tools out of tools/list; registry-find kind "tools" finds them`);
}
