/** Pins of what the user approved: the image ID and hashed tool definitions, withholding what changed since. */
import { createHash } from 'node:crypto';
import type { EraVerdict } from '../model/era.js';
import { formatImageRef, parseImageRef, tryQualifyImageRef } from '../model/image-ref.js';
import type { StateData, StateStore } from '../store/state.js';
import { canonicalJson } from '../util/canonical-json.js';

/**
 * Pinning what the user approved, so an approved server cannot silently change under them:
 * - the IMAGE: the first approved start records the image's ID; a later start with another image for the same entry
 *   is refused until `mcp-registry approve <id>`;
 * - the TOOLS ("rug pull" defence): every tool's name, description and input schema is hashed on approval; when a
 *   restarted server presents changed or new tools, those are withheld (the rest keep working) until approved.
 *
 * Pins live in state.json under `pins` (so they share its lock and atomic writes). When something is withheld or
 * refused, what was presented is kept as `pending`; `approve` promotes pending to pinned.
 */

export interface ToolLike {
  name: string;
  description?: string;
  inputSchema?: unknown;
}

export interface ToolDiff {
  unchanged: string[];
  changed: { name: string; oldHash: string; newHash: string }[];
  added: string[];
  removed: string[];
}

export interface PendingPin {
  /** An image that was refused because it differs from the pinned one. */
  imageId?: string;
  imageRef?: string;
  /** The complete tool set last presented, when some of it was withheld: name → hash. */
  tools?: Record<string, string>;
  seenAt: string;
}

export interface PinRecord {
  imageId?: string;
  imageRef?: string;
  tools?: Record<string, string>;
  /**
   * The protocol era the server was found to speak on its first start (probed once; restarts reuse it, so a
   * container is never started twice to probe). Not an approval: dropped when a new image is approved.
   */
  era?: EraVerdict & { seenAt: string };
  approvedAt: string;
  by?: string;
  pending?: PendingPin;
}

export type ImageCheck =
  | { ok: true; firstUse: boolean }
  | { ok: false; oldId: string; newId: string; command: string; message: string };

export interface ToolCheck {
  /** True when these tools were just pinned (the entry's first approved start). */
  firstUse: boolean;
  /** Original tool names that may be mounted. */
  allowed: string[];
  withheld: { name: string; reason: 'changed' | 'new'; oldHash?: string; newHash: string }[];
  /** Approved tools the server no longer offers. */
  removed: string[];
  /** When something is withheld: the command that approves it, and a message saying what changed. */
  command?: string;
  message?: string;
}

export interface ApproveResult {
  entryId: string;
  /** False when there was nothing pending and nothing given: nothing changed. */
  changed: boolean;
  image?: { oldId?: string; newId: string; ref?: string };
  tools?: ToolDiff;
  message: string;
}

export interface PendingView {
  entryId: string;
  seenAt: string;
  image?: { oldId?: string; newId: string; ref?: string };
  tools?: ToolDiff;
}

// ---- hashing -----------------------------------------------------------------------------------------------

export { canonicalJson };

