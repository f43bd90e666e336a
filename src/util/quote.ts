// How a message repeats a value the user supplied: quoted, control characters escaped, bounded.

/** How much of a user-supplied value a message repeats: enough to recognise it, never megabytes of it. */
const ECHO_MAX = 60;

/** A user-supplied value as a message shows it: quoted (control characters escaped), at most ECHO_MAX characters. */
export function quoteInput(value: unknown, max = ECHO_MAX): string {
  const s = typeof value === 'string' ? value : String(value);
  return JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);
}
