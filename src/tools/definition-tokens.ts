// What tool definitions cost a client in tokens: counted with a real BPE tokenizer (o200k), loaded on first use.
import type { MountedTool } from '../runtime/mounts/mount-info.js';

let counter: Promise<(text: string) => number> | undefined;

/**
 * Tokens of the definitions as tools/list carries them (name, description, input schema as JSON), the figure a client
 * pays on every turn in `tools.expose: all`. The tokenizer's tables load only when the first count is asked for.
 */
export async function definitionTokens(tools: readonly MountedTool[]): Promise<number> {
  counter ??= import('gpt-tokenizer/encoding/o200k_base').then((m) => m.countTokens);
  const count = await counter;
  return tools.reduce((sum, t) => sum + count(JSON.stringify({ name: t.name, description: t.description, inputSchema: t.inputSchema })), 0);
}
