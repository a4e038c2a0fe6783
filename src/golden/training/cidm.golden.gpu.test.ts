import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import type { GoldenManifest } from '../case-file';
import { formatResult } from '../result';
import { cidmGroupCase, type CidmSpecJson } from './cidm-case';
import { openGroup } from './group-view';

const DIR = fileURLToPath(new URL('../../../golden-training/', import.meta.url));

describe('CIDM training step vs torch autograd (golden-training)', () => {
  for (const dtype of TEST_ADAPTER === 'lavapipe' ? (['f32', 'f16'] as const) : (['f32'] as const)) {
    it(`every loss, tap, gradient and AdamW result (${dtype})`, async () => {
      const ctx = await testContext();
      const manifest = JSON.parse(readFileSync(DIR + 'manifest.json', 'utf8')) as GoldenManifest & { cidm_spec: CidmSpecJson };
      const cases = Object.entries(manifest.cases).filter(([, e]) => e.group === 'cidm');
      const g = await openGroup(DIR, cases, manifest.cidm_spec);
      try {
        const results = await cidmGroupCase(ctx, dtype, g);
        const bad = results.filter((r) => r.status !== 'PASS');
        const worst = [...results].sort((a, b) => (b.maxRel ?? 0) - (a.maxRel ?? 0)).slice(0, 5);
        console.log(`[cidm ${dtype}] ${results.length} tensors; worst: ${worst.map(formatResult).join(' | ')}`);
        expect(bad.map(formatResult)).toEqual([]);
        expect(results.length).toBeGreaterThan(1000);
      } finally {
        await g.close();
      }
    }, 900_000);
  }
});
