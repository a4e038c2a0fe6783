import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { unetArch, type UNetConfigJson } from './arch';
import { parameterCount, unetWeightShapes } from './weight-shapes';
import { SD15_UNET, SDXL_BASE_UNET } from './sdxl-configs';

function safetensorsHeader(path: string): Record<string, { shape: number[] }> {
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  delete header.__metadata__;
  return header;
}

describe('UNet architecture from config.json', () => {
  it('names every tensor of the golden tiny SDXL UNet with its exact shape, and nothing else', () => {
    const cfg = JSON.parse(readFileSync('golden/models/unet/config.json', 'utf8')) as UNetConfigJson;
    const shapes = unetWeightShapes(unetArch(cfg));
    const header = safetensorsHeader('golden/models/unet/diffusion_pytorch_model.safetensors');
    const fileNames = Object.keys(header).sort();
    expect([...shapes.keys()].sort()).toEqual(fileNames);
    for (const name of fileNames) expect(shapes.get(name), name).toEqual(header[name]!.shape);
    expect(parameterCount(shapes)).toBe(1_791_492);
  });

  it('gives the published parameter counts of the real SDXL-base and SD-1.5 UNets', () => {
    // SDXL base UNet: 2,567,463,684 parameters; SD-1.5 UNet: 859,520,964 (diffusers num_parameters()).
    expect(parameterCount(unetWeightShapes(unetArch(SDXL_BASE_UNET)))).toBe(2_567_463_684);
    expect(parameterCount(unetWeightShapes(unetArch(SD15_UNET)))).toBe(859_520_964);
  });

  it('pairs each up-block resnet with the skip it concatenates', () => {
    const arch = unetArch(SDXL_BASE_UNET);
    expect(arch.up.map((b) => b.skipChannels)).toEqual([[1280, 1280, 640], [640, 640, 320], [320, 320, 320]]);
    expect(arch.up[0]!.resnets[0]!.cin).toBe(2560);
    expect(arch.down[2]!.attentions[0]!).toMatchObject({ heads: 20, headDim: 64, depth: 10 });
  });
});
