import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { attentionGrids, buildRegionMasks, isEmptyMask, levelGrid, normalizeMask, resampleMask } from './masks';
import { unetArch, type UNetConfigJson } from '../../model/unet/arch';
import { SD15_UNET, SDXL_BASE_UNET } from '../../model/unet/sdxl-configs';

const tiny = unetArch(JSON.parse(readFileSync('golden/models/unet/config.json', 'utf8')) as UNetConfigJson);
const near = (got: Float32Array, want: number[]) => {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(g, `cell ${i}`).toBeCloseTo(want[i]!, 6));
};

describe('region masks', () => {
  it('normalises Uint8 alpha and clamps floats', () => {
    expect(Array.from(normalizeMask({ data: Uint8Array.from([0, 51, 255, 128]), height: 2, width: 2 }))).toEqual([0, 51 / 255, 1, 128 / 255].map(Math.fround));
    expect(Array.from(normalizeMask({ data: Float32Array.from([-1, 0.25, 2, NaN]), height: 1, width: 4 }))).toEqual([0, 0.25, 1, 0]);
    expect(() => normalizeMask({ data: new Float32Array(5), height: 2, width: 2 })).toThrow(RangeError);
    expect(isEmptyMask(new Float32Array(9))).toBe(true);
    expect(isEmptyMask(Uint8Array.from([0, 0, 1]))).toBe(false);
  });

  it('gives grids of the stride-2 convs, odd sizes included (ceil at every level)', () => {
    expect(levelGrid(5, 7, 0)).toEqual({ h: 5, w: 7, stride: 1 });
    expect(levelGrid(5, 7, 1)).toEqual({ h: 3, w: 4, stride: 2 });
    expect(levelGrid(5, 7, 2)).toEqual({ h: 2, w: 2, stride: 4 });
    // tiny golden and SDXL: attention at levels 1 and 2; SD-1.5: levels 0..2
    expect(attentionGrids(tiny, 13, 9)).toEqual([{ h: 7, w: 5, stride: 2 }, { h: 4, w: 3, stride: 4 }]);
    expect(attentionGrids(unetArch(SDXL_BASE_UNET), 128, 128).map((g) => g.h)).toEqual([64, 32]);
    expect(attentionGrids(unetArch(SD15_UNET), 64, 64).map((g) => g.h)).toEqual([64, 32, 16, 8]);
  });

  it('an empty mask is all zeros and a full mask all ones at every grid, exactly', () => {
    const H = 40;
    const W = 56; // latent 5×7: odd at every level
    for (const grid of [levelGrid(5, 7, 0), levelGrid(5, 7, 1), levelGrid(5, 7, 2)]) {
      expect(Array.from(resampleMask(new Float32Array(H * W), H, W, 5, 7, grid)).every((v) => v === 0)).toBe(true);
      expect(Array.from(resampleMask(new Float32Array(H * W).fill(1), H, W, 5, 7, grid)).every((v) => v === 1)).toBe(true);
    }
  });

  it('area-averages partial coverage; an overhanging last cell averages only its in-image part', () => {
    // image 24×40 (latent 3×5), mask = left 20 pixel columns
    const H = 24;
    const W = 40;
    const m = new Float32Array(H * W);
    for (let y = 0; y < H; y++) for (let x = 0; x < 20; x++) m[y * W + x] = 1;
    near(resampleMask(m, H, W, 3, 5, levelGrid(3, 5, 0)), [1, 1, 0.5, 0, 0, 1, 1, 0.5, 0, 0, 1, 1, 0.5, 0, 0]);
    // level 1: 2×3 cells over latent columns [0,2), [2,4), [4,5) and rows [0,2), [2,3)
    near(resampleMask(m, H, W, 3, 5, levelGrid(3, 5, 1)), [1, 0.25, 0, 1, 0.25, 0]);
    // a soft mask: the mean of the values
    const soft = new Float32Array(H * W).fill(0.3);
    near(resampleMask(soft, H, W, 3, 5, levelGrid(3, 5, 2)), [0.3, 0.3]);
  });

  it('covers cells fractionally when the mask is not at a multiple of the grid', () => {
    // a 1×5 mask over a latent 1×3: each latent cell spans 5/3 mask pixels
    const m = Float32Array.from([0, 1, 0, 0, 1]);
    near(resampleMask(m, 1, 5, 1, 3, levelGrid(1, 3, 0)), [(2 / 3) / (5 / 3), (1 / 3) / (5 / 3), 1 / (5 / 3)]);
  });

  it('builds the latent masks and one stacked [U, h·w] mask per attention grid', () => {
    const H = 104; // latent 13×9
    const W = 72;
    const top = new Uint8Array(H * W);
    top.fill(255, 0, (H / 2) * W);
    const set = buildRegionMasks([{ data: top, height: H, width: W }, { data: new Float32Array(H * W).fill(1), height: H, width: W }], tiny, H, W);
    expect(set.latent.map((m) => m.length)).toEqual([13 * 9, 13 * 9]);
    expect([...set.attention.keys()]).toEqual(['7x5', '4x3']);
    const g = set.attention.get('7x5')!;
    expect(g.data.length).toBe(2 * 7 * 5);
    expect(Array.from(g.data.subarray(35)).every((v) => v === 1)).toBe(true);
    // rows of the top half: latent rows 0..5 full, row 6 half (pixels 48..55 of 52) → level-1 row 3 = [6, 8) → 0.25
    expect(g.data[3 * 5]).toBeCloseTo(0.25, 6);
    expect(() => buildRegionMasks([{ data: top, height: H, width: W }], tiny, 100, W)).toThrow(RangeError);
  });
});
