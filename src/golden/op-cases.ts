/**
 * Per-op golden cases of the UNet (any name): the block to run is read from the case's weight prefix
 * (the manifest's `weights` line, case-kind.ts) and its tensors, and run through the real forward code
 * (model/unet/forward.ts) with the weights of the case's model folder. The prefix's last part says
 * what it is, the way diffusers names its modules:
 *
 *   …attn1 / …attn2           Attention (self when the case gives no encoder_hidden_states)
 *   …transformer_blocks.N     BasicTransformerBlock
 *   …ff                       FeedForward (GEGLU)
 *   …attentions.N             Transformer2DModel
 *   …resnets.N                ResnetBlock2D (with input.temb)
 *   …downsamplers.N           Downsample2D: conv 3×3, stride 2, padding 1
 *   …upsamplers.N             Upsample2D: nearest to params.output_size (else 2×), then conv 3×3
 *   mid_block                 UNetMidBlock2DCrossAttn: resnet → transformer → resnet
 *   time_embedding, add_embedding   TimestepEmbedding: linear → SiLU → linear
 *   a norm (…norm1, conv_norm_out, …norm)   LayerNorm on [B, N, C] inputs, GroupNorm on [B, C, H, W]
 *
 * Anything else is a SKIP with the reason. The sinusoidal timestep embedding (no weights) is
 * timestepCase, chosen by its tensors.
 */
import type { Tensor } from '../gpu/tensor';
import { timestepEmbedding } from '../ops/timestep-embedding';
import { attentionModule, basicBlock, feedForward, mlp, resnet, selfAttentionModule, transformer } from '../model/unet/forward';
import type { GpuUNetBackend } from '../model/unet/gpu-backend';
import type { ResnetArch, TransformerArch, UNetArch } from '../model/unet/arch';
import type { GoldenCase } from './case-file';
import type { GoldenEnv } from './env';
import { measure, type CaseResult } from './result';

/** A case's inputs by role: the main tensor, and the context / time embedding where it has them. */
interface OpInputs {
  x(): Promise<Tensor>;
  ctx(): Promise<Tensor>;
  temb(): Promise<Tensor>;
  has(role: 'ctx' | 'temb'): boolean;
  rank: number;
}

type OpRun = (be: GpuUNetBackend, arch: UNetArch, inp: OpInputs) => Promise<Tensor>;

/** diffusers' LayerNorm eps in BasicTransformerBlock, and GroupNorm's in Transformer2DModel. */
const LAYER_NORM_EPS = 1e-5;
const TRANSFORMER_GROUP_NORM_EPS = 1e-6;

function allResnets(arch: UNetArch): ResnetArch[] {
  return [...arch.down.flatMap((b) => b.resnets), ...arch.mid.resnets, ...arch.up.flatMap((b) => b.resnets)];
}

function allTransformers(arch: UNetArch): TransformerArch[] {
  return [...arch.down.flatMap((b) => b.attentions), ...(arch.mid.attention ? [arch.mid.attention] : []), ...arch.up.flatMap((b) => b.attentions)];
}

/** The Transformer2DModel a prefix lies in (for its head count). */
function transformerOf(arch: UNetArch, prefix: string): TransformerArch {
  const t = allTransformers(arch).find((x) => prefix === x.prefix || prefix.startsWith(`${x.prefix}.`));
  if (!t) throw new Error(`no Transformer2DModel holds ${prefix} in this UNet's architecture`);
  return t;
}

