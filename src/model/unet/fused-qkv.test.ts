// The fused q/k/v layout (fused-qkv.ts) on the planning device (no GPU): which layers fuse, that the
// three weights are adjacent views of one buffer (no copy, the same weight bytes as three buffers), and
// that self-attention takes one input matmul only where the fused activation stays within a binding.
import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../gpu/context';
import { PlanningDevice, planningHandle } from '../../gpu/planning-device';
import { unetArch } from './arch';
import { canFuseQkv, DEFAULT_QKV_LIMITS, fusedQkvWeight, qkvWeightNames, selfAttentionPrefixes, weightBufferBytes } from './fused-qkv';
import { PlanBackend, type PlanTensor } from './plan-backend';
import { SDXL_BASE_UNET } from './sdxl-configs';
import { selfAttentionModule } from './self-attention';
import { sizedUNet } from './sized-unet';

describe('fused q/k/v weights', () => {
  it('fuse where each view starts on the offset alignment and the three fit one binding', () => {
    const L = DEFAULT_QKV_LIMITS; // 256-byte offsets, 128 MiB bindings
    expect(canFuseQkv([[48, 48], [48, 48], [48, 48]], 'f32', L)).toBe(true); // 9216 bytes = 36·256
    expect(canFuseQkv([[40, 40], [40, 40], [40, 40]], 'f32', L)).toBe(true); // 6400 = 25·256
    expect(canFuseQkv([[40, 40], [40, 40], [40, 40]], 'f16', L)).toBe(false); // 3200 is not a multiple of 256
    expect(canFuseQkv([[20, 20], [20, 20], [20, 20]], 'f32', L)).toBe(false); // 1600
    expect(canFuseQkv([[48, 48], [48, 80], [48, 80]], 'f32', L)).toBe(false); // cross-attention shapes
    expect(canFuseQkv([[48, 48], [48, 48], undefined], 'f32', L)).toBe(false);
    expect(canFuseQkv([[4096, 4096], [4096, 4096], [4096, 4096]], 'f32', L)).toBe(false); // 3 × 64 MiB > 128 MiB
  });

  it('SDXL-base: every attn1 is three adjacent views of one buffer, in the same weight bytes as three buffers', () => {
    const ctx = new GpuContext(planningHandle(new PlanningDevice()));
    try {
      const fused = sizedUNet(ctx, SDXL_BASE_UNET, 'f16');
      const apart = sizedUNet(ctx, SDXL_BASE_UNET, 'f16', false, { fuseQkv: false });
      const prefixes = selfAttentionPrefixes(unetArch(SDXL_BASE_UNET));
      expect(prefixes).toHaveLength(70);
      expect(fused.bytes).toBe(apart.bytes);
      expect(fused.weights.size).toBe(apart.weights.size);
      expect(new Set([...fused.weights.values()].map((t) => t.buffer)).size).toBe(apart.weights.size - 2 * prefixes.length);
      for (const p of prefixes) {
        const [q, k, v] = qkvWeightNames(p).map((n) => fused.weights.get(n)!);
        const w = fusedQkvWeight(q!, k!, v!);
        expect(w?.shape).toEqual([3 * q!.shape[0]!, q!.shape[1]!]);
        expect(w?.buffer.size).toBe(3 * q!.shape[0]! * q!.shape[1]! * 2);
        const [q2, k2, v2] = qkvWeightNames(p).map((n) => apart.weights.get(n)!);
        expect(fusedQkvWeight(q2!, k2!, v2!)).toBeNull();
        expect(fusedQkvWeight(q!, v!, k!)).toBeNull(); // another order is not the fused weight
      }
      // the packed path (f16 pairs in u32 words under f32 compute) has the same layout and fuses too
      const packed = sizedUNet(ctx, SDXL_BASE_UNET, 'f32', true);
      const [q, k, v] = qkvWeightNames(prefixes[0]!).map((n) => packed.weights.get(n)!);
      expect(q!.dtype).toBe('f16');
      expect(fusedQkvWeight(q!, k!, v!)).not.toBeNull();
    } finally {
      ctx.destroy();
    }
  });

  it('self-attention runs one input matmul while [B, T, 3C] fits 128 MiB, three beyond (SDXL 640 channels, f32)', async () => {
    const attn = 'down_blocks.1.attentions.0.transformer_blocks.0.attn1';
    const shapes = new Map<string, number[]>([...qkvWeightNames(attn).map((n) => [n, [640, 640]] as [string, number[]]), [`${attn}.to_out.0.weight`, [640, 640]], [`${attn}.to_out.0.bias`, [640]]]);
    const linears = async (tokens: number) => {
      const be = new PlanBackend(shapes, 'f32', 'f16');
      const widths: number[] = [];
      const linear = be.linear.bind(be);
      be.linear = (x: PlanTensor, w: PlanTensor) => (widths.push(w.shape[0]!), linear(x, w));
      const x = be.input([2, tokens, 640], 'x');
      be.release(await selfAttentionModule(be, attn, 10, x), x);
      expect(be.liveTensors).toBe(0);
      return widths;
    };
    expect(await linears(4096)).toEqual([1920, 640]); // 1024²: [2, 4096, 1920] f32 = 60 MiB
    expect(await linears(16384)).toEqual([640, 640, 640, 640]); // 2048²: 240 MiB would pass the limit
  });
});
