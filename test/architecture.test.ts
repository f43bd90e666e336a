// The dependency rule of src/ (scripts/layers.mjs, docs/architecture.md) holds: no import the table does not allow,
// no cycle between the top-level parts, runtime and governance import nothing of the tool layer or of http, and
// every file of src/ is part of the program (reached from cli.ts).
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain .mjs script without type declarations
import { ALLOWED, cycles, edges, unreachable, violations } from '../scripts/layers.mjs';

type Edge = { from: string; to: string; file: string; spec: string };

describe('layers of src/', () => {
  it('every import between parts is one the table allows', () => {
    const bad = (violations() as Edge[]).map((e) => `${e.file} imports ${e.spec} (${e.from} → ${e.to})`);
    expect(bad).toEqual([]);
  });

  it('no cycle between the top-level parts', () => {
    expect(cycles()).toEqual([]);
  });

  it('runtime and governance import nothing of tools/, http/ or commands/', () => {
    const up = (edges() as Edge[]).filter((e) => ['runtime', 'governance'].includes(e.from) && ['tools', 'http', 'commands'].includes(e.to));
    expect(up).toEqual([]);
    expect((ALLOWED as Record<string, string[]>).runtime).not.toContain('tools');
    expect((ALLOWED as Record<string, string[]>).governance).not.toContain('runtime');
  });

  it('every src/ file is reached from cli.ts: no module only tests or benchmarks use ships in the package', () => {
    expect(unreachable()).toEqual([]);
  });

  it('the check sees real imports (a part that imports another is found)', () => {
    const found = (edges() as Edge[]).some((e) => e.from === 'tools' && e.to === 'runtime');
    expect(found).toBe(true);
  });
});
