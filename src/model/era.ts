// A child server's MCP protocol era as probed once (server/discover, falling back to initialize) and remembered.

/**
 * `modern` speaks 2026-07-28 (its `server/discover` answer is kept, so a restart connects without a probe);
 * `legacy` the 2025 `initialize` handshake.
 */
export type EraVerdict = { era: 'legacy' } | { era: 'modern'; discover: Record<string, unknown> };
