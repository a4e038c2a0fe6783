/**
 * Test concepts with the real layout of a UNet's CIDM parameters (src/cidm/train/layers.ts): the
 * golden tiny SDXL-structured UNet by default, or any config (SDXL base for the name checks).
 */
import { readFileSync } from 'node:fs';
import type { Concept, ConceptLora } from '../../cidm/concepts/concept';
import { crossAttentionLayers, loraTargets } from '../../cidm/train/layers';
import { parseUNetConfig, SDXL_BASE_UNET_CONFIG_JSON, type UNetConfig } from '../../model/config';
import { unetArch, type UNetConfigJson } from '../../model/unet/arch';

export const GOLDEN_UNET_JSON = JSON.parse(readFileSync('golden/models/unet/config.json', 'utf8')) as UNetConfigJson;
export const GOLDEN_UNET: UNetConfig = parseUNetConfig(GOLDEN_UNET_JSON);
/** SDXL base's config as the architecture code takes it (a mutable copy of the readonly constant). */
export const SDXL_UNET_JSON = JSON.parse(JSON.stringify(SDXL_BASE_UNET_CONFIG_JSON)) as UNetConfigJson;

/** Deterministic values in (−1, 1) with a spread of magnitudes (mulberry32). */
export function randomValues(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let a = seed >>> 0;
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = (u * 2 - 1) * 10 ** -((i % 5) as number);
  }
  return out;
}

export interface FixtureOptions {
  unet?: UNetConfigJson;
  rank?: number;
  placeholders?: string[];
  tokenWidths?: number[];
  taskIndex?: number;
  seed?: number;
  id?: string;
}

export function makeConcept(o: FixtureOptions = {}): Concept {
  const arch = unetArch(o.unet ?? GOLDEN_UNET_JSON);
  const rank = o.rank ?? 4;
  const placeholders = o.placeholders ?? ['<dog1>', '<dog2>'];
  const tokenWidths = o.tokenWidths ?? [768, 1280];
  const layers = crossAttentionLayers(arch).length;
  let seed = o.seed ?? 1;
  const lora = new Map<string, ConceptLora>();
  for (const t of loraTargets(arch)) {
    lora.set(t.module, { down: randomValues(rank * t.inFeatures, seed++), up: randomValues(t.outFeatures * rank, seed++), inFeatures: t.inFeatures, outFeatures: t.outFeatures });
  }
  return {
    id: o.id ?? 'c-0001',
    name: 'Rex the dog',
    classWord: 'dog',
    placeholders,
    taskIndex: o.taskIndex ?? 2,
    layers,
    rank,
    tokens: tokenWidths.map((h) => randomValues(layers * placeholders.length * h, seed++)),
    tokenWidths,
    lora,
    hyper: { steps: 800, lrLora: 1e-4, lrTokens: 1e-3, rank, seed: 42, resolution: 1024, masked: true, gamma: 0.1, r1Form: 'code' },
    modelId: 'sdxl-base-1.0',
    createdAt: 1_700_000_000_123,
  };
}

/** Bitwise equality of two f32 arrays (NaN payloads and −0 included). */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** Same metadata, same tensors bit for bit, same LoRA module order. */
export function sameConcept(a: Concept, b: Concept): boolean {
  const { tokens: ta, lora: la, ...ma } = a;
  const { tokens: tb, lora: lb, ...mb } = b;
  if (JSON.stringify(ma) !== JSON.stringify(mb) || ta.length !== tb.length || !ta.every((t, k) => sameBits(t, tb[k]!))) return false;
  if (JSON.stringify([...la.keys()]) !== JSON.stringify([...lb.keys()])) return false;
  for (const [m, x] of la) {
    const y = lb.get(m)!;
    if (x.inFeatures !== y.inFeatures || x.outFeatures !== y.outFeatures || !sameBits(x.down, y.down) || !sameBits(x.up, y.up)) return false;
  }
  return true;
}
