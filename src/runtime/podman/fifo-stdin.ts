/** A value handed to a child as a FIFO on its stdin: for tools (podman secret create NAME -) that refuse a socket. */
import { constants } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

/** What one FIFO can hold without a reader draining it (Linux's default pipe buffer). */
export const FIFO_CAPACITY = 64 * 1024;

/**
 * Run `use(fd)` with `fd` the read end of a FIFO that holds `value` and has no writer left, so the child that gets it
 * as stdin reads the value and then end-of-file. Node's own stdin pipes are socketpairs, which podman rejects; a shell
 * with `cat` in between would work but is a shell. The value never touches the disk: the FIFO is only a name in a
 * 0700 directory, removed before returning.
 */
export async function withFifoStdin<T>(value: string, use: (fd: number) => Promise<T>): Promise<T> {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > FIFO_CAPACITY) throw new Error(`value is ${bytes.length} bytes; at most ${FIFO_CAPACITY} can be passed this way`);
  const dir = await mkdtemp(join(tmpdir(), 'mcp-registry-fifo-'));
  let reader: FileHandle | undefined;
  try {
    const path = join(dir, 'value');
    const made = await execa('mkfifo', ['-m', '600', '--', path], { reject: false, stdin: 'ignore' });
    if (made.failed) throw new Error(`cannot create a FIFO: ${String(made.stderr || made.shortMessage)}`);
    // A non-blocking reader opened first lets the writer open at once and keeps the written bytes in the pipe.
    reader = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = await open(path, constants.O_WRONLY | constants.O_NONBLOCK);
    try {
      await writer.write(bytes);
    } finally {
      await writer.close();
    }
    return await use(reader.fd);
  } finally {
    await reader?.close();
    await rm(dir, { recursive: true, force: true });
  }
}
