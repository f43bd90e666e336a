/** Settings and secrets of entries: validated against the launch that runs, stored, and the snapshot of which names are set. */
import type { Entry } from '../../model/entry.js';
import { launchEntry, pickLaunch } from '../../model/launch-choice.js';
import { errorMessage } from '../../util/log.js';
import { ToolError } from '../../model/tool-contract.js';
import { Room } from './mount.js';
import { load } from './start.js';

const CONFIGURED_TTL_MS = 3_000;

/** Stores what registry-add and registry-config-set are given, and answers which names are set without waiting. */
export class Values extends Room {
  private configuredNames = new Map<string, Set<string>>();
  private configuredAt = 0;

  /**
   * Setting and secret names already set for an entry (registry-find drops them from requiresConfig). Synchronous
   * for the catalog views, so it answers from a snapshot refreshed after every change made here and, at most every
   * few seconds, from disk (another registry process may have changed it).
   */
  configured(entry: Entry): Set<string> {
    if (Date.now() - this.configuredAt > CONFIGURED_TTL_MS) void this.refreshConfigured();
    return this.configuredNames.get(entry.id) ?? new Set();
  }

  async refreshConfigured(): Promise<void> {
    this.configuredAt = Date.now();
    try {
      // One read of each file (the secrets file used to be read once per entry).
      const [state, secrets] = await Promise.all([this.deps.state.read(), this.deps.secrets.namesByEntry()]);
      const next = new Map<string, Set<string>>();
      for (const [id, settings] of Object.entries(state.settings)) next.set(id, new Set(Object.keys(settings)));
      for (const [id, names] of Object.entries(secrets)) {
        if (!names.length) continue;
        const set = next.get(id) ?? new Set<string>();
        for (const n of names) set.add(n);
        next.set(id, set);
      }
      this.configuredNames = next;
    } catch (err) {
      this.log.debug(`could not read settings: ${errorMessage(err)}`);
    }
  }

  /** Validate (against what the launch of `source` declares) and store settings and secrets; the names that were set. */
  async storeValues(entry: Entry, values: Record<string, unknown>, source: string | undefined): Promise<string[]> {
    const { validateSettings, combinedProblems } = await load.settings();
    const choice = source !== undefined ? pickLaunch(entry, source) : undefined;
    const view = choice?.ok ? launchEntry(entry, choice.choice) : entry;
    const v = validateSettings(view, values);
    if (!v.errors.length) {
      // Checked against what is stored: the entry's total, and secret values that a setting would expose.
      const [settings, secrets] = await Promise.all([this.deps.state.settings(entry.id), this.deps.secrets.byEntry()]);
      v.errors.push(...combinedProblems(view, { settings, secrets: secrets[entry.id] ?? {} }, v, secrets));
    }
    if (v.errors.length) {
      throw new ToolError(`Not saved — ${v.errors.join('; ')}. Fix these and call again (nothing was changed).`);
    }
    const set: string[] = [];
    if (Object.keys(v.settings).length) {
      await this.deps.state.setSettings(entry.id, v.settings);
      set.push(...Object.keys(v.settings));
    }
    if (Object.keys(v.secrets).length) {
      // Known to the redactor before they can reach any child.
      this.deps.redactor.add(Object.values(v.secrets));
      await this.deps.secrets.set(entry.id, v.secrets);
      set.push(...Object.keys(v.secrets));
    }
    await this.refreshConfigured();
    return set;
  }
}