/** An eps stated in the case's description ("eps=1e-5", "eps 1e-6"), else the default. */
function epsFrom(description: string, fallback: number): number {
  const m = /eps\s*=?\s*([0-9.]+(?:e-?\d+)?)/i.exec(description);
  const v = m ? Number(m[1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

/** The run for a weight prefix, or the reason there is none. */
export function opRunFor(prefix: string, description: string, params: { output_size?: [number, number] } | undefined): OpRun | string {
  const p = prefix.replace(/\.$/, '');
  const w = (be: GpuUNetBackend, n: string) => be.weight(`${p}.${n}`);
  if (/\.attn[12]$/.test(p)) {
    return async (be, arch, inp) => {
      const x = await inp.x();
      const heads = transformerOf(arch, p).heads;
      // self-attention as the UNet runs it (one q/k/v matmul where the loader fused the weights)
      return inp.has('ctx') ? attentionModule(be, p, heads, x, await inp.ctx()) : selfAttentionModule(be, p, heads, x);
    };
  }
  if (/\.transformer_blocks\.\d+$/.test(p)) return async (be, arch, inp) => basicBlock(be, p, transformerOf(arch, p), await inp.x(), await inp.ctx());
  if (/\.ff$/.test(p)) return async (be, _arch, inp) => feedForward(be, p, await inp.x());
  if (/(^|\.)attentions\.\d+$/.test(p)) {
    return async (be, arch, inp) => {
      const t = allTransformers(arch).find((x) => x.prefix === p);
      if (!t) throw new Error(`no Transformer2DModel ${p} in this UNet's architecture`);
      return transformer(be, arch, t, await inp.x(), await inp.ctx());
    };
  }
  if (/(^|\.)resnets\.\d+$/.test(p)) {
    return async (be, arch, inp) => {
      const r = allResnets(arch).find((x) => x.prefix === p);
      if (!r) throw new Error(`no ResnetBlock2D ${p} in this UNet's architecture`);
      return resnet(be, arch, r, await inp.x(), await be.silu(await inp.temb()), false);
    };
  }
  if (/(^|\.)downsamplers\.\d+$/.test(p)) return async (be, _arch, inp) => be.conv2d(await inp.x(), w(be, 'conv.weight'), w(be, 'conv.bias'), { stride: 2, padding: 1 });
  if (/(^|\.)upsamplers\.\d+$/.test(p)) {
    return async (be, _arch, inp) => {
      const x = await inp.x();
      const [oh, ow] = params?.output_size ?? [2 * x.shape[2]!, 2 * x.shape[3]!];
      const up = await be.upsampleNearest(x, oh, ow);
      return be.conv2d(up, w(be, 'conv.weight'), w(be, 'conv.bias'), { stride: 1, padding: 1 });
    };
  }
  if (p === 'mid_block') {
    return async (be, arch, inp) => {
      const emb = await be.silu(await inp.temb());
      const ctx = inp.has('ctx') ? await inp.ctx() : null;
      let h = await resnet(be, arch, arch.mid.resnets[0], await inp.x(), emb, false);
      if (arch.mid.attention) {
        if (!ctx) throw new Error('mid_block with attention needs input.encoder_hidden_states');
        h = await transformer(be, arch, arch.mid.attention, h, ctx);
      }
      return resnet(be, arch, arch.mid.resnets[1], h, emb, true);
    };
  }
  if (p === 'time_embedding' || p === 'add_embedding') return async (be, _arch, inp) => mlp(be, p, await inp.x());
  if (/(^|\.|_)norm\d*$|norm_out$/.test(p)) {
    return async (be, arch, inp) => {
      const x = await inp.x();
      if (inp.rank === 3) return be.layerNorm(x, w(be, 'weight'), w(be, 'bias'), epsFrom(description, LAYER_NORM_EPS));
      // a Transformer2DModel's own GroupNorm (…attentions.N.norm) uses eps 1e-6; the ResNets' and conv_norm_out the config's
      const inTransformer = /attentions\.\d+\.norm$/.test(p);
      return be.groupNorm(x, w(be, 'weight'), w(be, 'bias'), { groups: arch.groups, eps: epsFrom(description, inTransformer ? TRANSFORMER_GROUP_NORM_EPS : arch.eps), silu: false });
    };
  }
  return `no per-op handler for UNet weights under "${prefix}" (a whole down/up block or an unknown module)`;
}

const MAIN_INPUTS = ['input.hidden_states', 'input.x', 'input.sample', 'input.t_emb', 'input.emb'];

/** The case's main input: a known name, else its only input that is not the context or temb. */
export function mainInputName(names: readonly string[]): string | null {
  for (const n of MAIN_INPUTS) if (names.includes(n)) return n;
  const rest = names.filter((n) => n.startsWith('input.') && n !== 'input.encoder_hidden_states' && n !== 'input.temb');
  return rest.length === 1 ? rest[0]! : null;
}

/** The case's expected output: `output`, else its only output.* tensor. */
export function mainOutputName(names: readonly string[]): string | null {
  if (names.includes('output')) return 'output';
  const outs = names.filter((n) => n.startsWith('output'));
  return outs.length === 1 ? outs[0]! : null;
}

export async function opCase(env: GoldenEnv, c: GoldenCase, folder: string, prefix: string): Promise<CaseResult[]> {
  const params = c.entry.params as { output_size?: [number, number] } | undefined;
  const run = opRunFor(prefix, String(c.entry.description ?? ''), params);
  if (typeof run === 'string') return [{ name: c.name, status: 'SKIP', why: run }];
  const names = c.names();
  const xName = mainInputName(names);
  const outName = mainOutputName(names);
  if (!xName || !outName) return [{ name: c.name, status: 'SKIP', why: `cannot tell the op's input and output apart among ${names.join(', ')}` }];
  const be = await env.backend(undefined, undefined, folder);
  const unet = await env.loadedUNet(folder);
  const inputs: Tensor[] = [];
  const up = async (name: string) => {
    const t = env.upload(await c.f32(name), c.shape(name), name);
    inputs.push(t);
    return t;
  };
  const inp: OpInputs = {
    x: () => up(xName),
    ctx: () => up('input.encoder_hidden_states'),
    temb: () => up('input.temb'),
    has: (role) => c.has(role === 'ctx' ? 'input.encoder_hidden_states' : 'input.temb'),
    rank: c.shape(xName).length,
  };
  const out = await run(be, unet.arch, inp);
  const data = await env.ctx.read(out);
  // Inputs a block consumed are already back in the pool; release only those still owned.
  env.ctx.releaseLive(out, ...inputs);
  return [measure(c.name, data, await c.f32(outName), env.tol('op'))];
}

/**
 * The sinusoidal embedding (computed on the CPU, see gpu-backend.ts): every output.<what><dim>[_flags]
 * tensor, e.g. emb16, emb320, time_ids_emb256 (SDXL: flip_sin_to_cos, shift 0) and
 * emb16_noflip_shift1; inputs: input.timesteps, and input.time_ids_flat for the time_ids outputs.
 */
export async function timestepCase(_env: GoldenEnv, c: GoldenCase): Promise<CaseResult[]> {
  const out: CaseResult[] = [];
  for (const name of c.names().filter((n) => n.startsWith('output.'))) {
    const m = /^output\.(time_ids_)?emb(\d+)(.*)$/.exec(name);
    if (!m) {
      out.push({ name: `${c.name}[${name}]`, status: 'SKIP', why: 'not an embedding output this runner can name the settings of' });
      continue;
    }
    const source = m[1] ? 'input.time_ids_flat' : 'input.timesteps';
    if (!c.has(source)) {
      out.push({ name: `${c.name}[${name}]`, status: 'SKIP', why: `the case has no ${source}` });
      continue;
    }
    const flags = m[3] ?? '';
    const cfg = { flipSinToCos: !/noflip/.test(flags), downscaleFreqShift: Number(/shift(\d+)/.exec(flags)?.[1] ?? 0) };
    out.push(measure(`${c.name}[${name.slice('output.'.length)}]`, timestepEmbedding(await c.numbers(source), Number(m[2]), cfg), await c.f32(name), 1e-6));
  }
  return out;
}
