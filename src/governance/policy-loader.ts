// The policy in effect, re-read whenever policy.yaml (or the sources' types) changed: the one loader behind the
// registry tools, every start and call, the CLI and serve-http.
import { unwatchFile, watchFile } from 'node:fs';
import { fileStamp } from '../util/file-stamp.js';
import { errorMessage } from '../util/log.js';
import type { Policy } from './policy.js';

/** How stale the synchronous policy snapshot (tool calls) may get before it is checked again in the background. */
const SNAPSHOT_MS = 1_000;

export interface PolicyLoader {
  /** The policy file. */
  readonly file: string;
  /** The policy, re-read when policy.yaml changed; a broken file rejects, with the file's own error. */
  load(): Promise<Policy>;
  /** The last policy loaded (null before the first), without waiting; checks the file in the background when stale. */
  now(): Policy | null;
  /** Why the file could not be loaded the last time, if it could not. */
  error(): string | undefined;
  /**
   * Poll the file (every `intervalMs`) and load it when it changed: `onChange` gets the new policy, `onError` the
   * reason a changed file cannot be used (the previous policy stays in effect). Returns the function that stops it.
   */
  watch(onChange: (p: Policy) => void, onError: (err: unknown) => void, intervalMs?: number): () => void;
}

/**
 * The policy, re-read whenever policy.yaml changes (`mcp-registry allow <id>` in a terminal must take effect in a
 * running registry without a restart): `load` checks the file each time (adds, starts); `now` serves the hot path.
 * `sourceTypesNow` is read at each check: config.yaml may add a source while the registry runs (its type decides
 * the default trust).
 */
export function policyLoader(file: string, sourceTypesNow: () => Record<string, string>, environment: string | undefined): PolicyLoader {
  let loaded: { key: string; policy: Promise<Policy> } | null = null;
  let last: Policy | null = null;
  let lastError: string | undefined;
  let checkedAt = 0;
  let checking = false;
  const load = async () => {
    checkedAt = Date.now();
    const stamp = await fileStamp(file);
    const sourceTypes = sourceTypesNow();
    const key = `${stamp} ${JSON.stringify(sourceTypes)}`;
    // Loaded on first use: the policy module (yaml, its schema) is not needed before the first search or start.
    if (!loaded || loaded.key !== key) loaded = { key, policy: import('./policy.js').then(({ Policy }) => Policy.load(file, sourceTypes, { environment })) };
    try {
      const p = await loaded.policy;
      last = p;
      lastError = undefined;
      return p;
    } catch (err) {
      lastError = errorMessage(err);
      throw err;
    }
  };
  return {
    file,
    load,
    now() {
      if (!checking && Date.now() - checkedAt > SNAPSHOT_MS) {
        checking = true;
        void load()
          .catch(() => {})
          .finally(() => (checking = false));
      }
      return last;
    },
    error: () => lastError,
    watch(onChange, onError, intervalMs = 2_000) {
      const listener = (cur: { mtimeMs: number; size: number }, prev: { mtimeMs: number; size: number }) => {
        if (cur.mtimeMs === prev.mtimeMs && cur.size === prev.size) return;
        load().then(onChange, onError);
      };
      watchFile(file, { interval: intervalMs }, listener);
      return () => unwatchFile(file, listener);
    },
  };
}
