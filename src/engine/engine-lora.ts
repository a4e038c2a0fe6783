/**
 * Plain LoRAs on the loaded model (issue 13 point 1): a view of the model whose UNet and text encoders
 * carry the run's LoRAs, W' = W + Σ_i m_i · (alpha_i / r_i) · B_i A_i (Hu et al. 2021, eq. 3;
 * model/lora/lora.ts reads the four file layouts, m_i is the tag's UNet or text-encoder weight), built
 * with the machinery the golden UNet+LoRA case checks (ops/lora.ts: packLora, foldLora, fused
 * loraLinear).
 *
 * Folded or fused, as the engine decides:
 *  - folded (default): every targeted weight gets a new tensor W' once per LoRA set, so a step costs
 *    exactly a plain step (an attn1 whose q, k and v are all targeted gets them in one new fused buffer,
 *    so it stays one matmul: model/unet/fused-qkv.ts); the price is a second copy of the targeted
 *    weights while the set is in use;
 *  - fused (low-memory mode, when no concept is named): the UNet's linear layers keep W and apply
 *    (x·Dᵀ)·Uᵀ per call, no second copy; conv kernels and the text encoders (run once per prompt) are
 *    folded all the same. Not with concepts: EWA folds attn2 into new tensors and runs its own UNet,
 *    which would not see adapters keyed by the base tensors.
 * Everything downstream takes the view as it takes the loaded model: the plain loop (parts), EWA and
 * concept-aware regions (training: their fold starts from W', their layer-wise prompts go through the
 * LoRA'd text encoders, and the EWA library is rebuilt per view since it is cached per training parts).
 *
 * LoraViewCache keeps one view, keyed by the set and its weights (lora-run.ts loraSetKey), until the set
 * changes, the model is dropped, or a training-sized job needs the memory.
 */
import type { GpuContext } from '../gpu/context';
import { numel, type Tensor } from '../gpu/tensor';
import { parseUNetConfig } from '../model/config';
import { ModelFileError } from '../model/errors';
import { loadLora, type LoraLayer } from '../model/lora/lora';
import type { SafetensorsFile } from '../model/safetensors/reader';
import type { LoadedTextEncoder } from '../model/text-encoder/load';
import { GpuUNetBackend } from '../model/unet/gpu-backend';
import { allocateFusedQkvLike, destroyWeights, qkvWeightNames } from '../model/unet/fused-qkv';
import { foldLora, packLora, releasePacked, type PackedLora } from '../ops/lora';
import type { SdxlPipelineParts } from '../diffusion/text-to-image';
import { encodeSdxlPromptWith, type LoadedSdxlModel, type SdxlTrainingParts } from './sdxl-model';
import { loraSetKey } from './lora-run';
import type { GenerateLora } from './protocol';

/** Opens a stored LoRA file by its id (the worker: OPFS loras/<id>.safetensors). */
export type OpenLoraFile = (id: string) => Promise<SafetensorsFile>;

export interface LoraView {
  parts: SdxlPipelineParts;
  training: SdxlTrainingParts;
  /** How the UNet's linear layers carry the LoRAs. */
  mode: 'folded' | 'fused';
  release(): void;
}

interface Target {
  /** -1: the UNet; k: text encoder k. */
  component: number;
  name: string;
  weight: Tensor;
  adapters: { layer: LoraLayer; scale: number }[];
}

/** The weight a LoRA layer targets, checked for its shape (a LoRA of another model: 'wrong-model'). */
function targetWeight(file: string, l: LoraLayer, unet: ReadonlyMap<string, Tensor>, encoders: readonly LoadedTextEncoder[]): { component: number; weight: Tensor } {
  const component = l.component === 'unet' ? -1 : l.component === 'text_encoder' ? 0 : 1;
  const map = component < 0 ? unet : encoders[component]?.weights;
  const weight = map?.get(`${l.target}.weight`);
  if (!weight) throw new ModelFileError('wrong-model', file, `the loaded model has no ${l.component} module ${l.target}`, l.downKey);
  const out = weight.shape[0]!;
  if (out !== l.outFeatures || numel(weight.shape) / out !== l.inFeatures) {
    throw new ModelFileError('wrong-model', file, `the LoRA maps ${l.inFeatures} -> ${l.outFeatures} but ${l.target} maps ${numel(weight.shape) / out} -> ${out}`, l.downKey);
  }
  return { component, weight };
}

async function collectTargets(loaded: LoadedSdxlModel, loras: readonly GenerateLora[], open: OpenLoraFile): Promise<Map<string, Target>> {
  const { model } = loaded.training;
  const config = parseUNetConfig(loaded.unetConfig);
  const targets = new Map<string, Target>();
  for (const lora of loras) {
    const file = await open(lora.id);
    try {
      const { layers } = await loadLora(file, config);
      for (const l of layers) {
        const m = l.component === 'unet' ? lora.unet : lora.te;
        if (m === 0) continue;
        const { component, weight } = targetWeight(file.name, l, model.unet.weights, model.encoders);
        const key = `${component}:${l.target}`;
        const t = targets.get(key) ?? { component, name: `${l.target}.weight`, weight, adapters: [] };
        t.adapters.push({ layer: l, scale: m * l.scale });
        targets.set(key, t);
      }
    } finally {
      await file.close();
    }
  }
  return targets;
}

