/**
 * Per-op golden cases of the UNet: each runs one block of the real forward code (forward.ts) with the
 * tiny UNet's weights on the case's inputs.
 */
import type { Tensor } from '../gpu/tensor';
import { timestepEmbedding } from '../ops/timestep-embedding';
import { attentionModule, basicBlock, feedForward, mlp, resnet, transformer } from '../model/unet/forward';
import type { GpuUNetBackend } from '../model/unet/gpu-backend';
import type { UNetArch } from '../model/unet/arch';
import type { GoldenCase } from './case-file';
import type { GoldenEnv } from './env';
import { measure, type CaseResult } from './result';

type OpRun = (be: GpuUNetBackend, arch: UNetArch, inp: (name: string) => Promise<Tensor>) => Promise<Tensor>;

const TB0 = 'down_blocks.1.attentions.0.transformer_blocks.0';

function findResnet(arch: UNetArch, prefix: string) {
  const all = [...arch.down.flatMap((b) => b.resnets), ...arch.mid.resnets, ...arch.up.flatMap((b) => b.resnets)];
  const r = all.find((x) => x.prefix === prefix);
  if (!r) throw new Error(`no resnet ${prefix} in the architecture`);
  return r;
}

const resnetCase = (prefix: string): OpRun => async (be, arch, inp) => {
  const emb = await be.silu(await inp('input.temb'));
  return resnet(be, arch, findResnet(arch, prefix), await inp('input.hidden_states'), emb, false);
};

const w = (be: GpuUNetBackend, n: string) => be.weight(n);

const OP_RUNS: Record<string, OpRun> = {
  op_groupnorm_16ch: async (be, arch, inp) =>
    be.groupNorm(await inp('input.x'), w(be, 'conv_norm_out.weight'), w(be, 'conv_norm_out.bias'), { groups: arch.groups, eps: arch.eps, silu: false }),
  op_groupnorm_96ch: async (be, arch, inp) =>
    be.groupNorm(await inp('input.x'), w(be, 'up_blocks.0.resnets.0.norm1.weight'), w(be, 'up_blocks.0.resnets.0.norm1.bias'), { groups: arch.groups, eps: arch.eps, silu: false }),
  op_layernorm: async (be, _arch, inp) => be.layerNorm(await inp('input.x'), w(be, `${TB0}.norm1.weight`), w(be, `${TB0}.norm1.bias`), 1e-5),
  op_downsample: async (be, _arch, inp) =>
    be.conv2d(await inp('input.x'), w(be, 'down_blocks.0.downsamplers.0.conv.weight'), w(be, 'down_blocks.0.downsamplers.0.conv.bias'), { stride: 2, padding: 1 }),
  op_downsample_odd: async (be, _arch, inp) =>
    be.conv2d(await inp('input.x'), w(be, 'down_blocks.0.downsamplers.0.conv.weight'), w(be, 'down_blocks.0.downsamplers.0.conv.bias'), { stride: 2, padding: 1 }),
  op_upsample: async (be, _arch, inp) => {
    const x = await inp('input.x');
    const up = await be.upsampleNearest(x, 2 * x.shape[2]!, 2 * x.shape[3]!);
    return be.conv2d(up, w(be, 'up_blocks.0.upsamplers.0.conv.weight'), w(be, 'up_blocks.0.upsamplers.0.conv.bias'), { stride: 1, padding: 1 });
  },
  op_upsample_output_size: async (be, _arch, inp) => {
    const up = await be.upsampleNearest(await inp('input.x'), 7, 10); // the case's output_size
    return be.conv2d(up, w(be, 'up_blocks.0.upsamplers.0.conv.weight'), w(be, 'up_blocks.0.upsamplers.0.conv.bias'), { stride: 1, padding: 1 });
  },
  op_resnet_down0_res0: resnetCase('down_blocks.0.resnets.0'),
  op_resnet_down1_res0_shortcut: resnetCase('down_blocks.1.resnets.0'),
  op_resnet_up0_res0_shortcut: resnetCase('up_blocks.0.resnets.0'),
  op_attention_self: async (be, arch, inp) => {
    const x = await inp('input.hidden_states');
    return attentionModule(be, `${TB0}.attn1`, arch.down[1]!.attentions[0]!.heads, x, x);
  },
  op_attention_cross: async (be, arch, inp) =>
    attentionModule(be, `${TB0}.attn2`, arch.down[1]!.attentions[0]!.heads, await inp('input.hidden_states'), await inp('input.encoder_hidden_states')),
  op_basic_transformer_block: async (be, arch, inp) =>
    basicBlock(be, TB0, arch.down[1]!.attentions[0]!, await inp('input.hidden_states'), await inp('input.encoder_hidden_states')),
  op_feedforward_geglu: async (be, _arch, inp) => feedForward(be, `${TB0}.ff`, await inp('input.x')),
  op_transformer2d_down1: async (be, arch, inp) =>
    transformer(be, arch, arch.down[1]!.attentions[0]!, await inp('input.hidden_states'), await inp('input.encoder_hidden_states')),
  op_transformer2d_mid: async (be, arch, inp) =>
    transformer(be, arch, arch.mid.attention!, await inp('input.hidden_states'), await inp('input.encoder_hidden_states')),
  op_mid_block: async (be, arch, inp) => {
    const emb = await be.silu(await inp('input.temb'));
    const ctx = await inp('input.encoder_hidden_states');
    let h = await resnet(be, arch, arch.mid.resnets[0], await inp('input.hidden_states'), emb, false);
    h = await transformer(be, arch, arch.mid.attention!, h, ctx);
    return resnet(be, arch, arch.mid.resnets[1], h, emb, true);
  },
  op_time_embedding: async (be, _arch, inp) => mlp(be, 'time_embedding', await inp('input.t_emb')),
};

