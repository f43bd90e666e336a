// A file's identity on disk (mtime, size, inode): an edited, replaced, created or deleted file has another stamp.
import { stat } from 'node:fs/promises';

/** The stamp of a file that does not exist (or cannot be stat'ed). */
export const ABSENT = 'absent';

/** `mtime:size:ino`, or ABSENT: one stat, for "did it change since I read it?" checks. */
export async function fileStamp(file: string): Promise<string> {
  const st = await stat(file).catch(() => null);
  return st ? `${st.mtimeMs}:${st.size}:${st.ino}` : ABSENT;
}
