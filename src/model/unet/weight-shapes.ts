/**
 * Every parameter of the UNet by diffusers name and shape, generated from the architecture. Used to
 * check a checkpoint is complete and of the right model before anything is uploaded, and by the
 * memory plan to count weight bytes without reading a file.
 */
import type { ResnetArch, TransformerArch, UNetArch } from './arch';

export type WeightShapes = Map<string, number[]>;

function linear(out: WeightShapes, prefix: string, cin: number, cout: number, bias = true): void {
  out.set(`${prefix}.weight`, [cout, cin]);
  if (bias) out.set(`${prefix}.bias`, [cout]);
}

function conv(out: WeightShapes, prefix: string, cin: number, cout: number, k: number): void {
  out.set(`${prefix}.weight`, [cout, cin, k, k]);
  out.set(`${prefix}.bias`, [cout]);
}

function norm(out: WeightShapes, prefix: string, c: number): void {
  out.set(`${prefix}.weight`, [c]);
  out.set(`${prefix}.bias`, [c]);
}

function resnet(out: WeightShapes, r: ResnetArch, tembDim: number): void {
  norm(out, `${r.prefix}.norm1`, r.cin);
  conv(out, `${r.prefix}.conv1`, r.cin, r.cout, 3);
  linear(out, `${r.prefix}.time_emb_proj`, tembDim, r.cout);
  norm(out, `${r.prefix}.norm2`, r.cout);
  conv(out, `${r.prefix}.conv2`, r.cout, r.cout, 3);
  if (r.shortcut) conv(out, `${r.prefix}.conv_shortcut`, r.cin, r.cout, 1);
}

function transformer(out: WeightShapes, t: TransformerArch): void {
  const c = t.channels;
  const inner = t.heads * t.headDim;
  norm(out, `${t.prefix}.norm`, c);
  if (t.linearProjection) linear(out, `${t.prefix}.proj_in`, c, inner);
  else conv(out, `${t.prefix}.proj_in`, c, inner, 1);
  for (let d = 0; d < t.depth; d++) {
    const b = `${t.prefix}.transformer_blocks.${d}`;
    norm(out, `${b}.norm1`, inner);
    for (const [attn, kvDim] of [['attn1', inner], ['attn2', t.crossDim]] as const) {
      linear(out, `${b}.${attn}.to_q`, inner, inner, false);
      linear(out, `${b}.${attn}.to_k`, kvDim, inner, false);
      linear(out, `${b}.${attn}.to_v`, kvDim, inner, false);
      linear(out, `${b}.${attn}.to_out.0`, inner, inner);
    }
    norm(out, `${b}.norm2`, inner);
    norm(out, `${b}.norm3`, inner);
    linear(out, `${b}.ff.net.0.proj`, inner, 8 * inner); // GEGLU: 2 × (4 × inner)
    linear(out, `${b}.ff.net.2`, 4 * inner, inner);
  }
  if (t.linearProjection) linear(out, `${t.prefix}.proj_out`, inner, c);
  else conv(out, `${t.prefix}.proj_out`, inner, c, 1);
}

export function unetWeightShapes(arch: UNetArch): WeightShapes {
  const out: WeightShapes = new Map();
  const temb = arch.timeEmbedDim;
  conv(out, 'conv_in', arch.convIn.cin, arch.convIn.cout, 3);
  linear(out, 'time_embedding.linear_1', arch.timeProjDim, temb);
  linear(out, 'time_embedding.linear_2', temb, temb);
  if (arch.addition) {
    linear(out, 'add_embedding.linear_1', arch.addition.projectionInputDim, temb);
    linear(out, 'add_embedding.linear_2', temb, temb);
  }
  for (const b of arch.down) {
    b.resnets.forEach((r, j) => {
      resnet(out, r, temb);
      const a = b.attentions[j];
      if (a) transformer(out, a);
    });
    if (b.downsample) conv(out, b.downsample.prefix, b.downsample.channels, b.downsample.channels, 3);
  }
  resnet(out, arch.mid.resnets[0], temb);
  if (arch.mid.attention) transformer(out, arch.mid.attention);
  resnet(out, arch.mid.resnets[1], temb);
  for (const b of arch.up) {
    b.resnets.forEach((r, j) => {
      resnet(out, r, temb);
      const a = b.attentions[j];
      if (a) transformer(out, a);
    });
    if (b.upsample) conv(out, b.upsample.prefix, b.upsample.channels, b.upsample.channels, 3);
  }
  norm(out, 'conv_norm_out', arch.convOut.cin);
  conv(out, 'conv_out', arch.convOut.cin, arch.convOut.cout, 3);
  return out;
}

export function parameterCount(shapes: WeightShapes): number {
  let n = 0;
  for (const s of shapes.values()) n += s.reduce((a, b) => a * b, 1);
  return n;
}
