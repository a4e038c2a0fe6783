/**
 * The `parameters` text convention of AUTOMATIC1111's WebUI (read by it, Forge, ComfyUI loaders,
 * InvokeAI's importer, Civitai): the prompt, then a "Negative prompt: " line, then one line of
 * "Key: value" pairs separated by ", " (values with commas quoted as JSON strings). The studio writes
 * its own extra keys (Scheduler key names, precision) after the standard ones; readers ignore unknown keys.
 */
import type { SchedulerKind } from '../../diffusion/schedulers';
import type { FinalSigmasType } from '../../diffusion/schedulers/prediction';
import type { NoiseSource } from '../../diffusion/noise-source';

export interface ImageParameters {
  prompt: string;
  negativePrompt: string;
  steps: number;
  scheduler: SchedulerKind;
  guidanceScale: number;
  seed: number;
  width: number;
  height: number;
  model?: string;
  /**
   * "Model hash": A1111's short hash of the checkpoint (first 10 hex of its SHA-256; for a diffusers
   * folder, of the file storage/loras/model-hash.ts says). Written before "Model", where A1111 puts it.
   */
  modelHash?: string;
  /**
   * "Lora hashes": the LoRAs the prompt named, each with A1111's short hash (12 hex of the data-only
   * SHA-256, src/model/lora/a1111-hashes.ts), written as A1111 does: "name: hash, name2: hash2", quoted.
   */
  loraHashes?: { name: string; hash: string }[];
  /** Image to image: "Denoising strength", as A1111 writes it for img2img runs. */
  denoisingStrength?: number;
  /** Inpainting (a mask was given): "Mask blur: N", which A1111 writes for every inpaint run. */
  maskBlur?: number;
  /** Outpainting: the studio's own "Outpaint" key, "left,top,right,bottom" pixels. */
  outpaint?: [number, number, number, number];
  /** The studio's own "Keep outside: true": the init image pasted back outside the mask. */
  keepOutside?: boolean;
  /** Guidance rescale φ, written as "CFG Rescale" (the key of A1111's CFG-rescale extension) when > 0. */
  guidanceRescale?: number;
  /** Zero terminal SNR forced on: "Noise Schedule: Zero Terminal SNR", as A1111 writes its option. */
  zeroTerminalSnr?: boolean;
  /** DPM++ 2M ending at sigma(0): the studio's own "DPM final sigma" key (A1111 always ends at 0, so it has none). */
  dpmFinalSigma?: FinalSigmasType;
  /** torch's CPU noise: "RNG: CPU", as A1111 writes its random-number source option (absent: the studio's own noise). */
  noiseSource?: NoiseSource;
  /** Other key/values found (kept, so a round trip through the studio loses nothing). */
  extra?: Record<string, string>;
}

const SAMPLER_NAMES: Record<SchedulerKind, string> = {
  euler: 'Euler',
  euler_ancestral: 'Euler a',
  ddim: 'DDIM',
  dpmpp_2m: 'DPM++ 2M',
  dpmpp_2m_karras: 'DPM++ 2M Karras',
  // A1111's name for diffusers' PNDM with skip_prk_steps (its "PLMS" sampler)
  pndm: 'PLMS',
};

const CFG_RESCALE = 'CFG Rescale';
/** The extension's older spelling (its φ is not a key character A1111's parser takes either). */
const CFG_RESCALE_OLD = 'CFG Rescale phi';
const NOISE_SCHEDULE = 'Noise Schedule';
const ZERO_SNR = 'Zero Terminal SNR';
const DPM_FINAL_SIGMA = 'DPM final sigma';
/** A1111's "RNG" key: "CPU" (torch's CPU generator) or "NV" (its emulation of NVIDIA's GPU stream, kept as an extra). */
const RNG = 'RNG';
const MODEL_HASH = 'Model hash';
const DENOISING_STRENGTH = 'Denoising strength';
const MASK_BLUR = 'Mask blur';
const OUTPAINT = 'Outpaint';
const KEEP_OUTSIDE = 'Keep outside';

