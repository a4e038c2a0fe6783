/**
 * A diffusers UNet config.json read off the tensors of a single-file checkpoint (SGM/LDM names under
 * `model.diffusion_model.`), as diffusers' from_single_file builds it from the original yaml
 * (single_file_utils.create_unet_diffusers_config), except that every size comes from a shape, so a
 * checkpoint of any width or depth (the tiny test model as well as SDXL base) gets its own config:
 *   input_blocks.0.0 conv_in [C0, in, k, k]        -> in_channels, conv_in_kernel, block_out_channels[0]
 *   input_blocks.k.0 resnets / .0.op downsamplers  -> levels, layers_per_block, block_out_channels
 *   input_blocks.k.1 (a transformer)               -> CrossAttnDownBlock2D, its transformer_blocks count,
 *                                                     proj_in rank (2: linear projection), attn2.to_k width
 *   output_blocks.k.1 (a transformer)              -> CrossAttnUpBlock2D per up level
 *   label_emb.0.0 [T, adm]                         -> SDXL's text_time add embedding: adm = pooled + 6 × d
 *   out.2 conv_out [out, C0, k, k], time_embed.0   -> out_channels, conv_out_kernel, time embedding width
 * What no shape tells (heads, GroupNorm groups) comes from config-hints.ts. The result is checked against
 * the file's full tensor list later (planSingleFile), so a layout this misreads still fails by name.
 */
import { ModelFileError } from '../errors';
import type { UNetConfigJson } from '../unet/arch';
import type { ConfigHints } from './config-hints';
import { SGM_UNET_PREFIX } from './unet-sgm';

/** Shape of a tensor by its full name in the file, or undefined. */
export type ShapeOf = (name: string) => readonly number[] | undefined;

export interface UNetInferInput {
  readonly file: string;
  readonly kind: 'sdxl' | 'sd15';
  readonly names: readonly string[];
  readonly shape: ShapeOf;
  /** Width of the pooled text embedding (OpenCLIP-bigG's projection), when the file has that encoder. */
  readonly pooledDim?: number;
  readonly hints: ConfigHints['unet'];
}

/** SDXL's micro-conditioning width when the file holds no second text encoder (sd_xl_base.yaml: outdim 256). */
const SDXL_ADD_TIME_DIM = 256;

