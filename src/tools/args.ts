// Arguments and annotations several registry tools share (one definition, so their schemas cannot drift apart).
import { z } from 'zod';
import { CONTROL_CHARS } from '../model/entry.js';
import { CONTROL_PROBLEM } from '../catalog/lookups.js';

/** The `id` argument of the tools that take an entry id or alias. */
export const EntryIdArg = z
  .string()
  .trim()
  .min(1, 'id is empty: pass an id from registry-find, e.g. "docker/postgres"')
  .max(300)
  .refine((s) => !CONTROL_CHARS.test(s), { message: `the id ${CONTROL_PROBLEM}` });

/** Longer than any source name config.yaml could hold: refused before it is looked up or echoed. */
export const SOURCE_NAME_MAX = 100;

/** The annotations of a tool that only reads the catalog. */
export const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;
