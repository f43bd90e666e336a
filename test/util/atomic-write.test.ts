import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Catalog } from '../../src/catalog/catalog.js';
import { parseConfig } from '../../src/config/config.js';
import { createSource } from '../../src/sources/index.js';
import { repoRoot } from '../helpers/shared-data.js';

/** Leftovers (issue 10.8): a run that ends while a write is in flight leaves no `.catalog.json.*.tmp` behind. */
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'atomic-write-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const temps = async (d: string) => (await readdir(d)).filter((f) => f.endsWith('.tmp'));

describe('writeFileAtomic', () => {
  it('a process that exits in the middle of a write removes its temp file on the way out', async () => {
    // The built module, as the server runs it; the process exits (as a quick stop does) once the temp file exists.
    const mod = pathToFileURL(join(repoRoot, 'dist/util/atomic-write.js')).href;
    const script = `
      import { readdirSync } from 'node:fs';
      const { writeFileAtomic } = await import(${JSON.stringify(mod)});
      const dir = ${JSON.stringify(dir)};
      const timer = setInterval(() => { if (readdirSync(dir).some((f) => f.endsWith('.tmp'))) process.exit(0); }, 1);
      await writeFileAtomic(dir + '/catalog.json', Buffer.alloc(128 * 1024 * 1024, 120));
      clearInterval(timer);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'inherit', 'inherit'] });
    expect(await new Promise((r) => child.on('exit', r))).toBe(0);
    expect(existsSync(join(dir, 'catalog.json'))).toBe(false); // it did stop mid-write
    expect(await temps(dir)).toEqual([]);
  });

  it('temp files of killed processes are swept when the catalog loads; a live process keeps its own', async () => {
    const cache = join(dir, 'cache');
    await mkdir(join(cache, 'sources'), { recursive: true });
    const dead = '.catalog.json.999999999.deadbeef.tmp';
    const deadSnapshot = '.docker.json.999999998.0badf00d.tmp';
    const live = `.search-index.bin.${process.ppid}.cafebabe.tmp`;
    await writeFile(join(cache, dead), 'x');
    await writeFile(join(cache, live), 'x');
    await writeFile(join(cache, 'sources', deadSnapshot), 'x');
    const cfg = parseConfig({ sources: [{ name: 'mine', type: 'file', path: join(repoRoot, 'test/fixtures/runtime-catalog') }] }, dir);
    await new Catalog(cfg, cache, join(dir, 'sources'), createSource).load();
    await expect.poll(() => temps(cache)).toEqual([live]);
    await expect.poll(() => temps(join(cache, 'sources'))).toEqual([]);
  });
});
