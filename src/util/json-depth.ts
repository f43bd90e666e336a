/**
 * Whether a parsed JSON value nests objects or arrays more than `max` levels deep (`{}` is one level). Iterative, so
 * hostile input cannot overflow the stack here; JSON.stringify and recursive walkers elsewhere can (≈ 10,000 levels
 * is enough on Node 20), so deep values are refused before they reach them.
 */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return true;
    for (const x of Array.isArray(v) ? v : Object.values(v)) if (x !== null && typeof x === 'object') stack.push([x, depth + 1]);
  }
  return false;
}
