/**
 * The arguments of `npm run generate` (src/cli/generate.ts), parsed and checked before anything is
 * loaded: every mistake is a GenerateArgsError that names the flag and says what it accepts. The one
 * check that needs the model, the image size against the VAE's downsampling factor, is checkSizeMultiple
 * here with the factor read from the model's vae/config.json (vaeScaleFactor).
 */
import { SCHEDULER_KINDS, type SchedulerKind } from '../diffusion/schedulers';
import { MAX_SEED } from '../diffusion/rng';
import type { VaeConfig } from '../model/config';
import type { Precision } from '../engine/protocol';

export class GenerateArgsError extends Error {
  override readonly name = 'GenerateArgsError';
  readonly code = 'bad-argument';
}

export interface GenerateArgs {
  /** A diffusers folder (model_index.json, …) or a single-file checkpoint. */
  model: string;
  /** The `Model` value of the parameters text (default: the folder's name, as a folder import names it). */
  modelName?: string;
  prompt: string;
  negativePrompt: string;
  width: number;
  height: number;
  steps: number;
  guidanceScale: number;
  scheduler: SchedulerKind;
  seed: number;
  out: string;
  json?: string;
  precision: Precision;
  memoryMode: 'balanced' | 'low';
  /** Image to image: a PNG to start from, its strength (0..1), an inpainting mask PNG (white = repaint), its blur, the paste-back and outpainting. */
  init?: string;
  strength?: number;
  mask?: string;
  maskBlur?: number;
  keepOutside?: boolean;
  outpaint?: [number, number, number, number];
}

export const GENERATE_USAGE = [
  'usage: npm run generate -- --model DIR --prompt P [--negative N] --size WxH --steps N --cfg G',
  `         --sampler ${SCHEDULER_KINDS.join('|')} --seed S --out FILE.png [--json FILE]`,
  '         [--model-name NAME] [--precision auto|f16|f16-math|f32] [--memory balanced|low]',
  '         [--init FILE.png --strength S [--mask FILE.png] [--mask-blur N] [--keep-outside] [--outpaint L,T,R,B]]',
].join('\n');

const PRECISIONS: readonly Precision[] = ['auto', 'f16', 'f16-math', 'f32'];
const MEMORY_MODES = ['balanced', 'low'] as const;
const REQUIRED = ['model', 'prompt', 'size', 'steps', 'cfg', 'sampler', 'seed', 'out'] as const;
const OPTIONAL = ['negative', 'json', 'model-name', 'precision', 'memory', 'init', 'strength', 'mask', 'mask-blur', 'keep-outside', 'outpaint'] as const;
/** Flags that take no value. */
const SWITCHES: readonly string[] = ['keep-outside'];
/** Flags that only make sense with --init. */
const EDIT_FLAGS = ['strength', 'mask', 'mask-blur', 'keep-outside', 'outpaint'] as const;
type Flag = (typeof REQUIRED)[number] | (typeof OPTIONAL)[number];
const FLAGS: readonly string[] = [...REQUIRED, ...OPTIONAL];

/** `--name value` or `--name=value` pairs; each flag once, no positional words. */
function readFlags(argv: readonly string[]): Map<Flag, string> {
  const out = new Map<Flag, string>();
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (!word.startsWith('--')) throw new GenerateArgsError(`Unexpected argument "${word}": every value follows its flag.\n${GENERATE_USAGE}`);
    const eq = word.indexOf('=');
    const name = word.slice(2, eq < 0 ? undefined : eq);
    if (!FLAGS.includes(name)) throw new GenerateArgsError(`Unknown flag --${name}; the flags are ${FLAGS.map((f) => `--${f}`).join(', ')}.`);
    let value: string | undefined;
    if (SWITCHES.includes(name)) {
      if (eq >= 0) throw new GenerateArgsError(`--${name} takes no value.`);
      value = 'true';
    } else if (eq >= 0) value = word.slice(eq + 1);
    else {
      value = argv[i + 1];
      // a missing value would otherwise swallow the next flag (write --prompt=--x for such a prompt)
      if (value === undefined || value.startsWith('--')) throw new GenerateArgsError(`--${name} needs a value.\n${GENERATE_USAGE}`);
      i++;
    }
    if (out.has(name as Flag)) throw new GenerateArgsError(`--${name} is given twice.`);
    out.set(name as Flag, value);
  }
  return out;
}

function integer(flag: string, v: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new GenerateArgsError(`--${flag} needs a whole number from ${min} to ${max}, got "${v}".`);
  return n;
}

function parseSize(v: string): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/i.exec(v);
  const width = m ? Number(m[1]) : 0;
  const height = m ? Number(m[2]) : 0;
  if (!m || width < 1 || height < 1) throw new GenerateArgsError(`--size needs WIDTHxHEIGHT in pixels, e.g. 1024x1024, got "${v}".`);
  return { width, height };
}

