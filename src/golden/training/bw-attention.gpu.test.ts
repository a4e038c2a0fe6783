/**
 * The attention backward candidates against the per-op backward goldens of golden-training/: every case
 * of the manifest's `ops_backward` group is offered to ATTENTION_CANDIDATES, which pick cases by content
 * alone (accepts); the accepting candidate whose forward reproduces `output` must give every grad.* of
 * the case within tolerance (f32 1e-4, f16 storage 5e-3 of max|ref|).
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import { compare, describeComparison } from '../../../tests/numeric';
import type { DType } from '../../gpu/tensor';
import { GoldenCase, readManifest } from '../case-file';
import { ATTENTION_CANDIDATES } from './bw-attention';
import type { HostTensor, OpBackwardCaseView } from './op-backward';

const DIR = fileURLToPath(new URL('../../../golden-training/', import.meta.url));
const TOLERANCE: Record<DType, number> = { f32: 1e-4, f16: 5e-3 };

async function loadOpCases(): Promise<{ name: string; view: OpBackwardCaseView }[]> {
  const manifest = readManifest(DIR);
  const out = [];
  for (const [name, entry] of Object.entries(manifest.cases)) {
    if (entry.group !== 'ops_backward') continue;
    const file = await GoldenCase.open(DIR, name, entry);
    const tensors = new Map<string, HostTensor>();
    for (const t of Object.keys(entry.tensors)) tensors.set(t, { shape: file.shape(t), data: await file.f32(t) });
    await file.close();
    out.push({ name, view: { tensors, params: (entry.params as Record<string, unknown> | undefined) ?? {} } });
  }
  return out;
}

async function checkDtype(dtype: DType): Promise<void> {
  const ctx = await testContext();
  let matched = 0;
  for (const c of await loadOpCases()) {
    const candidates = ATTENTION_CANDIDATES.filter((k) => k.accepts(c.view));
    if (!candidates.length) continue;
    const runs = [];
    for (const k of candidates) {
      const got = await checked(ctx, `${k.op} on ${c.name}`, () => k.run(ctx, dtype, c.view));
      const fwd = compare(got.get('output')!, c.view.tensors.get('output')!.data);
      console.log(`${c.name} ${dtype} ${k.op}: output ${describeComparison(fwd)}`);
      runs.push({ k, got, fwd });
    }
    const hit = runs.find((r) => r.fwd.maxRel <= TOLERANCE[dtype]);
    expect(hit, `${c.name}: no accepting candidate reproduces the forward`).toBeDefined();
    const grads = [...c.view.tensors.keys()].filter((n) => n.startsWith('grad.'));
    expect(grads.length, `${c.name} has gradients`).toBeGreaterThan(0);
    for (const g of grads) {
      const got = hit!.got.get(g);
      expect(got, `${c.name}: ${hit!.k.op} does not produce ${g}`).toBeDefined();
      const r = compare(got!, c.view.tensors.get(g)!.data);
      console.log(`${c.name} ${dtype} ${hit!.k.op}: ${g} ${describeComparison(r)}`);
      expect(r.maxRel, `${c.name} ${g}`).toBeLessThanOrEqual(TOLERANCE[dtype]);
    }
    matched++;
  }
  // The set holds attention cases (self and cross): finding none would mean accepts() is broken.
  expect(matched).toBeGreaterThanOrEqual(2);
}

describe(`attention backward goldens on ${TEST_ADAPTER}`, () => {
  it('matches output, grad.q, grad.k and grad.v in f32', async () => {
    await checkDtype('f32');
  }, 600_000);

  it('matches in f16 storage where shader-f16 exists (inputs rounded on upload)', async () => {
    const ctx = await testContext();
    if (TEST_ADAPTER === 'lavapipe') {
      expect(ctx.hasF16).toBe(true);
      await checkDtype('f16');
    } else {
      expect(ctx.hasF16).toBe(false);
    }
  }, 600_000);
});
