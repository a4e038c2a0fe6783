/**
 * unet_lora: the tiny UNet with a rank-4 LoRA on every attention projection, read from each of the
 * four file formats, applied both fused (per call) and folded into the weights (once); both must match
 * diffusers, and the base UNet must match the no-LoRA output.
 */
import { join } from 'node:path';
import type { Tensor } from '../gpu/tensor';
import { parseUNetConfig } from '../model/config';
import { loadLora } from '../model/lora/lora';
import { foldLora, packLora, releasePacked, type PackedLora } from '../ops/lora';
import { openModelFile, type GoldenCase } from './case-file';
import type { GoldenEnv } from './env';
import { measure, type CaseResult } from './result';
import { runUNetOnCase } from './unet-cases';

const FILES: [string, string][] = [
  ['peft', 'output.sample_lora_scale_1'],
  ['diffusers_legacy', 'output.sample_lora_scale_1'],
  ['kohya', 'output.sample_lora_scale_1'],
  ['kohya_alpha2', 'output.sample_lora_effective_0.5'],
];

async function packFile(env: GoldenEnv, format: string): Promise<Map<Tensor, PackedLora>> {
  const unet = await env.loadedUNet();
  const file = await openModelFile(env.dir, join('lora', `lora_${format}.safetensors`));
  try {
    const { layers } = await loadLora(file, parseUNetConfig(env.unetConfig()));
    const packed = new Map<Tensor, PackedLora>();
    for (const l of layers) {
      const weight = unet.weights.get(`${l.target}.weight`);
      if (!weight) throw new Error(`LoRA target ${l.target} has no weight in the UNet`);
      const down = env.upload(l.down, [l.rank, l.inFeatures], `${l.target}.lora_down`);
      const up = env.upload(l.up, [l.outFeatures, l.rank], `${l.target}.lora_up`);
      packed.set(weight, await packLora(env.ctx, weight, [{ down, up, scale: l.scale }]));
      env.ctx.release(down, up);
    }
    return packed;
  } finally {
    await file.close();
  }
}

export async function loraCase(env: GoldenEnv, c: GoldenCase): Promise<CaseResult[]> {
  const unet = await env.loadedUNet();
  const tol = env.tol('network');
  const results: CaseResult[] = [
    measure(`${c.name}[no_lora]`, await runUNetOnCase(env, c, await env.backend()), await c.f32('output.sample_no_lora'), tol),
  ];
  for (const [format, expectedName] of FILES) {
    const expected = await c.f32(expectedName);
    const packed = await packFile(env, format);
    const fused = await runUNetOnCase(env, c, await env.backend(undefined, packed));
    results.push(measure(`${c.name}[${format},fused]`, fused, expected, tol));

    const folded = new Map(unet.weights);
    const foldedTensors: Tensor[] = [];
    for (const [name, weight] of unet.weights) {
      const p = packed.get(weight);
      if (!p) continue;
      const f = await foldLora(env.ctx, weight, p);
      folded.set(name, f);
      foldedTensors.push(f);
    }
    const viaFold = await runUNetOnCase(env, c, await env.backend(folded));
    results.push(measure(`${c.name}[${format},folded]`, viaFold, expected, tol));
    results.push(measure(`${c.name}[${format},fused=folded]`, fused, viaFold, tol));
    for (const p of packed.values()) releasePacked(env.ctx, p);
    for (const f of foldedTensors) env.ctx.destroyTensor(f);
  }
  return results;
}
