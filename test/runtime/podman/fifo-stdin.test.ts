import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { FIFO_CAPACITY, withFifoStdin } from '../../../src/runtime/podman/fifo-stdin.js';

const leftovers = async () => (await readdir(tmpdir())).filter((n) => n.startsWith('mcp-registry-fifo-'));

describe('withFifoStdin', () => {
  it('gives the child a FIFO on stdin that holds the value and then ends', async () => {
    const before = await leftovers();
    const r = await withFifoStdin('tøp-secret\nline2', (fd) =>
      execa('sh', ['-c', 'test -p /dev/stdin && echo is-fifo; cat'], { stdin: fd as 3, reject: false, timeout: 10_000 }),
    );
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('is-fifo\ntøp-secret\nline2');
    expect(await leftovers()).toEqual(before);
  });

  it('refuses a value larger than one pipe buffer instead of hanging', async () => {
    const big = 'x'.repeat(FIFO_CAPACITY + 1);
    await expect(withFifoStdin(big, async () => 'ran')).rejects.toThrow(/at most 65536/);
  });

  it('removes the FIFO when the child fails', async () => {
    const before = await leftovers();
    await expect(withFifoStdin('v', async () => { throw new Error('child failed'); })).rejects.toThrow('child failed');
    expect(await leftovers()).toEqual(before);
  });
});
