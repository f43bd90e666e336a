#!/usr/bin/env node
// Runs every benchmark module in scripts/bench/ and prints each figure next to its baseline and target.
// (Its subfolders hold helpers the benchmarks start, not benchmarks.)
// Usage: npm run bench [-- name ...]   (e.g. npm run bench -- search startup)
import { readdir } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'bench');
const only = process.argv.slice(2);
const order = ['search', 'startup', 'docker', 'runtime', 'http'];
const files = (await readdir(dir)).filter((f) => f.endsWith('.mjs')).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
function rank(f) {
  const i = order.indexOf(f.replace(/\.mjs$/, ''));
  return i < 0 ? 99 : i;
}

const rows = [];
function fmt(v) {
  return typeof v === 'number' ? (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3)) : String(v ?? '');
}
let failed = 0;
for (const f of files) {
  const name = f.replace(/\.mjs$/, '');
  if (only.length && !only.includes(name)) continue;
  console.log(`\n== ${name} ==`);
  const mod = await import(pathToFileURL(join(dir, f)).href);
  // report(name, value, unit, baseline?, target?)
  const report = (label, value, unit = '', baseline, target) => {
    rows.push({ group: name, label, value, unit, baseline, target });
    const base = baseline === undefined ? '' : `   baseline ${fmt(baseline)} ${unit}`;
    console.log(`  ${label.padEnd(58)} ${fmt(value).padStart(10)} ${unit}${base}${target ? `   (target ${target})` : ''}`);
  };
  try {
    await mod.run(report);
  } catch (err) {
    failed++;
    console.log(`  ${name} failed: ${err?.stack ?? err}`);
  }
}
console.log(`\n${rows.length} figures${failed ? `, ${failed} benchmark module(s) failed` : ''}`);
process.exitCode = failed ? 1 : 0;
