/**
 * npm run generate -- --model DIR --prompt P [--negative N] --size WxH --steps N --cfg G
 *                     --sampler euler|euler_ancestral|ddim|dpmpp_2m|dpmpp_2m_karras --seed S
 *                     --out FILE.png [--json FILE] [--model-name NAME] [--precision auto|f16|f32] [--memory balanced|low]
 *                     [--init FILE.png --strength S [--mask FILE.png] [--mask-blur N] [--keep-outside] [--outpaint L,T,R,B]]
 * Text to image from a script: the studio's own engine (InThreadEngine, the class the studio's worker
 * runs) on WebGPU in Node (Dawn), on a diffusers folder. Writes the PNG the studio's gallery stores and
 * downloads (storage/png/result-png.ts: same pixels and parameters, same bytes; nothing time-dependent
 * inside, so the same seed gives the same file) and prints the time of each phase. `--json` writes the
 * timings and the parameters. Adapter: VK_ICD_FILENAMES as set; default Debian chromium's SwiftShader.
 * Exit 0 done, 1 failed, 2 bad arguments.
 */
import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { create, globals } from 'webgpu';
import { adapterLabel, type DeviceOptions } from '../gpu';
import { InThreadEngine } from '../engine/engine';
import type { GenerateParams } from '../engine/protocol';
import { encodeResultPng } from '../storage/png/result-png';
import { decodePng } from '../storage/png/png';
import { maskFromGray } from '../diffusion/edit-image';
import type { ImageParameters } from '../storage/png/parameters';
import { checkSizeMultiple, GENERATE_USAGE, GenerateArgsError, parseGenerateArgs } from './generate-args';
import { openModelFolder } from './generate-model';

export interface GenerateCliOptions {
  /** The WebGPU entry point (default: the process's Dawn instance, made on first use). */
  gpu?: GPU;
  deviceOptions?: DeviceOptions;
  /** Where the report lines go (default console.log). */
  log?(line: string): void;
}

/** Milliseconds per phase; encode is both text encoders (prompt and negative prompt). */
export interface GenerateTimings {
  deviceMs: number;
  loadMs: number;
  encodeMs: number;
  stepsMs: number;
  decodeMs: number;
  totalMs: number;
}

export interface GenerateCliResult {
  png: Uint8Array;
  /** The `parameters` text inside the PNG. */
  parameters: string;
  params: ImageParameters;
  adapter: string;
  dtype: 'f16' | 'f32';
  timings: GenerateTimings;
  /** Kernels compiled during the run (the first step of a fresh device pays for them). */
  compiled: number;
  sha256: string;
  out: string;
}

/**
 * Dawn's instance must stay referenced for the life of the process (tests/gpu-harness.ts: once
 * collected, its pending callbacks touch freed memory).
 */
let dawn: GPU | null = null;
function defaultGpu(): GPU {
  Object.assign(globalThis, globals);
  process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';
  return (dawn ??= create([]) as unknown as GPU);
}

const ms = (v: number) => `${v.toFixed(0).padStart(7)} ms`;

/** A PNG given to --init or --mask, decoded; a missing or unreadable file is a bad argument that names it. */
async function readPngArg(flag: string, file: string): Promise<{ width: number; height: number; rgba: Uint8ClampedArray<ArrayBuffer> }> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (err) {
    throw new GenerateArgsError(`--${flag} ${file}: cannot read the file (${(err as Error).message}).`);
  }
  try {
    const png = await decodePng(bytes);
    return { width: png.width, height: png.height, rgba: new Uint8ClampedArray(png.rgba) };
  } catch (err) {
    throw new GenerateArgsError(`--${flag} ${file}: not a PNG the studio can read (${(err as Error).message}).`);
  }
}

/** The image-to-image fields of GenerateParams from the parsed flags (the same ones the studio's form sends). */
async function editParams(args: ReturnType<typeof parseGenerateArgs>): Promise<Partial<GenerateParams>> {
  if (args.init === undefined) return {};
  const mask = args.mask !== undefined ? await readPngArg('mask', args.mask) : undefined;
  return {
    initImage: await readPngArg('init', args.init),
    strength: args.strength!,
    ...(mask ? { mask: { width: mask.width, height: mask.height, data: maskFromGray(mask.rgba) } } : {}),
    ...(args.maskBlur !== undefined ? { maskBlur: args.maskBlur } : {}),
    ...(args.keepOutside ? { keepOutside: true } : {}),
    ...(args.outpaint ? { outpaint: args.outpaint } : {}),
  };
}

