// Pins as people read them: what is pinned, what waits for approval and what is withheld now — the text and
// structured details registry-info and `mcp-registry policy <id>` show.
import { describeToolDiff, pinSummary, shortId, type PinStore } from './pins.js';

/** A tool a running mount withholds (runtime's WithheldTool), as far as the details show it. */
export interface WithheldView {
  name: string;
  reason: string;
  description?: string;
}

/** Pins, changes waiting for approval and withheld tools of an entry (registry-info); undefined when none. */
export async function pinDetails(pins: PinStore, entryId: string, withheld?: WithheldView[]): Promise<{ text: string[]; structured: Record<string, unknown> } | undefined> {
  const [pin, pending] = await Promise.all([pins.get(entryId), pins.pending(entryId)]);
  if (!pin && !pending && !withheld) return undefined;
  const text: string[] = [];
  if (pin) text.push(`Pinned: ${pinSummary(pin)} (approved ${pin.approvedAt}${pin.by ? ` by ${pin.by}` : ''})`);
  if (pending) {
    const parts = [pending.image ? `image changed to ${shortId(pending.image.newId)}${pending.image.oldId ? ` (approved ${shortId(pending.image.oldId)})` : ''}` : '', pending.tools ? `tools ${describeToolDiff(pending.tools)}` : ''].filter(Boolean);
    text.push(`Waiting for approval: ${parts.join('; ')} — run in a terminal: mcp-registry approve ${entryId}`);
  }
  if (withheld) text.push(`Withheld now: ${withheld.map((w) => `${w.name} (${w.reason})${w.description ? ` — now described as: ${w.description}` : ''}`).join('; ')}`);
  return {
    text,
    structured: {
      ...(pin ? { pinned: { imageId: pin.imageId, imageRef: pin.imageRef, tools: pin.tools ? Object.keys(pin.tools).sort() : undefined, approvedAt: pin.approvedAt, by: pin.by } } : {}),
      ...(pending ? { pending } : {}),
      ...(withheld ? { withheld } : {}),
    },
  };
}
