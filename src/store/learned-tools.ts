/** Tool lists seen when servers started (state/learned-tools.json): tool search knows them after the server stops. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ToolInfoSchema, type ToolInfo } from '../model/entry.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { errorMessage, type Logger } from '../util/log.js';

/*
 * Every start of a server hands its tool list here (name, description, compact input schema, annotations); it is
 * kept per entry id, the latest list replacing the one before, so registry-find kind "tools" finds the tools of a
 * server started once and stopped since (origin "learned") even where the catalog declares none. One small JSON
 * file, written atomically after a change (a few starts in a row make one write); a torn or unreadable file is an
 * empty store (it is a cache of what servers said, rebuilt by their next starts).
 */

const FILE = 'learned-tools.json';
const WRITE_DELAY_MS = 200;

interface Stored {
  seenAt: string;
  tools: ToolInfo[];
}

export class LearnedTools {
  private byId = new Map<string, Stored>();
  private snapshot: ReadonlyMap<string, readonly ToolInfo[]> = new Map();
  private loading: Promise<void> | null = null;
  private writing: NodeJS.Timeout | null = null;
  private flushed: Promise<void> = Promise.resolve();

  constructor(
    private readonly stateDir: string,
    private readonly log?: Logger,
  ) {}

  get file(): string {
    return join(this.stateDir, FILE);
  }

  /** Read the file once (later calls wait for the same read). */
  load(): Promise<void> {
    this.loading ??= (async () => {
      let raw: unknown;
      try {
        raw = JSON.parse(await readFile(this.file, 'utf8'));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log?.warn(`${this.file} is unreadable (${errorMessage(err)}); tool lists are learned again as servers start`);
        return;
      }
      for (const [id, v] of Object.entries(typeof raw === 'object' && raw !== null ? raw : {})) {
        const tools = Array.isArray((v as Stored)?.tools) ? (v as Stored).tools.flatMap((t) => ToolInfoSchema.safeParse(t).data ?? []) : [];
        // A start recorded while the file was being read is newer than what the file says.
        if (tools.length && !this.byId.has(id)) this.byId.set(id, { seenAt: String((v as Stored).seenAt ?? ''), tools });
      }
      this.renew();
    })();
    return this.loading;
  }

  /** Tools by entry id (the same map object until something changes, so callers can key caches on it). */
  all(): ReadonlyMap<string, readonly ToolInfo[]> {
    return this.snapshot;
  }

  /** A server started and listed these tools. */
  record(id: string, tools: ToolInfo[]): void {
    const prev = this.byId.get(id);
    if (prev && JSON.stringify(prev.tools) === JSON.stringify(tools)) return;
    this.byId.set(id, { seenAt: new Date().toISOString(), tools });
    this.renew();
    if (this.writing) return;
    this.writing = setTimeout(() => {
      this.writing = null;
      this.flushed = this.write();
    }, WRITE_DELAY_MS);
    this.writing.unref();
  }

  /** Write now what is pending (tests; a stop). */
  async flush(): Promise<void> {
    if (this.writing) {
      clearTimeout(this.writing);
      this.writing = null;
      this.flushed = this.write();
    }
    await this.flushed;
  }

  private async write(): Promise<void> {
    await this.load();
    await writeJsonAtomic(this.file, Object.fromEntries(this.byId), 0o600).catch((err) => this.log?.warn(`could not save learned tool lists: ${errorMessage(err)}`));
  }

  private renew(): void {
    this.snapshot = new Map([...this.byId].map(([id, s]) => [id, s.tools]));
  }
}
