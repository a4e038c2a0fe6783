/**
 * The golden runner (npm run golden) over the repository's copy of the training golden set, in the test
 * command: f32 on SwiftShader, f16 storage on lavapipe. Every tensor of the CIDM step (losses, forward
 * taps, every gradient, the AdamW state) and every per-op backward case must PASS; none may SKIP.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { testContext, TEST_ADAPTER } from '../gpu-harness';
import { runGolden } from '../../src/golden/runner';
import type { GoldenManifest } from '../../src/golden/case-file';

const DIR = 'golden-training';

describe(`training golden cases on ${TEST_ADAPTER}`, () => {
  it('passes every case of golden-training/', async () => {
    const ctx = await testContext();
    const dtype = ctx.hasF16 ? 'f16' : 'f32';
    const manifest = JSON.parse(readFileSync(`${DIR}/manifest.json`, 'utf8')) as GoldenManifest;
    const results = await runGolden(ctx, DIR, { dtype, onResult: (r, line) => r.status !== 'PASS' && console.log(`[golden-training ${dtype}] ${line}`) });
    const worst = [...results].sort((a, b) => (b.maxRel ?? 0) - (a.maxRel ?? 0)).slice(0, 3);
    console.log(`[golden-training ${dtype}] ${results.length} results; worst ${worst.map((r) => `${r.name} ${r.maxRel?.toExponential(2)}/${r.tol}`).join(', ')}`);
    expect(results.filter((r) => r.status === 'SKIP').map((r) => `${r.name}: ${r.why}`)).toEqual([]);
    const failed = results.filter((r) => r.status === 'FAIL');
    expect(failed.map((r) => `${r.name}: ${r.why ?? r.maxRel}`)).toEqual([]);
    // Every case of the set produced results: each per-op case, and every tensor of the CIDM step.
    for (const [name, entry] of Object.entries(manifest.cases)) {
      if (entry.group === 'ops_backward') expect(results.some((r) => r.name.startsWith(`${name}[`)), `${name} ran`).toBe(true);
    }
    const stepTensors = Object.values(manifest.cases)
      .filter((e) => e.group === 'cidm')
      .flatMap((e) => Object.keys(e.tensors))
      .filter((t) => /^(loss|intermediate|grad|grad_masked|grad_reg|adamw|adamw_masked)\./.test(t));
    for (const t of stepTensors) expect(results.some((r) => r.name.endsWith(`[${t}]`)), `${t} compared`).toBe(true);
  }, 1_800_000);
});