/**
 * For every self-attention whose q, k and v are all targeted (a plain LoRA usually targets all three):
 * a new fused q/k/v buffer laid out like the base one (model/unet/fused-qkv.ts), so the folds W'_q, W'_k,
 * W'_v written into its views keep the layer one matmul, in the memory three folded copies take.
 * By weight name; each buffer is pushed once onto `owned`.
 */
function fusedFoldTargets(ctx: GpuContext, unet: ReadonlyMap<string, Tensor>, targets: Iterable<Target>, owned: Tensor[]): Map<string, Tensor> {
  const names = new Set(Array.from(targets).filter((t) => t.component < 0).map((t) => t.name));
  const into = new Map<string, Tensor>();
  for (const name of names) {
    if (!name.endsWith('.to_q.weight')) continue;
    const prefix = name.slice(0, -'.to_q.weight'.length);
    if (!qkvWeightNames(prefix).every((n) => names.has(n))) continue;
    const views = allocateFusedQkvLike(ctx, unet, prefix, `${prefix}.to_qkv.weight + lora`);
    if (!views) continue;
    owned.push(views.get(name)!);
    for (const [n, v] of views) into.set(n, v);
  }
  return into;
}

/** Builds the model view carrying `loras` (non-empty). */
export async function buildLoraView(ctx: GpuContext, loaded: LoadedSdxlModel, loras: readonly GenerateLora[], open: OpenLoraFile, o: { fuse: boolean }): Promise<LoraView> {
  const { model } = loaded.training;
  const dtype = model.dtype;
  const targets = await collectTargets(loaded, loras, open);
  const folded: Tensor[] = [];
  const fused = new Map<Tensor, PackedLora>();
  const unetWeights = new Map(model.unet.weights);
  const teWeights = model.encoders.map(() => null as Map<string, Tensor> | null);
  const release = () => {
    destroyWeights(ctx, folded); // a fused q/k/v fold is three views of one buffer
    for (const p of fused.values()) releasePacked(ctx, p);
  };
  try {
    const into = o.fuse ? new Map<string, Tensor>() : fusedFoldTargets(ctx, model.unet.weights, targets.values(), folded);
    for (const t of targets.values()) {
      const out = t.weight.shape[0]!;
      // conv kernels [out, in, kh, kw] are folded as [out, in·kh·kw] (lora.ts flattens a LoCon down the same way)
      const flat: Tensor = { ...t.weight, shape: [out, numel(t.weight.shape) / out] };
      const uploads: Tensor[] = [];
      const adapters = t.adapters.map(({ layer, scale }) => {
        const down = ctx.upload(layer.down, [layer.rank, layer.inFeatures], dtype, `${layer.target}.lora_down`);
        const up = ctx.upload(layer.up, [layer.outFeatures, layer.rank], dtype, `${layer.target}.lora_up`);
        uploads.push(down, up);
        return { down, up, scale };
      });
      const packed = await packLora(ctx, flat, adapters);
      ctx.release(...uploads);
      if (o.fuse && t.component < 0 && t.weight.shape.length === 2) {
        fused.set(t.weight, packed);
        continue;
      }
      const w = await foldLora(ctx, flat, packed, t.component < 0 ? into.get(t.name) : undefined);
      releasePacked(ctx, packed);
      folded.push(w);
      const view: Tensor = { ...w, shape: t.weight.shape };
      if (t.component < 0) unetWeights.set(t.name, view);
      else (teWeights[t.component] ??= new Map(model.encoders[t.component]!.weights)).set(t.name, view);
    }
  } catch (err) {
    release();
    throw err;
  }
  const encoders = model.encoders.map((e, k) => (teWeights[k] ? { ...e, weights: teWeights[k] } : e));
  const teChanged = teWeights.some((m) => m !== null);
  const { tokenizers } = loaded.training;
  const parts: SdxlPipelineParts = {
    ...loaded.parts,
    unet: new GpuUNetBackend(ctx, unetWeights, dtype, `unet + ${loras.map((l) => l.name).join(' + ')}`, fused),
    // the loaded encoders unless a LoRA changed them (then the same encoding through the copies)
    ...(teChanged ? { encodePrompt: (prompt: string, enc?: Parameters<SdxlPipelineParts['encodePrompt']>[1]) => encodeSdxlPromptWith(ctx, tokenizers, encoders, prompt, enc) } : {}),
  };
  const training: SdxlTrainingParts = { ...loaded.training, model: { unet: { ...model.unet, weights: unetWeights }, encoders, dtype } };
  return { parts, training, mode: fused.size ? 'fused' : 'folded', release };
}

/** One LoRA view of the loaded model, kept while runs use the same set and weights. */
export class LoraViewCache {
  private entry: { loaded: LoadedSdxlModel; key: string; view: LoraView } | null = null;

  async get(ctx: GpuContext, loaded: LoadedSdxlModel, loras: readonly GenerateLora[], open: OpenLoraFile, o: { fuse: boolean }): Promise<LoraView> {
    const key = `${o.fuse ? 'fused' : 'folded'}:${loraSetKey(loras)}`;
    const e = this.entry;
    if (e && e.loaded === loaded && e.key === key) return e.view;
    this.invalidate(); // one set at a time: each holds a copy of its targeted weights
    const view = await buildLoraView(ctx, loaded, loras, open, o);
    this.entry = { loaded, key, view };
    return view;
  }

  /** Frees the cached view (another set, the model dropped, or a training job needs the memory). */
  invalidate(): void {
    this.entry?.view.release();
    this.entry = null;
  }

  /** Drops the view without touching its buffers (the device is lost). */
  forget(): void {
    this.entry = null;
  }
}