export function inferUNetConfig(o: UNetInferInput): UNetConfigJson {
  const p = SGM_UNET_PREFIX;
  const fail = (why: string, tensor?: string): never => {
    throw new ModelFileError('wrong-model', o.file, `cannot read the UNet's architecture off its tensors: ${why}`, tensor);
  };
  const need = (name: string, rank: number): readonly number[] => {
    const s = o.shape(p + name);
    if (!s) return fail('the tensor is missing', p + name);
    if (s.length !== rank) fail(`expected ${rank} dimensions, found [${s.join(', ')}]`, p + name);
    return s;
  };
  const has = (prefix: string) => o.names.some((n) => n.startsWith(p + prefix));
  const count = (prefix: string, re: RegExp) => {
    const seen = new Set<string>();
    for (const n of o.names) if (n.startsWith(p + prefix)) seen.add(re.exec(n.slice(p.length + prefix.length))?.[1] ?? '');
    seen.delete('');
    return seen.size;
  };

  const convIn = need('input_blocks.0.0.weight', 4);
  const convOut = need('out.2.weight', 4);
  const timeEmbed = need('time_embed.0.weight', 2);

  // Walk input_blocks: resnets of a level until its downsampler (.0.op); the last level has none.
  const channels: number[] = [];
  const layers: number[] = [];
  const attn: boolean[] = [];
  const depth: number[] = [];
  let linear: boolean | undefined;
  let context: number | undefined;
  let k = 1;
  for (;;) {
    let n = 0;
    let c = 0;
    let levelDepth: number | undefined;
    while (has(`input_blocks.${k}.0.in_layers.`)) {
      c = need(`input_blocks.${k}.0.out_layers.3.weight`, 4)[0]!;
      if (has(`input_blocks.${k}.1.`)) {
        const d = count(`input_blocks.${k}.1.transformer_blocks.`, /^(\d+)\./);
        if (levelDepth !== undefined && levelDepth !== d) fail(`level ${channels.length} mixes transformer depths ${levelDepth} and ${d}`);
        levelDepth = d;
        const projIn = `input_blocks.${k}.1.proj_in.weight`;
        linear = (o.shape(p + projIn) ?? fail('the tensor is missing', p + projIn)).length === 2;
        context = need(`input_blocks.${k}.1.transformer_blocks.0.attn2.to_k.weight`, 2)[1]!;
      }
      n++;
      k++;
    }
    if (n === 0) fail(`input_blocks.${k} is neither a resnet nor a downsampler`);
    // diffusers lists a depth for every level; levels without transformers get 1 (sd_xl_base.yaml's 0)
    depth.push(levelDepth ?? 1);
    channels.push(c);
    layers.push(n);
    attn.push(levelDepth !== undefined);
    if (!has(`input_blocks.${k}.0.op.`)) break;
    k++;
  }
  if (layers.some((l) => l !== layers[0])) fail(`the levels have different resnet counts (${layers.join(', ')})`);
  if (channels[0] !== convIn[0]) fail(`conv_in gives ${convIn[0]} channels but the first level has ${channels[0]}`);
  if (!has('middle_block.1.')) fail('the middle block has no transformer');
  if (linear === undefined || context === undefined) fail('no level has a transformer');

  // Up levels mirror the down levels; each one's first layer says whether it has a transformer.
  const up: string[] = [];
  let at = 0;
  for (let i = 0; i < channels.length; i++) {
    up.push(has(`output_blocks.${at}.1.transformer_blocks.`) ? 'CrossAttnUpBlock2D' : 'UpBlock2D');
    at += layers[0]! + 1;
  }

  const heads = o.hints?.attention_head_dim ?? channels.map((c, i) => {
    // sd_xl_base.yaml: num_head_channels 64; v1-inference.yaml: num_heads 8 (per level)
    if (o.kind === 'sd15') return 8;
    if (c % 64 !== 0) fail(`level ${i} has ${c} channels, not a multiple of SDXL's 64-wide heads; the file needs a ${'`unet.attention_head_dim`'} config hint`);
    return c / 64;
  });
  if (heads.length !== channels.length) fail(`the heads hint has ${heads.length} levels, the UNet ${channels.length}`);

  const config: UNetConfigJson = {
    _class_name: 'UNet2DConditionModel',
    act_fn: 'silu',
    in_channels: convIn[1]!,
    out_channels: convOut[0]!,
    conv_in_kernel: convIn[2]!,
    conv_out_kernel: convOut[2]!,
    block_out_channels: channels,
    down_block_types: attn.map((a) => (a ? 'CrossAttnDownBlock2D' : 'DownBlock2D')),
    up_block_types: up,
    mid_block_type: 'UNetMidBlock2DCrossAttn',
    layers_per_block: layers[0]!,
    transformer_layers_per_block: depth,
    attention_head_dim: heads,
    cross_attention_dim: context!,
    use_linear_projection: linear!,
    // openaimodel.py: GroupNorm32 (eps 1e-5), timestep_embedding puts cos first with no shift
    norm_num_groups: o.hints?.norm_num_groups ?? 32,
    norm_eps: 1e-5,
    flip_sin_to_cos: true,
    freq_shift: 0,
    downsample_padding: 1,
    mid_block_scale_factor: 1,
    center_input_sample: false,
    upcast_attention: false,
    sample_size: o.hints?.sample_size ?? (o.kind === 'sdxl' ? 128 : 64),
  };
  if (timeEmbed[0] !== 4 * channels[0]!) config.time_embedding_dim = timeEmbed[0]!;
  if (o.kind === 'sdxl') {
    const adm = need('label_emb.0.0.weight', 2)[1]!;
    const timeDim = o.pooledDim !== undefined ? (adm - o.pooledDim) / 6 : SDXL_ADD_TIME_DIM;
    if (!Number.isSafeInteger(timeDim) || timeDim < 1) fail(`the add embedding takes ${adm} inputs, which is not the ${o.pooledDim}-wide pooled text plus 6 time ids`, `${p}label_emb.0.0.weight`);
    config.addition_embed_type = 'text_time';
    config.addition_time_embed_dim = timeDim;
    config.projection_class_embeddings_input_dim = adm;
  }
  return config;
}
