/**
 * The pointwise backward candidates against the per-op backward goldens of golden-training/: every case
 * of the manifest's `ops_backward` group is offered to POINTWISE_CANDIDATES, which pick cases by content
 * alone (accepts). Where several accept a case (groupnorm / groupnorm+silu; softmax / the activations),
 * each runs and the one whose forward best reproduces `output` is kept, as the runner does; it must
 * then give every grad.* of the case within tolerance.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import { compare, describeComparison, type Comparison } from '../../../tests/numeric';
import type { DType } from '../../gpu/tensor';
import { GoldenCase, readManifest } from '../case-file';
import { TOLERANCE } from '../env';
import { POINTWISE_CANDIDATES } from './bw-pointwise';
import type { HostTensor, OpBackwardCandidate, OpBackwardCaseView } from './op-backward';

const DIR = fileURLToPath(new URL('../../../golden-training/', import.meta.url));
/** max |Δ| / max |ref|: f32 1e-4, f16 5e-3 (inputs rounded to f16 on upload, f16 storage). */
const TOL: Record<DType, number> = { f32: TOLERANCE.f32.op, f16: TOLERANCE.f16.op };
const DTYPES: DType[] = TEST_ADAPTER === 'lavapipe' ? ['f32', 'f16'] : ['f32'];

interface LoadedCase {
  name: string;
  view: OpBackwardCaseView;
}

async function loadOpCases(): Promise<LoadedCase[]> {
  const manifest = readManifest(DIR);
  const out: LoadedCase[] = [];
  for (const [name, entry] of Object.entries(manifest.cases)) {
    if (entry.group !== 'ops_backward') continue;
    const file = await GoldenCase.open(DIR, name, entry);
    try {
      const tensors = new Map<string, HostTensor>();
      for (const t of Object.keys(entry.tensors)) tensors.set(t, { shape: file.shape(t), data: await file.f32(t) });
      out.push({ name, view: { tensors, params: (entry.params as Record<string, unknown> | undefined) ?? {} } });
    } finally {
      await file.close();
    }
  }
  return out;
}

interface Run {
  k: OpBackwardCandidate;
  got: Map<string, Float32Array>;
  fwd: Comparison;
}

/** Checks every case some candidate accepts; returns the op chosen for each. */
async function checkAll(dtype: DType): Promise<Map<string, string>> {
  const ctx = await testContext();
  const chosen = new Map<string, string>();
  for (const c of await loadOpCases()) {
    const candidates = POINTWISE_CANDIDATES.filter((k) => k.accepts(c.view));
    if (!candidates.length) continue;
    const runs: Run[] = [];
    for (const k of candidates) {
      const got = await checked(ctx, `${k.op} on ${c.name}`, () => k.run(ctx, dtype, c.view));
      const fwd = compare(got.get('output')!, c.view.tensors.get('output')!.data);
      console.log(`${c.name} ${dtype} candidate ${k.op}: output ${describeComparison(fwd)}`);
      runs.push({ k, got, fwd });
    }
    const best = runs.reduce((a, b) => (b.fwd.maxRel < a.fwd.maxRel ? b : a));
    expect(best.fwd.maxRel, `${c.name}: no accepting candidate reproduces the forward`).toBeLessThanOrEqual(TOL[dtype]);
    const grads = [...c.view.tensors.keys()].filter((n) => n.startsWith('grad.'));
    expect(grads.length, `${c.name} has gradients`).toBeGreaterThan(0);
    for (const g of grads) {
      const got = best.got.get(g);
      expect(got, `${c.name}: ${best.k.op} does not produce ${g}`).toBeDefined();
      const r = compare(got!, c.view.tensors.get(g)!.data);
      console.log(`${c.name} ${dtype} ${best.k.op}: ${g} ${describeComparison(r)}`);
      expect(r.maxRel, `${c.name} ${best.k.op} ${g}`).toBeLessThanOrEqual(TOL[dtype]);
    }
    chosen.set(c.name, best.k.op);
  }
  // The set holds one case of each of these ops: a missing one means accepts() or the forward broke.
  expect(new Set(chosen.values())).toEqual(new Set(['groupnorm', 'groupnorm+silu', 'layernorm', 'geglu', 'softmax']));
  return chosen;
}

describe(`pointwise backward goldens on ${TEST_ADAPTER}`, () => {
  it('tests f16 exactly where the adapter has shader-f16', async () => {
    const ctx = await testContext();
    expect(ctx.hasF16).toBe(TEST_ADAPTER === 'lavapipe');
  });

  for (const dtype of DTYPES) {
    it(`chooses by content and forward, and matches every grad.* in ${dtype}`, async () => {
      await checkAll(dtype);
    });
  }

  it('does not accept the cases of other op families', async () => {
    const cases = await loadOpCases();
    for (const c of cases) {
      const inputs = [...c.view.tensors.keys()].filter((k) => k.startsWith('input.') && k !== 'input.grad_output');
      const foreign = inputs.some((k) => !['input.x', 'input.weight', 'input.bias'].includes(k));
      if (foreign) expect(POINTWISE_CANDIDATES.filter((k) => k.accepts(c.view)).map((k) => k.op), c.name).toEqual([]);
    }
  });
});
