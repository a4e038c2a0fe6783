// Adds up the Vitest and Playwright JSON reports of one test run and prints the closing line
// "N passed, N failed" (", N skipped" when any were skipped). Exits 1 when a report is missing,
// anything failed, or nothing ran at all.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const expected = ['unit.json', 'kernels-swiftshader.json', 'kernels-lavapipe.json', 'e2e.json'];
let passed = 0, failed = 0, skipped = 0, missing = [];

for (const name of expected) {
  const file = join(dir, name);
  if (!existsSync(file)) { missing.push(name); continue; }
  const r = JSON.parse(readFileSync(file, 'utf8'));
  if ('numPassedTests' in r) { // Vitest
    passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + (r.numTodoTests ?? 0);
    if (r.success === false && r.numFailedTests === 0) failed += 1; // unhandled error or failed suite
    console.log(`${name}: ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
  } else { // Playwright
    const s = r.stats;
    passed += s.expected + s.flaky; failed += s.unexpected; skipped += s.skipped;
    if ((r.errors ?? []).length) failed += r.errors.length;
    console.log(`${name}: ${s.expected + s.flaky} passed, ${s.unexpected} failed`);
  }
}
for (const m of missing) console.log(`${m}: no report (the tier did not run)`);
console.log(`${passed} passed, ${failed + missing.length} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed || missing.length || passed === 0 ? 1 : 0);
