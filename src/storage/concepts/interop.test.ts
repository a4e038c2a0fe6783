import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Concept } from '../../cidm/concepts/concept';
import { SDXL_BASE_UNET_CONFIG, type UNetConfig } from '../../model/config';
import { loadLora, loraDelta } from '../../model/lora/lora';
import { SafetensorsFile } from '../../model/safetensors/reader';
import { MemorySource } from '../../model/safetensors/source';
import { GOLDEN_UNET, makeConcept, sameBits, SDXL_UNET_JSON } from './fixtures.test-util';
import { CIDM_INFERENCE_LORA_SCALE, exportEmbedding, exportKohyaLora, kohyaUNetModuleName, layerMeanTokens } from './interop';

const open = (bytes: Uint8Array, name: string) => SafetensorsFile.open(new MemorySource(bytes, name));

/** Loads the exported kohya file through the project's LoRA reader and checks it against the concept; returns the delta's worst max|Δ|/max|ref|. */
async function checkKohya(c: Concept, unet: UNetConfig): Promise<number> {
  const f = await open(exportKohyaLora(c, unet), 'concept-lora.safetensors');
  const { index, layers } = await loadLora(f, unet);
  expect(index.format).toBe('kohya');
  expect(index.ignored).toEqual([]);
  expect(layers.map((l) => l.target).sort()).toEqual([...c.lora.keys()].sort());
  let maxRel = 0;
  for (const l of layers) {
    const src = c.lora.get(l.target)!;
    expect([l.component, l.rank, l.inFeatures, l.outFeatures, l.alpha, l.scale]).toEqual(['unet', c.rank, src.inFeatures, src.outFeatures, c.rank, 1]);
    expect(sameBits(l.down, src.down)).toBe(true);
    // The ups carry CIDM's 0.8 (one concept: EWA weight 1), rounded once to f32.
    expect(sameBits(l.up, src.up.map((v) => v * 0.8))).toBe(true);
    // The delta a tool applies at strength 1 is the studio's 0.8 · U D (to f32 rounding).
    const d = loraDelta(l);
    const { inFeatures: n, outFeatures: m } = src;
    let maxAbs = 0;
    let maxRef = 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let ref = 0;
        for (let k = 0; k < c.rank; k++) ref += src.up[i * c.rank + k]! * src.down[k * n + j]!;
        ref *= 0.8;
        maxAbs = Math.max(maxAbs, Math.abs(d[i * n + j]! - ref));
        maxRef = Math.max(maxRef, Math.abs(ref));
      }
    }
    maxRel = Math.max(maxRel, maxAbs / maxRef);
  }
  return maxRel;
}