export const OP_CASES = new Set([...Object.keys(OP_RUNS), 'op_timestep_embedding']);

export async function opCase(env: GoldenEnv, c: GoldenCase): Promise<CaseResult[]> {
  if (c.name === 'op_timestep_embedding') return timestepCase(env, c);
  const run = OP_RUNS[c.name]!;
  const be = await env.backend();
  const unet = await env.loadedUNet();
  const inputs: Tensor[] = [];
  const inp = async (name: string) => {
    const t = env.upload(await c.f32(name), c.shape(name), name);
    inputs.push(t);
    return t;
  };
  const out = await run(be, unet.arch, inp);
  const data = await env.ctx.read(out);
  // Inputs a block consumed are already back in the pool; release only those still owned.
  env.ctx.releaseLive(out, ...inputs);
  return [measure(c.name, data, await c.f32('output'), env.tol('op'))];
}

/** The sinusoidal embedding is computed on the CPU (see gpu-backend.ts); compare all five outputs. */
async function timestepCase(env: GoldenEnv, c: GoldenCase): Promise<CaseResult[]> {
  const t = await c.numbers('input.timesteps');
  const ids = await c.numbers('input.time_ids_flat');
  const sdxl = { flipSinToCos: true, downscaleFreqShift: 0 };
  const runs: [string, number[], number, { flipSinToCos: boolean; downscaleFreqShift: number }][] = [
    ['emb16', t, 16, sdxl],
    ['emb16_noflip_shift1', t, 16, { flipSinToCos: false, downscaleFreqShift: 1 }],
    ['emb320', t, 320, sdxl],
    ['time_ids_emb16', ids, 16, sdxl],
    ['time_ids_emb256', ids, 256, sdxl],
  ];
  const out: CaseResult[] = [];
  for (const [name, ts, dim, cfg] of runs) {
    out.push(measure(`${c.name}[${name}]`, timestepEmbedding(ts, dim, cfg), await c.f32(`output.${name}`), 1e-6));
  }
  return out;
}
