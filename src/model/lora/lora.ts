/**
 * LoRA files -> one uniform list of layers, whatever the key grammar (keys.ts):
 *   { component, target module, down A [r, in], up B [out, r], alpha?, scale = alpha / r (1 without alpha) }
 * so that the module's effective weight is W + s · scale · B A (LoRA, Hu et al. 2021, eq. 3; `alpha / r`
 * is their α/r scaling, kohya stores α as a 0-d tensor, peft and pre-peft diffusers files store none,
 * which means α = r). `s` is the user's strength, applied by the caller. A conv LoRA (kohya LoCon,
 * down [r, in, kh, kw], up [out, r, 1, 1]) is flattened to in = in·kh·kw; the delta then has the
 * conv weight's row-major layout [out, in, kh, kw].
 */
import type { UNetConfig } from '../config';
import { ModelFileError } from '../errors';
import type { SafetensorsFile } from '../safetensors/reader';
import type { TensorSpec } from '../weights/unet-diffusers';
import { kohyaUNetTable, looksLikeLoraKey, parseLoraKey, unetLoraModules, type LoraComponent, type LoraFormat } from './keys';

export interface LoraLayerIndex {
  readonly component: LoraComponent;
  /** Diffusers / transformers module name, e.g. 'down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q'. */
  readonly target: string;
  readonly format: LoraFormat;
  readonly rank: number;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** Keys in the file. */
  readonly downKey: string;
  readonly upKey: string;
  readonly alphaKey?: string;
}

export interface LoraLayer extends LoraLayerIndex {
  /** A, [rank, inFeatures] row-major. */
  readonly down: Float32Array<ArrayBuffer>;
  /** B, [outFeatures, rank] row-major. */
  readonly up: Float32Array<ArrayBuffer>;
  readonly alpha?: number;
  /** alpha / rank, or 1 when the file stores no alpha. */
  readonly scale: number;
}

export interface LoraIndex {
  readonly file: string;
  /** The grammar of the file's keys (a file mixing grammars reports the first seen). */
  readonly format: LoraFormat;
  /** Layers sorted by component, then target. */
  readonly layers: readonly LoraLayerIndex[];
  /** Tensors that are not LoRA parts (e.g. embedded textual-inversion vectors). */
  readonly ignored: readonly string[];
}

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/**
 * Pairs the file's keys into layers and checks them without reading data: every down has an up of
 * the same rank, every UNet target exists in `unet` with matching in/out sizes (`wrong-model` if not).
 */
export function indexLora(file: SafetensorsFile, unet: UNetConfig): LoraIndex {
  const table = kohyaUNetTable(unet);
  const modules = unetLoraModules(unet);
  const groups = new Map<string, { component: LoraComponent; module: string; format: LoraFormat; down?: string; up?: string; alpha?: string }>();
  const ignored: string[] = [];
  let format: LoraFormat | undefined;
  for (const key of file.names()) {
    const p = parseLoraKey(key, table);
    if (!p) {
      if (!looksLikeLoraKey(key)) {
        ignored.push(key);
        continue;
      }
      if (/hada_|lokr_|dora_scale/.test(key)) throw new ModelFileError('bad-lora', file.name, 'LoHa / LoKr / DoRA layers are not supported', key);
      // A kohya UNet key of the right grammar whose module this UNet lacks: a LoRA for another model.
      const foreign = /^lora_unet_.+\.(lora_down\.weight|lora_up\.weight|alpha)$/.test(key);
      throw new ModelFileError(foreign ? 'wrong-model' : 'bad-lora', file.name, foreign ? 'this model has no such module' : 'the key fits no known LoRA layout', key);
    }
    format ??= p.format;
    const id = `${p.component}:${p.module}`;
    const g = groups.get(id) ?? { component: p.component, module: p.module, format: p.format };
    if (g[p.role] !== undefined) throw new ModelFileError('bad-lora', file.name, `two keys give the ${p.role} of ${p.module} (also ${g[p.role]})`, key);
    g[p.role] = key;
    groups.set(id, g);
  }
  const layers: LoraLayerIndex[] = [];
  for (const g of groups.values()) {
    if (!g.down || !g.up) {
      throw new ModelFileError('bad-lora', file.name, `${g.module} has ${g.down ? 'a down but no up' : 'an up but no down'} matrix`, g.down ?? g.up ?? g.alpha);
    }
    const d = file.info(g.down).shape;
    const u = file.info(g.up).shape;
    const rank = d[0] ?? 0;
    if (d.length < 2 || u.length < 2 || rank === 0 || u[1] !== rank || prod(u.slice(2)) !== 1) {
      throw new ModelFileError('bad-lora', file.name, `down [${d.join(', ')}] and up [${u.join(', ')}] do not form a rank-r pair`, g.down);
    }
    const layer = { component: g.component, target: g.module, format: g.format, rank, inFeatures: prod(d.slice(1)), outFeatures: u[0]!, downKey: g.down, upKey: g.up, ...(g.alpha ? { alphaKey: g.alpha } : {}) };
    if (g.component === 'unet') checkTarget(file.name, layer, modules.get(g.module));
    layers.push(layer);
  }
  if (layers.length === 0) throw new ModelFileError('bad-lora', file.name, 'the file holds no LoRA layers');
  layers.sort((a, b) => (a.component === b.component ? (a.target < b.target ? -1 : 1) : a.component < b.component ? -1 : 1));
  return { file: file.name, format: format!, layers, ignored };
}

function checkTarget(file: string, l: LoraLayerIndex, spec: TensorSpec | undefined): void {
  if (!spec) throw new ModelFileError('wrong-model', file, `the model has no module ${l.target}`, l.downKey);
  const out = spec.shape[0]!;
  const inF = prod(spec.shape.slice(1));
  if (out !== l.outFeatures || inF !== l.inFeatures) {
    throw new ModelFileError('wrong-model', file, `the LoRA maps ${l.inFeatures} -> ${l.outFeatures} but ${l.target} maps ${inF} -> ${out}`, l.downKey);
  }
}

/** Reads every layer's matrices and alpha (tensor by tensor). */
export async function loadLora(file: SafetensorsFile, unet: UNetConfig): Promise<{ index: LoraIndex; layers: LoraLayer[] }> {
  const index = indexLora(file, unet);
  const layers: LoraLayer[] = [];
  for (const l of index.layers) layers.push(await loadLoraLayer(file, l));
  return { index, layers };
}

export async function loadLoraLayer(file: SafetensorsFile, l: LoraLayerIndex): Promise<LoraLayer> {
  const down = await file.read(l.downKey, 'f32');
  const up = await file.read(l.upKey, 'f32');
  if (l.alphaKey === undefined) return { ...l, down, up, scale: 1 };
  const alpha = await file.readScalar(l.alphaKey);
  if (!Number.isFinite(alpha)) throw new ModelFileError('bad-lora', file.name, `alpha is ${alpha}`, l.alphaKey);
  return { ...l, down, up, alpha, scale: alpha / l.rank };
}

/** The layer's weight delta scale · B A, [outFeatures, inFeatures] row-major, times `strength`. */
export function loraDelta(l: LoraLayer, strength = 1): Float32Array<ArrayBuffer> {
  const { rank: r, inFeatures: n, outFeatures: m } = l;
  const out = new Float32Array(m * n);
  const s = l.scale * strength;
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < r; k++) {
      const b = l.up[i * r + k]! * s;
      if (b === 0) continue;
      const row = k * n;
      for (let j = 0; j < n; j++) out[i * n + j]! += b * l.down[row + j]!;
    }
  }
  return out;
}