function parseOutpaint(v: string | undefined): [number, number, number, number] | null {
  const o = (v ?? '').split(',').map((x) => (/^\s*\d+\s*$/.test(x) ? Number(x) : NaN));
  return o.length === 4 && o.every(Number.isFinite) ? (o as [number, number, number, number]) : null;
}
/** extensions-builtin/Lora/extra_networks_lora.py: ", ".join(f"{alias}: {shorthash}"), the alias without ':' and ','. */
const LORA_HASHES = 'Lora hashes';

/** "a: 0123456789ab, b: …" → pairs; a malformed entry is dropped (the raw text is not kept twice). */
function parseLoraHashes(v: string): { name: string; hash: string }[] {
  const out: { name: string; hash: string }[] = [];
  for (const part of v.split(',')) {
    const at = part.lastIndexOf(':');
    if (at <= 0) continue;
    const name = part.slice(0, at).trim();
    const hash = part.slice(at + 1).trim();
    if (name && hash) out.push({ name, hash });
  }
  return out;
}

function quote(v: string): string {
  return /[,:"\n]/.test(v) ? JSON.stringify(v) : v;
}

export function formatParameters(p: ImageParameters): string {
  const pairs: [string, string][] = [
    ['Steps', String(p.steps)],
    ['Sampler', SAMPLER_NAMES[p.scheduler]],
    ['CFG scale', String(p.guidanceScale)],
    ['Seed', String(p.seed)],
    ['Size', `${p.width}x${p.height}`],
  ];
  if (p.modelHash) pairs.push([MODEL_HASH, p.modelHash]);
  if (p.model) pairs.push(['Model', p.model]);
  if (p.denoisingStrength !== undefined) pairs.push([DENOISING_STRENGTH, String(p.denoisingStrength)]);
  if (p.maskBlur !== undefined) pairs.push([MASK_BLUR, String(p.maskBlur)]);
  if (p.outpaint) pairs.push([OUTPAINT, p.outpaint.join(',')]);
  if (p.keepOutside) pairs.push([KEEP_OUTSIDE, 'true']);
  if (p.guidanceRescale) pairs.push([CFG_RESCALE, String(p.guidanceRescale)]);
  if (p.zeroTerminalSnr) pairs.push([NOISE_SCHEDULE, ZERO_SNR]);
  if (p.dpmFinalSigma === 'sigma_min' && p.scheduler.startsWith('dpmpp')) pairs.push([DPM_FINAL_SIGMA, 'sigma_min']);
  if (p.noiseSource === 'torch-cpu') pairs.push([RNG, 'CPU']);
  if (p.loraHashes?.length) pairs.push([LORA_HASHES, p.loraHashes.map((l) => `${l.name}: ${l.hash}`).join(', ')]);
  for (const [k, v] of Object.entries(p.extra ?? {})) pairs.push([k, v]);
  const lines = [p.prompt];
  if (p.negativePrompt) lines.push(`Negative prompt: ${p.negativePrompt}`);
  lines.push(pairs.map(([k, v]) => `${k}: ${quote(v)}`).join(', '));
  return lines.join('\n');
}

/** "Steps: 20, Sampler: Euler a, Lora hashes: "a: 1, b: 2"" → pairs (quoted values may hold commas). */
function parsePairs(line: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /\s*([\w\s\-/+.()]+?):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null && m[0] !== '') {
    let v = m[2]!.trim();
    if (v.startsWith('"')) {
      try {
        v = JSON.parse(v) as string;
      } catch {
        /* keep the raw text */
      }
    }
    out.set(m[1]!.trim(), v);
  }
  return out;
}

function samplerKind(sampler: string | undefined, scheduleType: string | undefined): SchedulerKind | null {
  if (!sampler) return null;
  const karras = /karras/i.test(sampler) || /karras/i.test(scheduleType ?? '');
  const base = sampler.replace(/\s*karras\s*/i, '').trim().toLowerCase();
  if (base === 'euler a' || base === 'euler ancestral') return 'euler_ancestral';
  if (base === 'euler') return 'euler';
  if (base === 'ddim') return 'ddim';
  if (base === 'dpm++ 2m') return karras ? 'dpmpp_2m_karras' : 'dpmpp_2m';
  return null;
}

