import { describe, expect, it } from 'vitest';
import { unetArch } from './arch';
import { unetForward } from './forward';
import { PlanBackend } from './plan-backend';
import { SDXL_BASE_UNET } from './sdxl-configs';
import { unetWeightShapes } from './weight-shapes';

/** The planning backend (shapes only, no GPU) with a settle that counts block boundaries and can cancel at one. */
class CountingBackend extends PlanBackend {
  settles = 0;
  onSettle: (n: number) => void = () => undefined;
  settle(): Promise<void> {
    this.settles++;
    this.onSettle(this.settles);
    return Promise.resolve();
  }
}

function setup() {
  const arch = unetArch(SDXL_BASE_UNET);
  const be = new CountingBackend(unetWeightShapes(arch), 'f32', 'f32');
  const sample = be.input([2, 4, 8, 8], 'sample');
  const ehs = be.input([2, 77, arch.crossDim], 'ehs');
  const textEmbeds = be.input([2, arch.addition!.projectionInputDim - 6 * arch.addition!.timeEmbedDim], 'text_embeds');
  const inputs = { sample, timesteps: [999, 999], encoderHiddenStates: ehs, textEmbeds, timeIds: Array(12).fill(64) };
  return { arch, be, inputs, own: [sample, ehs, textEmbeds] };
}

describe('UNet forward cancellation between blocks (issue 13)', () => {
  it('settles once per block: SDXL has 3×2 down resnets, 2 downsamples, the mid block, 3×3 up resnets and 2 upsamples', async () => {
    const { arch, be, inputs, own } = setup();
    const out = await unetForward(be, arch, { ...inputs, signal: new AbortController().signal });
    // counted from diffusers' SDXL UNet config: layers_per_block 2, three down blocks, two with a resample
    expect(be.settles).toBe(6 + 2 + 1 + 9 + 2);
    be.release(out, ...own);
    expect(be.liveTensors).toBe(0);
  });

  it('without a signal it submits per block all the same (no step-long submission, issue 15 point 2)', async () => {
    const { arch, be, inputs, own } = setup();
    const out = await unetForward(be, arch, inputs);
    expect(be.settles).toBe(6 + 2 + 1 + 9 + 2);
    be.release(out, ...own);
    expect(be.liveTensors).toBe(0);
  });

  for (const at of [1, 7, 9, 20]) {
    it(`a cancel during block ${at} stops at its end and gives back every activation`, async () => {
      const { arch, be, inputs, own } = setup();
      const ac = new AbortController();
      be.onSettle = (n) => {
        if (n === at) ac.abort();
      };
      await expect(unetForward(be, arch, { ...inputs, signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
      expect(be.settles).toBe(at);
      be.release(...own);
      expect(be.liveTensors).toBe(0);
    });
  }
});
