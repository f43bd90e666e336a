/** Build pins: what state.json keeps of a built package, and comparing a fresh build with it. */
import type { BuildRecord } from './types.js';

/**
 * Pinning a built package like an image: what was approved is the installed tree (npm's lockfile integrity, pip's
 * hashes, the bundle's sha256), not the image ID — a rebuild of the same tree commits a new image ID, and that is
 * not a change. A rebuild that installed anything else is refused until `mcp-registry approve <id>`.
 */

/** What the pins keep of a build (state.json, beside the image and tool pins). */
export interface BuildPin {
  kind: BuildRecord['kind'];
  package: string;
  version: string;
  treeDigest: string;
  packages: string[];
  imageId: string;
  source: string;
}

export function buildPinOf(r: BuildRecord): BuildPin {
  return { kind: r.kind, package: r.package, version: r.version, treeDigest: r.tree.digest, packages: r.tree.packages, imageId: r.imageId, source: r.source };
}

export type BuildPinCheck =
  | { ok: true; firstUse: boolean; /** Same tree, new image ID: the image pin follows the rebuild. */ imageChanged: boolean }
  | { ok: false; command: string; message: string; added: string[]; removed: string[] };

/** Compare a fresh (or found) build with the pinned one. */
export function checkBuildPin(entryId: string, pinned: BuildPin | undefined, fresh: BuildRecord): BuildPinCheck {
  if (!pinned) return { ok: true, firstUse: true, imageChanged: false };
  if (pinned.treeDigest === fresh.tree.digest && pinned.kind === fresh.kind && pinned.package === fresh.package) {
    return { ok: true, firstUse: false, imageChanged: pinned.imageId !== fresh.imageId };
  }
  const before = new Set(pinned.packages);
  const after = new Set(fresh.tree.packages);
  const added = fresh.tree.packages.filter((p) => !before.has(p));
  const removed = pinned.packages.filter((p) => !after.has(p));
  const command = `mcp-registry approve ${entryId}`;
  const what =
    added.length || removed.length
      ? [added.length ? `now ${added.slice(0, 5).join(', ')}${added.length > 5 ? ` and ${added.length - 5} more` : ''}` : '', removed.length ? `no longer ${removed.slice(0, 5).join(', ')}${removed.length > 5 ? ` and ${removed.length - 5} more` : ''}` : '']
          .filter(Boolean)
          .join('; ')
      : 'the same package versions with different contents (integrity hashes)';
  return {
    ok: false,
    command,
    added,
    removed,
    message:
      `${entryId} was not started: its ${fresh.kind} package ${fresh.package} ${fresh.version} installed a different dependency tree than the one approved (${what}; tree ${short(pinned.treeDigest)} → ${short(fresh.tree.digest)}). ` +
      `If you trust the new tree, run this in a terminal: ${command} — then start it again.`,
  };
}

function short(d: string): string {
  return d.replace(/^sha256:/, '').slice(0, 12);
}
