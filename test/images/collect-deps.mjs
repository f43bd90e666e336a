// Prints, one per line, the node_modules directories (relative to ROOT) that the named packages need at run time:
// the packages themselves plus their dependencies, optional dependencies that are installed, and required peer
// dependencies, resolved the way Node does (nearest node_modules upwards). Used to copy just enough of the host's
// node_modules into a test image.
//
//   node test/images/collect-deps.mjs ROOT PACKAGE...
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const [root, ...wanted] = process.argv.slice(2);
if (!root || wanted.length === 0) {
  process.stderr.write('usage: node collect-deps.mjs ROOT PACKAGE...\n');
  process.exit(2);
}

/** The directory of package `name` as seen from directory `from` (a package dir or the root). */
function resolvePkg(name, from) {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root || dirname(dir) === dir) return null;
  }
}

const found = new Set();
const queue = wanted.map((name) => ({ name, from: root, optional: false, by: '(command line)' }));
while (queue.length) {
  const { name, from, optional, by } = queue.shift();
  const dir = resolvePkg(name, from);
  if (!dir) {
    if (optional) continue;
    process.stderr.write(`collect-deps: ${name} (needed by ${by}) is not installed; run npm ci first\n`);
    process.exit(1);
  }
  if (found.has(dir)) continue;
  found.add(dir);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const peerMeta = pkg.peerDependenciesMeta ?? {};
  for (const dep of Object.keys(pkg.dependencies ?? {})) queue.push({ name: dep, from: dir, optional: false, by: pkg.name });
  for (const dep of Object.keys(pkg.optionalDependencies ?? {})) queue.push({ name: dep, from: dir, optional: true, by: pkg.name });
  for (const dep of Object.keys(pkg.peerDependencies ?? {})) {
    queue.push({ name: dep, from: dir, optional: Boolean(peerMeta[dep]?.optional), by: pkg.name });
  }
}
process.stdout.write([...found].map((d) => relative(root, d)).sort().join('\n') + '\n');