/** `sha256:<hex>` of a tool's name, description and input schema — the parts a model acts on. */
export function hashTool(t: ToolLike): string {
  const body = canonicalJson({ name: t.name, description: t.description ?? '', inputSchema: t.inputSchema ?? {} });
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

export function hashTools(tools: readonly ToolLike[]): Record<string, string> {
  return Object.fromEntries(tools.map((t) => [t.name, hashTool(t)]));
}

function diffHashes(approved: Record<string, string>, current: Record<string, string>): ToolDiff {
  const d: ToolDiff = { unchanged: [], changed: [], added: [], removed: [] };
  for (const [name, h] of Object.entries(current)) {
    const old = approved[name];
    if (old === undefined) d.added.push(name);
    else if (old === h) d.unchanged.push(name);
    else d.changed.push({ name, oldHash: old, newHash: h });
  }
  for (const name of Object.keys(approved)) if (!(name in current)) d.removed.push(name);
  d.unchanged.sort();
  d.added.sort();
  d.removed.sort();
  d.changed.sort((a, b) => a.name.localeCompare(b.name));
  return d;
}

/** How the tools a server presents now differ from the approved hashes. */
export function compareTools(approved: Record<string, string>, current: readonly ToolLike[]): ToolDiff {
  return diffHashes(approved, hashTools(current));
}

/** "changed: a, b; new: c; removed: d" (or "no changes"). */
export function describeToolDiff(d: ToolDiff): string {
  const parts: string[] = [];
  if (d.changed.length) parts.push(`changed: ${d.changed.map((c) => c.name).join(', ')}`);
  if (d.added.length) parts.push(`new: ${d.added.join(', ')}`);
  if (d.removed.length) parts.push(`removed: ${d.removed.join(', ')}`);
  return parts.join('; ') || 'no changes';
}

// ---- images ------------------------------------------------------------------------------------------------

const DIGEST_RE = /@(sha256:[0-9a-f]{64})$/;

/** The `sha256:…` digest an image reference names, if it names one. */
export function digestOf(ref: string): string | undefined {
  return DIGEST_RE.exec(ref.trim())?.[1];
}

/** For `requireDigest: true`: only references that name a digest may run. */
export function checkDigestRequired(ref: string, requireDigest: boolean): { ok: true } | { ok: false; reason: string } {
  if (!requireDigest || digestOf(ref)) return { ok: true };
  return {
    ok: false,
    reason: `${ref} is not pinned by digest, and policy.yaml sets requireDigest: true. Pin it in policy.yaml (entries: {"<id>": {image: "${ref.replace(/:[^/:@]+$/, '')}@sha256:<digest>"}}); podman image inspect --format '{{.Digest}}' ${ref} shows the digest of a local copy.`,
  };
}

/** Image IDs as podman prints them (bare hex) and as others write them (`sha256:` prefix) compare equal. */
export function normalizeImageId(id: string): string {
  return id.trim().toLowerCase().replace(/^sha256:/, '');
}

export const shortId = (id: string) => normalizeImageId(id).slice(0, 12);

/** "image 0123456789ab, 3 tools" (or "no image", "no tools"). */
export function pinSummary(pin: Pick<PinRecord, 'imageId' | 'tools'>): string {
  return `${pin.imageId ? `image ${shortId(pin.imageId)}` : 'no image'}, ${pin.tools ? `${Object.keys(pin.tools).length} tools` : 'no tools'}`;
}

/**
 * What to hand to `podman run`: a reference naming a digest runs by that digest (any tag dropped: the digest is
 * what was meant); otherwise the image ID that was just checked against the pin, so the image that runs is exactly
 * the one approved even if the tag moves in between; otherwise the reference as it is.
 */
export function imageRefForRun(ref: string, pinnedId?: string): string {
  if (digestOf(ref)) {
    const { domain, path, digest } = parseImageRef(ref.trim());
    return formatImageRef({ domain, path, digest });
  }
  return pinnedId ? normalizeImageId(pinnedId) : ref;
}

// ---- the store ---------------------------------------------------------------------------------------------

type Pins = Record<string, PinRecord>;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isHashMap = (v: unknown): v is Record<string, string> => isObj(v) && Object.values(v).every((x) => typeof x === 'string');

/** Pins as stored, dropping malformed records (hand edits) instead of failing on them. */
function readPins(d: StateData): Pins {
  const raw = isObj(d.pins) ? d.pins : {};
  const out: Pins = {};
  for (const [id, r] of Object.entries(raw)) {
    if (!isObj(r) || typeof r.approvedAt !== 'string') continue;
    const rec: PinRecord = { approvedAt: r.approvedAt };
    if (typeof r.imageId === 'string') rec.imageId = r.imageId;
    // Pins recorded before references were qualified name `mcp/x`: read as the `docker.io/mcp/x` they meant.
    if (typeof r.imageRef === 'string') rec.imageRef = tryQualifyImageRef(r.imageRef) ?? r.imageRef;
    if (isHashMap(r.tools)) rec.tools = r.tools;
    if (typeof r.by === 'string') rec.by = r.by;
    const era = readEra(r.era);
    if (era) rec.era = era;
    const p = r.pending;
    if (isObj(p) && typeof p.seenAt === 'string') {
      rec.pending = { seenAt: p.seenAt };
      if (typeof p.imageId === 'string') rec.pending.imageId = p.imageId;
      if (typeof p.imageRef === 'string') rec.pending.imageRef = tryQualifyImageRef(p.imageRef) ?? p.imageRef;
      if (isHashMap(p.tools)) rec.pending.tools = p.tools;
    }
    out[id] = rec;
  }
  return out;
}

function readEra(v: unknown): PinRecord['era'] {
  if (!isObj(v) || typeof v.seenAt !== 'string') return undefined;
  if (v.era === 'legacy') return { era: 'legacy', seenAt: v.seenAt };
  if (v.era === 'modern' && isObj(v.discover)) return { era: 'modern', discover: v.discover, seenAt: v.seenAt };
  return undefined;
}

function pendingEmpty(p: PendingPin | undefined): boolean {
  return !p || (p.imageId === undefined && p.tools === undefined);
}

export class PinStore {
  constructor(private readonly state: StateStore) {}

  /** Read-modify-write of the pins under the state lock. */
  private update<T>(fn: (pins: Pins) => T): Promise<T> {
    return this.state.update((d) => {
      const pins = readPins(d);
      const result = fn(pins);
      for (const [id, r] of Object.entries(pins)) if (r.pending && pendingEmpty(r.pending)) delete pins[id]!.pending;
      d.pins = pins;
      return result;
    });
  }

  async all(): Promise<Pins> {
    return readPins(await this.state.read());
  }

  async get(entryId: string): Promise<PinRecord | undefined> {
    return (await this.all())[entryId];
  }

  /**
   * Check the image about to run against the pin. The first start records it (`firstUse`); a different image is
   * refused and kept as pending for `approve`.
   */
  async checkImage(entryId: string, imageId: string, imageRef?: string, by = 'first start'): Promise<ImageCheck> {
    const id = normalizeImageId(imageId);
    // Every start checks; only a first use or a change writes (the lock and fsync cost more than the check).
    const seen = (await this.all())[entryId];
    if (seen?.imageId !== undefined) {
      if (normalizeImageId(seen.imageId) === id && seen.pending?.imageId === undefined) return { ok: true, firstUse: false };
      if (normalizeImageId(seen.imageId) !== id && seen.pending?.imageId === id) return imageRefusal(entryId, seen.imageId, id, imageRef);
    }
    return this.update((pins): ImageCheck => {
      const rec = pins[entryId];
      if (!rec || rec.imageId === undefined) {
        pins[entryId] = { ...(rec ?? { approvedAt: new Date().toISOString(), by }), imageId: id, ...(imageRef ? { imageRef } : {}) };
        return { ok: true, firstUse: true };
      }
      if (normalizeImageId(rec.imageId) === id) {
        if (rec.pending?.imageId !== undefined) rec.pending = { ...rec.pending, imageId: undefined, imageRef: undefined };
        return { ok: true, firstUse: false };
      }
      rec.pending = { ...rec.pending, imageId: id, ...(imageRef ? { imageRef } : {}), seenAt: new Date().toISOString() };
      return imageRefusal(entryId, rec.imageId, id, imageRef);
    });
  }

  /**
   * Check the tools a (re)started server presents. The first time they are pinned; later, changed and new tools
   * are withheld (and kept as pending for `approve`) while unchanged ones stay allowed.
   */
  async checkTools(entryId: string, tools: readonly ToolLike[], by = 'first start'): Promise<ToolCheck> {
    const current = hashTools(tools);
    // Unchanged tools, or the same change already pending: answered from a plain read, nothing written.
    const seen = (await this.all())[entryId];
    if (seen?.tools !== undefined) {
      const d = diffHashes(seen.tools, current);
      const unchanged = !d.changed.length && !d.added.length;
      if (unchanged && !seen.pending?.tools) return { firstUse: false, allowed: d.unchanged, withheld: [], removed: d.removed };
      if (!unchanged && seen.pending?.tools && canonicalJson(seen.pending.tools) === canonicalJson(current)) return toolWithholding(entryId, d, current);
    }
    return this.update((pins): ToolCheck => {
      const rec = pins[entryId];
      if (!rec || rec.tools === undefined) {
        pins[entryId] = { ...(rec ?? { approvedAt: new Date().toISOString(), by }), tools: current };
        return { firstUse: true, allowed: Object.keys(current), withheld: [], removed: [] };
      }
      const d = diffHashes(rec.tools, current);
      if (!d.changed.length && !d.added.length) {
        if (rec.pending?.tools) rec.pending = { ...rec.pending, tools: undefined };
        return { firstUse: false, allowed: d.unchanged, withheld: [], removed: d.removed };
      }
      rec.pending = { ...rec.pending, tools: current, seenAt: new Date().toISOString() };
      return toolWithholding(entryId, d, current);
    });
  }

  /** What is waiting for approval for an entry, with the difference to what is pinned. */
  async pending(entryId: string): Promise<PendingView | undefined> {
    const rec = await this.get(entryId);
    return rec ? viewPending(entryId, rec) : undefined;
  }

  async listPending(): Promise<PendingView[]> {
    const pins = await this.all();
    return Object.entries(pins)
      .map(([id, rec]) => viewPending(id, rec))
      .filter((v): v is PendingView => !!v)
      .sort((a, b) => a.entryId.localeCompare(b.entryId));
  }

  /**
   * Accept what is pending (or what is given: `imageId`, `tools` as presented now or as hashes) as the new pins.
   * With nothing pending and nothing given, nothing changes.
   */
  approve(entryId: string, given: { imageId?: string; imageRef?: string; tools?: readonly ToolLike[] | Record<string, string>; by?: string } = {}): Promise<ApproveResult> {
    return this.update((pins): ApproveResult => {
      const rec = pins[entryId];
      const givenTools = given.tools === undefined ? undefined : Array.isArray(given.tools) ? hashTools(given.tools as ToolLike[]) : (given.tools as Record<string, string>);
      const newImage = given.imageId !== undefined ? normalizeImageId(given.imageId) : rec?.pending?.imageId;
      const newRef = given.imageId !== undefined ? given.imageRef : rec?.pending?.imageRef;
      const newTools = givenTools ?? rec?.pending?.tools;
      if (newImage === undefined && newTools === undefined) {
        const what = rec ? `pinned: ${pinSummary(rec)}, approved ${rec.approvedAt}` : 'nothing is pinned yet; the first start pins it';
        return { entryId, changed: false, message: `Nothing is waiting for approval for ${entryId} (${what}).` };
      }
      const out: ApproveResult = { entryId, changed: true, message: '' };
      const next: PinRecord = { ...(rec ?? {}), approvedAt: new Date().toISOString(), by: given.by ?? 'mcp-registry approve' };
      const parts: string[] = [];
      if (newImage !== undefined) {
        out.image = { ...(rec?.imageId ? { oldId: rec.imageId } : {}), newId: newImage, ...(newRef ? { ref: newRef } : {}) };
        // Another image may speak another era: its first start probes again.
        if (rec?.imageId !== undefined && normalizeImageId(rec.imageId) !== newImage) delete next.era;
        next.imageId = newImage;
        if (newRef) next.imageRef = newRef;
        parts.push(`image ${shortId(newImage)}${rec?.imageId ? ` (was ${shortId(rec.imageId)})` : ''}`);
      }
      if (newTools !== undefined) {
        out.tools = diffHashes(rec?.tools ?? {}, newTools);
        next.tools = newTools;
        parts.push(`${Object.keys(newTools).length} tools (${describeToolDiff(out.tools)})`);
      }
      next.pending = undefined;
      delete next.pending;
      pins[entryId] = next;
      out.message = `Approved for ${entryId}: ${parts.join('; ')}. The next start uses them.`;
      return out;
    });
  }

  /** The era recorded for an entry's server, to connect without probing it (undefined: probe). */
  async era(entryId: string): Promise<EraVerdict | undefined> {
    const e = (await this.get(entryId))?.era;
    if (!e) return undefined;
    return e.era === 'modern' ? { era: 'modern', discover: e.discover } : { era: 'legacy' };
  }

  /**
   * Remember the era a start found, next to the entry's pins (written only when it changed). An entry without pins
   * (nothing was pinned: e.g. a remote whose tools policy does not pin) gets none: it is probed on every start.
   */
  async recordEra(entryId: string, verdict: EraVerdict): Promise<void> {
    const same = (e: PinRecord['era']) => !!e && canonicalJson({ ...e, seenAt: '' }) === canonicalJson({ ...verdict, seenAt: '' });
    const seen = (await this.all())[entryId];
    if (!seen || same(seen.era)) return;
    await this.update((pins) => {
      const rec = pins[entryId];
      if (rec && !same(rec.era)) rec.era = { ...verdict, seenAt: new Date().toISOString() };
    });
  }

  /** Drop every pin of an entry (the next start pins afresh). */
  forget(entryId: string): Promise<boolean> {
    return this.update((pins) => {
      const had = entryId in pins;
      delete pins[entryId];
      return had;
    });
  }
}

function viewPending(entryId: string, rec: PinRecord): PendingView | undefined {
  const p = rec.pending;
  if (!p || pendingEmpty(p)) return undefined;
  return {
    entryId,
    seenAt: p.seenAt,
    ...(p.imageId ? { image: { ...(rec.imageId ? { oldId: rec.imageId } : {}), newId: p.imageId, ...(p.imageRef ? { ref: p.imageRef } : {}) } } : {}),
    ...(p.tools ? { tools: diffHashes(rec.tools ?? {}, p.tools) } : {}),
  };
}

function imageRefusal(entryId: string, oldId: string, newId: string, imageRef?: string): ImageCheck {
  const command = `mcp-registry approve ${entryId}`;
  return {
    ok: false,
    oldId,
    newId,
    command,
    message:
      `${entryId} was not started: its image changed since it was approved (approved image ID ${shortId(oldId)}, now ${shortId(newId)}${imageRef ? ` for ${imageRef}` : ''}). ` +
      `If you trust the new image, run this in a terminal: ${command} — then start it again.`,
  };
}

function toolWithholding(entryId: string, d: ToolDiff, current: Record<string, string>): ToolCheck {
  const withheld = [
    ...d.changed.map((c) => ({ name: c.name, reason: 'changed' as const, oldHash: c.oldHash, newHash: c.newHash })),
    ...d.added.map((name) => ({ name, reason: 'new' as const, newHash: current[name]! })),
  ];
  const command = `mcp-registry approve ${entryId}`;
  return {
    firstUse: false,
    allowed: d.unchanged,
    withheld,
    removed: d.removed,
    command,
    message: `${entryId} presents tools that differ from the ones approved (${describeToolDiff(d)}); ${withheld.length === 1 ? 'that tool is' : 'those tools are'} withheld until approved, the others work. Review the change, then run: ${command}`,
  };
}
