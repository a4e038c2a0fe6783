import { describe, expect, it } from 'vitest';
import { SD15_VAE_CONFIG, SDXL_VAE_CONFIG } from '../model/config';
import { checkSizeMultiple, GenerateArgsError, parseGenerateArgs, vaeScaleFactor } from './generate-args';

const BASE = ['--model', 'm', '--prompt', 'a cat, sitting', '--size', '832x1216', '--steps', '30', '--cfg', '5.5', '--sampler', 'dpmpp_2m_karras', '--seed', '42', '--out', 'o.png'];
const without = (flag: string) => {
  const i = BASE.indexOf(flag);
  return [...BASE.slice(0, i), ...BASE.slice(i + 2)];
};
const withValue = (flag: string, value: string) => BASE.map((w, i) => (BASE[i - 1] === flag ? value : w));
const refusal = (argv: string[]) => {
  try {
    parseGenerateArgs(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(GenerateArgsError);
    return (err as Error).message;
  }
  throw new Error('no GenerateArgsError');
};

describe('parseGenerateArgs', () => {
  it('reads every flag, with defaults for the optional ones', () => {
    expect(parseGenerateArgs(BASE)).toEqual({
      model: 'm',
      prompt: 'a cat, sitting',
      negativePrompt: '',
      width: 832,
      height: 1216,
      steps: 30,
      guidanceScale: 5.5,
      scheduler: 'dpmpp_2m_karras',
      seed: 42,
      out: 'o.png',
      precision: 'auto',
      memoryMode: 'balanced',
    });
    const a = parseGenerateArgs([...BASE, '--negative', 'blurry', '--json', 't.json', '--model-name', 'sdxl-base', '--precision=f16', '--memory', 'low']);
    expect(a).toMatchObject({ negativePrompt: 'blurry', json: 't.json', modelName: 'sdxl-base', precision: 'f16', memoryMode: 'low' });
  });

  it('takes --flag=value, so a prompt may start with dashes; an empty prompt is a prompt', () => {
    expect(parseGenerateArgs([...without('--prompt'), '--prompt=--weird']).prompt).toBe('--weird');
    expect(parseGenerateArgs(withValue('--prompt', '')).prompt).toBe('');
  });

  it('accepts each studio sampler name and lists them for another', () => {
    for (const s of ['euler', 'euler_ancestral', 'ddim', 'dpmpp_2m', 'dpmpp_2m_karras']) expect(parseGenerateArgs(withValue('--sampler', s)).scheduler).toBe(s);
    expect(refusal(withValue('--sampler', 'heun'))).toBe('--sampler "heun" is not one of euler, euler_ancestral, ddim, dpmpp_2m, dpmpp_2m_karras, pndm.');
  });

  it('names every missing flag at once', () => {
    expect(refusal(without('--seed').slice(4))).toMatch(/^Missing --model, --prompt, --seed\.\nusage: npm run generate/);
  });

  it('refuses unknown, repeated, valueless and positional words by name', () => {
    expect(refusal([...BASE, '--sampelr', 'ddim'])).toMatch(/^Unknown flag --sampelr; the flags are --model, --prompt/);
    expect(refusal([...BASE, '--seed', '7'])).toBe('--seed is given twice.');
    expect(refusal([...without('--prompt'), '--prompt'])).toMatch(/^--prompt needs a value\./);
    expect(refusal([...without('--prompt'), '--prompt', '--steps', '3'])).toMatch(/^--prompt needs a value\./);
    expect(refusal([...BASE, 'extra'])).toMatch(/^Unexpected argument "extra"/);
  });

  it('checks numbers, size form, seed range and the output name', () => {
    expect(refusal(withValue('--steps', '0'))).toBe('--steps needs a whole number from 1 to 9007199254740991, got "0".');
    expect(refusal(withValue('--steps', '2.5'))).toMatch(/^--steps needs a whole number/);
    expect(refusal(withValue('--seed', '4294967296'))).toBe('--seed needs a whole number from 0 to 4294967295, got "4294967296".');
    expect(parseGenerateArgs(withValue('--seed', '4294967295')).seed).toBe(4294967295);
    expect(refusal(withValue('--seed', '-1'))).toMatch(/^--seed needs a whole number/);
    expect(refusal(withValue('--cfg', 'high'))).toMatch(/^--cfg needs a number ≥ 0/);
    expect(refusal(withValue('--cfg', '-2'))).toMatch(/^--cfg needs a number ≥ 0/);
    expect(refusal(withValue('--size', '1024'))).toBe('--size needs WIDTHxHEIGHT in pixels, e.g. 1024x1024, got "1024".');
    expect(refusal(withValue('--size', '0x64'))).toMatch(/^--size needs WIDTHxHEIGHT/);
    expect(refusal(withValue('--out', 'o.jpg'))).toBe('--out must name a .png file, got "o.jpg".');
    expect(refusal([...BASE, '--precision', 'bf16'])).toMatch(/^--precision "bf16" is not one of auto, f16, f16-math, f32\.$/);
  });
});

describe('the VAE factor and the size rule', () => {
  it("is 2^(blocks − 1) of the VAE's config (diffusers' vae_scale_factor)", () => {
    expect(vaeScaleFactor(SDXL_VAE_CONFIG)).toBe(8);
    expect(vaeScaleFactor(SD15_VAE_CONFIG)).toBe(8);
    expect(vaeScaleFactor({ blockOutChannels: [32, 64, 64] })).toBe(4);
    expect(vaeScaleFactor({ blockOutChannels: [32] })).toBe(1);
  });

  it('refuses a side that is not a positive multiple of the factor, saying the factor, its source and a size that fits', () => {
    expect(() => checkSizeMultiple(832, 1216, 8, 'm/vae/config.json')).not.toThrow();
    expect(() => checkSizeMultiple(4, 8, 4, 'm/vae/config.json')).not.toThrow();
    let msg = '';
    try {
      checkSizeMultiple(1000, 770, 16, 'm/vae/config.json');
    } catch (err) {
      expect(err).toBeInstanceOf(GenerateArgsError);
      msg = (err as Error).message;
    }
    expect(msg).toBe("--size 1000x770: the width and height must be a multiple of 16 pixels (the VAE's downsampling factor, from m/vae/config.json); try 1008x768.");
    expect(() => checkSizeMultiple(4, 8, 8, 'v')).toThrow("--size 4x8: the width must be a multiple of 8 pixels (the VAE's downsampling factor, from v); try 8x8.");
  });
});

describe('parseGenerateArgs: image to image', () => {
  it('reads --init, --strength, --mask, --mask-blur, the --keep-outside switch and --outpaint', () => {
    const a = parseGenerateArgs([...BASE, '--init', 'in.png', '--strength', '0.6', '--mask', 'm.png', '--mask-blur', '2', '--keep-outside', '--outpaint', '0,8,16,0']);
    expect(a).toMatchObject({ init: 'in.png', strength: 0.6, mask: 'm.png', maskBlur: 2, keepOutside: true, outpaint: [0, 8, 16, 0] });
    expect(parseGenerateArgs([...BASE, '--init=in.png', '--strength=0'])).toMatchObject({ init: 'in.png', strength: 0 });
    expect(parseGenerateArgs(BASE)).not.toHaveProperty('init');
  });

  it('refuses edit flags without --init, --init without --strength, and bad values, by name', () => {
    expect(refusal([...BASE, '--mask', 'm.png', '--keep-outside'])).toBe('--mask, --keep-outside need --init FILE.png (the image to edit).');
    expect(refusal([...BASE, '--init', 'in.png'])).toMatch(/^--init needs --strength S/);
    expect(refusal([...BASE, '--init', 'in.png', '--strength', '1.5'])).toBe('--strength needs a number from 0 to 1, got "1.5".');
    expect(refusal([...BASE, '--init', 'in.png', '--strength', '1', '--outpaint', '8,8'])).toMatch(/^--outpaint needs four whole numbers/);
    expect(refusal([...BASE, '--init', 'in.png', '--strength', '1', '--keep-outside=yes'])).toBe('--keep-outside takes no value.');
  });
});