describe('kohya LoRA export', () => {
  it('uses the names of real kohya SDXL files (the golden lora_kohya: SGM blocks, to_out_0)', () => {
    const golden = new Set(
      Object.keys(JSON.parse(readFileSync('golden/lora/lora_kohya.safetensors').subarray(8, 8 + readFileSync('golden/lora/lora_kohya.safetensors').readUInt32LE(0)).toString()) as object)
        .filter((k) => k.includes('_attn2_'))
        .map((k) => k.replace(/\.(lora_down\.weight|lora_up\.weight|alpha)$/, '')),
    );
    const c = makeConcept();
    const ours = new Set([...c.lora.keys()].map((m) => kohyaUNetModuleName(m, GOLDEN_UNET)));
    expect(ours.size).toBe(28 * 4);
    expect(ours).toEqual(golden);
  });

  it('loads back through src/model/lora to the same modules, alpha = rank (scale 1), the downs exact and the ups × 0.8', async () => {
    expect(CIDM_INFERENCE_LORA_SCALE).toBe(0.8);
    // max |Δ| / max |ref| per layer, over every layer (f32 products against f64).
    const maxRel = await checkKohya(makeConcept({ rank: 3 }), GOLDEN_UNET);
    expect(maxRel).toBeLessThan(1e-6);
  });

  it('names SDXL base modules as kohya does and loads back against the SDXL UNet', async () => {
    expect(kohyaUNetModuleName('down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_q', SDXL_BASE_UNET_CONFIG)).toBe('lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_q');
    expect(kohyaUNetModuleName('down_blocks.2.attentions.1.transformer_blocks.9.attn2.to_out.0', SDXL_BASE_UNET_CONFIG)).toBe('lora_unet_input_blocks_8_1_transformer_blocks_9_attn2_to_out_0');
    expect(kohyaUNetModuleName('mid_block.attentions.0.transformer_blocks.3.attn2.to_k', SDXL_BASE_UNET_CONFIG)).toBe('lora_unet_middle_block_1_transformer_blocks_3_attn2_to_k');
    expect(kohyaUNetModuleName('up_blocks.0.attentions.2.transformer_blocks.0.attn2.to_v', SDXL_BASE_UNET_CONFIG)).toBe('lora_unet_output_blocks_2_1_transformer_blocks_0_attn2_to_v');
    expect(kohyaUNetModuleName('up_blocks.1.attentions.0.transformer_blocks.1.attn2.to_q', SDXL_BASE_UNET_CONFIG)).toBe('lora_unet_output_blocks_3_1_transformer_blocks_1_attn2_to_q');
    const sdxl = makeConcept({ unet: SDXL_UNET_JSON, rank: 1, placeholders: ['<x>'] });
    expect([sdxl.layers, sdxl.lora.size]).toEqual([70, 280]);
    // Full delta check is slow at SDXL size; names, shapes, alpha and the bits are checked by loading.
    const f = await open(exportKohyaLora(sdxl, SDXL_BASE_UNET_CONFIG), 'sdxl-lora.safetensors');
    const { layers } = await loadLora(f, SDXL_BASE_UNET_CONFIG);
    expect(layers).toHaveLength(280);
    for (const l of layers) {
      const src = sdxl.lora.get(l.target)!;
      expect(l.scale).toBe(1);
      expect(sameBits(l.down, src.down) && sameBits(l.up, src.up.map((v) => v * 0.8))).toBe(true);
    }
    expect(f.metadata).toMatchObject({ ss_network_module: 'networks.lora', ss_network_dim: '1', ss_network_alpha: '1', cidm_lora_scale_folded: '0.8' });
  });

  it('folds another scale when asked', async () => {
    const c = makeConcept();
    const f = await open(exportKohyaLora(c, GOLDEN_UNET, { scale: 1 }), 'l.safetensors');
    const { layers } = await loadLora(f, GOLDEN_UNET);
    for (const l of layers) expect(sameBits(l.up, c.lora.get(l.target)!.up)).toBe(true);
  });
});

describe('embedding export', () => {
  it('writes clip_l [P, 768] and clip_g [P, 1280]: each placeholder vector averaged over the layers', async () => {
    const c = makeConcept({ placeholders: ['<a>', '<b>', '<c>'] });
    const f = await open(exportEmbedding(c), 'rex.safetensors');
    expect(f.names().sort()).toEqual(['clip_g', 'clip_l']);
    expect(f.info('clip_l').shape).toEqual([3, 768]);
    expect(f.info('clip_g').shape).toEqual([3, 1280]);
    for (const [k, name] of ['clip_l', 'clip_g'].entries()) {
      const h = c.tokenWidths[k]!;
      const got = await f.read(name, 'f32');
      let maxAbs = 0;
      for (let j = 0; j < 3; j++) {
        for (let d = 0; d < h; d++) {
          let s = 0;
          for (let l = 0; l < c.layers; l++) s += c.tokens[k]![(l * 3 + j) * h + d]!;
          maxAbs = Math.max(maxAbs, Math.abs(got[j * h + d]! - s / c.layers));
        }
      }
      expect(maxAbs).toBeLessThan(1e-7);
    }
    expect(f.metadata.cidm_layer_reduction).toBe('mean');
  });

  it('a constant table averages to itself; one text encoder gives emb_params; three are refused', async () => {
    const table = new Float32Array(5 * 2 * 3).fill(0.375);
    expect(layerMeanTokens(table, 5, 2, 3)).toEqual(new Float32Array(6).fill(0.375));
    expect(() => layerMeanTokens(table, 4, 2, 3)).toThrow(RangeError);
    const one = makeConcept({ tokenWidths: [768] });
    const f = await open(exportEmbedding(one), 'one.safetensors');
    expect(f.names()).toEqual(['emb_params']);
    expect(f.info('emb_params').shape).toEqual([2, 768]);
    expect(() => exportEmbedding(makeConcept({ tokenWidths: [8, 8, 8] }))).toThrow(/one or two/);
  });
});