export class ParametersError extends Error {
  override readonly name = 'ParametersError';
  readonly code = 'bad-parameters';
}

const KNOWN = new Set(['Steps', 'Sampler', 'Schedule type', 'CFG scale', 'Seed', 'Size', 'Model', MODEL_HASH, DENOISING_STRENGTH, MASK_BLUR, OUTPAINT, KEEP_OUTSIDE, LORA_HASHES, CFG_RESCALE, CFG_RESCALE_OLD, NOISE_SCHEDULE, DPM_FINAL_SIGMA]);

/** Parses a `parameters` text (ours or another tool's); unknown samplers fall back to `fallbackScheduler`. */
export function parseParameters(text: string, fallbackScheduler: SchedulerKind = 'dpmpp_2m_karras'): ImageParameters {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  // the settings line is the last line that starts with "Steps: "
  let settingsAt = -1;
  for (let i = lines.length - 1; i >= 0; i--) if (/^Steps: /.test(lines[i]!)) {
    settingsAt = i;
    break;
  }
  if (settingsAt < 0) throw new ParametersError('No generation settings ("Steps: …") in the image\'s parameters.');
  const head = lines.slice(0, settingsAt);
  const negAt = head.findIndex((l) => l.startsWith('Negative prompt:'));
  const prompt = (negAt < 0 ? head : head.slice(0, negAt)).join('\n');
  const negativePrompt = negAt < 0 ? '' : head.slice(negAt).join('\n').replace(/^Negative prompt:\s?/, '');
  const kv = parsePairs(lines[settingsAt]!);
  const num = (k: string, def: number) => {
    const v = Number(kv.get(k));
    return Number.isFinite(v) && kv.has(k) ? v : def;
  };
  const [w, h] = (kv.get('Size') ?? '1024x1024').split('x').map(Number);
  const extra: Record<string, string> = {};
  const torchCpu = kv.get(RNG) === 'CPU';
  for (const [k, v] of kv) if (!KNOWN.has(k) && !(k === RNG && torchCpu)) extra[k] = v;
  const phi = Number(kv.get(CFG_RESCALE) ?? kv.get(CFG_RESCALE_OLD));
  const finalSigma = kv.get(DPM_FINAL_SIGMA);
  const strength = Number(kv.get(DENOISING_STRENGTH));
  const maskBlur = Number(kv.get(MASK_BLUR));
  const outpaint = parseOutpaint(kv.get(OUTPAINT));
  const loraHashes = parseLoraHashes(kv.get(LORA_HASHES) ?? '');
  return {
    prompt,
    negativePrompt,
    steps: num('Steps', 30),
    scheduler: samplerKind(kv.get('Sampler'), kv.get('Schedule type')) ?? fallbackScheduler,
    guidanceScale: num('CFG scale', 5),
    seed: num('Seed', 0),
    width: Number.isFinite(w) ? w! : 1024,
    height: Number.isFinite(h) ? h! : 1024,
    model: kv.get('Model'),
    ...(kv.get(MODEL_HASH) ? { modelHash: kv.get(MODEL_HASH)! } : {}),
    ...(loraHashes.length ? { loraHashes } : {}),
    ...(kv.has(DENOISING_STRENGTH) && strength >= 0 && strength <= 1 ? { denoisingStrength: strength } : {}),
    ...(kv.has(MASK_BLUR) && maskBlur >= 0 ? { maskBlur } : {}),
    ...(outpaint ? { outpaint } : {}),
    ...(kv.get(KEEP_OUTSIDE) === 'true' ? { keepOutside: true } : {}),
    ...(Number.isFinite(phi) && phi > 0 && phi <= 1 ? { guidanceRescale: phi } : {}),
    ...(kv.get(NOISE_SCHEDULE) === ZERO_SNR ? { zeroTerminalSnr: true } : {}),
    ...(finalSigma === 'sigma_min' || finalSigma === 'zero' ? { dpmFinalSigma: finalSigma } : {}),
    ...(torchCpu ? { noiseSource: 'torch-cpu' as const } : {}),
    ...(Object.keys(extra).length ? { extra } : {}),
  };
}