/** Runs one generation from command-line words; writes --out (and --json) and returns what it wrote. */
export async function runGenerateCli(argv: readonly string[], o: GenerateCliOptions = {}): Promise<GenerateCliResult> {
  const log = o.log ?? ((line: string) => console.log(line));
  const args = parseGenerateArgs(argv);
  for (const [flag, file] of [['out', args.out], ['json', args.json]] as const) {
    if (file !== undefined && !(await stat(dirname(file)).catch(() => null))?.isDirectory()) {
      throw new GenerateArgsError(`--${flag} ${file}: the folder ${dirname(file)} does not exist.`);
    }
  }
  const model = await openModelFolder(args.model);
  checkSizeMultiple(args.width, args.height, model.vaeFactor, model.vaeConfigFile);
  const modelName = args.modelName ?? model.name;
  const edit = await editParams(args);

  const engine = new InThreadEngine({ gpu: o.gpu ?? defaultGpu(), deviceOptions: o.deviceOptions, openModel: async () => model.files });
  try {
    const t0 = performance.now();
    const info = await engine.load({ type: 'stored', id: modelName }, args.precision);
    const deviceMs = performance.now() - t0 - info.loadMs;
    const adapterSummary = (await engine.status()).adapter;
    const adapter = adapterSummary ? adapterLabel(adapterSummary) : 'unknown adapter';
    log(`# adapter ${adapter}, ${info.dtype}; model ${args.model}`);
    log(`load          ${ms(info.loadMs)}  (${(info.gpuBytes / 2 ** 20).toFixed(1)} MiB of weights on the GPU; device ${deviceMs.toFixed(0)} ms)`);

    const params: GenerateParams = {
      prompt: args.prompt,
      negativePrompt: args.negativePrompt,
      width: args.width,
      height: args.height,
      steps: args.steps,
      guidanceScale: args.guidanceScale,
      scheduler: args.scheduler,
      seed: args.seed,
      previewEvery: 0, // nobody looks at previews here
      memoryMode: args.memoryMode,
      ...edit,
    };
    let compiled = 0;
    const result = await engine.generate(params, {
      onProgress: (p) => {
        if (p.status === 'compile') compiled = p.compiled;
      },
    });
    const t = result.timings;
    for (const notice of result.editNotices ?? []) log(`note: ${notice}`);
    log(`text encoders ${ms(t.encodeMs)}`);
    // kernels compile on first use (the engine counts them up to the end of step 1): fresh devices pay for them here
    log(`steps         ${ms(t.stepsMs)}  (${args.steps} × ${(t.stepsMs / args.steps).toFixed(0)} ms${compiled ? `; ${compiled} kernels compiled on first use, counted in encode and steps` : ''})`);
    log(`decode        ${ms(t.decodeMs)}`);

    const { png, params: imageParams, parameters } = await encodeResultPng(result, modelName);
    await writeFile(args.out, png);
    const sha256 = createHash('sha256').update(png).digest('hex');
    log(`wrote ${args.out} (${result.image.width}×${result.image.height}, ${png.length} bytes, sha256 ${sha256})`);
    const timings: GenerateTimings = { deviceMs, loadMs: info.loadMs, encodeMs: t.encodeMs, stepsMs: t.stepsMs, decodeMs: t.decodeMs, totalMs: t.totalMs };
    const out: GenerateCliResult = { png, parameters, params: imageParams, adapter, dtype: info.dtype, timings, compiled, sha256, out: args.out };
    if (args.json !== undefined) {
      const report = { model: args.model, adapter, dtype: info.dtype, parameters: imageParams, parametersText: parameters, timings, compiled, out: args.out, bytes: png.length, sha256 };
      await writeFile(args.json, `${JSON.stringify(report, null, 2)}\n`);
      log(`wrote ${args.json}`);
    }
    return out;
  } finally {
    engine.dispose();
  }
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(GENERATE_USAGE);
    return 0;
  }
  try {
    await runGenerateCli(argv);
    return 0;
  } catch (err) {
    const e = err as Error;
    console.error(`${e.name}: ${e.message}`);
    return err instanceof GenerateArgsError ? 2 : 1;
  }
}

// run only as the entry point (node .cache/cli/generate.js), not when a test imports runGenerateCli
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exit(await main(process.argv.slice(2)));