function oneOf<T extends string>(flag: string, v: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(v)) throw new GenerateArgsError(`--${flag} "${v}" is not one of ${allowed.join(', ')}.`);
  return v as T;
}

function parseOutpaint(v: string): [number, number, number, number] {
  const o = v.split(',').map((x) => (/^\d+$/.test(x.trim()) ? Number(x) : NaN));
  if (o.length !== 4 || !o.every(Number.isSafeInteger)) throw new GenerateArgsError(`--outpaint needs four whole numbers of pixels LEFT,TOP,RIGHT,BOTTOM, e.g. 0,0,128,0, got "${v}".`);
  return o as [number, number, number, number];
}

/** The image-to-image flags, checked: each needs --init (which is what they change). */
function editArgs(flags: Map<Flag, string>): Partial<GenerateArgs> {
  const given = EDIT_FLAGS.filter((f) => flags.has(f));
  if (!flags.has('init')) {
    if (given.length) throw new GenerateArgsError(`${given.map((f) => `--${f}`).join(', ')} need${given.length === 1 ? 's' : ''} --init FILE.png (the image to edit).`);
    return {};
  }
  const number = (flag: Flag, max: number) => {
    const raw = flags.get(flag)!;
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v) || v < 0 || v > max) throw new GenerateArgsError(`--${flag} needs a number from 0 to ${max}, got "${raw}".`);
    return v;
  };
  if (!flags.has('strength')) throw new GenerateArgsError('--init needs --strength S (0 keeps the image, 1 ignores it outside the mask).');
  return {
    init: flags.get('init')!,
    strength: number('strength', 1),
    ...(flags.has('mask') ? { mask: flags.get('mask')! } : {}),
    ...(flags.has('mask-blur') ? { maskBlur: number('mask-blur', 256) } : {}),
    ...(flags.has('keep-outside') ? { keepOutside: true } : {}),
    ...(flags.has('outpaint') ? { outpaint: parseOutpaint(flags.get('outpaint')!) } : {}),
  };
}

export function parseGenerateArgs(argv: readonly string[]): GenerateArgs {
  const flags = readFlags(argv);
  const missing = REQUIRED.filter((f) => !flags.has(f));
  if (missing.length) throw new GenerateArgsError(`Missing ${missing.map((f) => `--${f}`).join(', ')}.\n${GENERATE_USAGE}`);
  const get = (f: Flag) => flags.get(f)!;
  const cfg = Number(get('cfg'));
  if (get('cfg').trim() === '' || !Number.isFinite(cfg) || cfg < 0) throw new GenerateArgsError(`--cfg needs a number ≥ 0 (the guidance scale; ≤ 1 turns guidance off), got "${get('cfg')}".`);
  const out = get('out');
  if (!/\.png$/i.test(out)) throw new GenerateArgsError(`--out must name a .png file, got "${out}".`);
  const model = get('model');
  if (model === '') throw new GenerateArgsError('--model needs a folder or a file.');
  return {
    model,
    ...(flags.has('model-name') ? { modelName: get('model-name') } : {}),
    prompt: get('prompt'),
    negativePrompt: flags.get('negative') ?? '',
    ...parseSize(get('size')),
    steps: integer('steps', get('steps'), 1),
    guidanceScale: cfg,
    scheduler: oneOf('sampler', get('sampler'), SCHEDULER_KINDS),
    seed: integer('seed', get('seed'), 0, MAX_SEED),
    out,
    ...(flags.has('json') ? { json: get('json') } : {}),
    precision: oneOf('precision', flags.get('precision') ?? 'auto', PRECISIONS),
    memoryMode: oneOf('memory', flags.get('memory') ?? 'balanced', MEMORY_MODES),
    ...editArgs(flags),
  };
}

/**
 * How many pixels one latent cell covers: diffusers' `vae_scale_factor = 2 ** (len(vae.config.
 * block_out_channels) - 1)` (StableDiffusionXLPipeline.__init__): every encoder block but the last
 * halves the image.
 */
export function vaeScaleFactor(vae: Pick<VaeConfig, 'blockOutChannels'>): number {
  return 2 ** (vae.blockOutChannels.length - 1);
}

/** The size must be a positive multiple of the VAE factor (diffusers' check_inputs); `source` names the config it came from. */
export function checkSizeMultiple(width: number, height: number, factor: number, source: string): void {
  const bad = [['width', width], ['height', height]].filter(([, v]) => (v as number) < factor || (v as number) % factor !== 0);
  if (!bad.length) return;
  const near = (v: number) => Math.max(factor, Math.round(v / factor) * factor);
  throw new GenerateArgsError(
    `--size ${width}x${height}: the ${bad.map(([w]) => w).join(' and ')} must be a multiple of ${factor} pixels (the VAE's downsampling factor, from ${source}); try ${near(width)}x${near(height)}.`,
  );
}
