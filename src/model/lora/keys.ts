/**
 * LoRA key grammars -> (component, diffusers module, role). Three families are in use for SD/SDXL:
 *  - peft (diffusers ≥ 0.24): `unet.<module>.lora_A.weight` (down, [r, in]) / `.lora_B.weight` (up, [out, r]);
 *  - pre-peft diffusers: `unet.<module>.lora.down.weight` / `.lora.up.weight`, also `.lora_linear_layer.`
 *    and the attention-processor form `…attn1.processor.to_q_lora.down.weight` (no `unet.` prefix);
 *  - kohya sd-scripts: `lora_unet_<module with '_' for '.'>.lora_down.weight` / `.lora_up.weight` / `.alpha`,
 *    `lora_te_` / `lora_te1_` / `lora_te2_` for the text encoders. SDXL kohya files name UNet modules by
 *    their SGM (input_blocks/…) path, SD-1.5 ones by the diffusers path; both are looked up in a table
 *    built from the UNet config, since '_' cannot be split back into '.' without knowing the modules.
 */
import type { UNetConfig } from '../config';
import type { Component } from '../weights/mapping';
import { unetTensorSpecs, type TensorSpec } from '../weights/unet-diffusers';
import { diffusersToSgmUNetName } from '../weights/unet-sgm';

export type LoraRole = 'down' | 'up' | 'alpha';
export type LoraFormat = 'peft' | 'diffusers-legacy' | 'kohya';
export type LoraComponent = Exclude<Component, 'vae'>;

export interface ParsedLoraKey {
  readonly format: LoraFormat;
  readonly component: LoraComponent;
  /** Module name inside the component, e.g. 'down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q'. */
  readonly module: string;
  readonly role: LoraRole;
}

/** UNet modules that carry a weight matrix or conv kernel (what a LoRA can target), with weight shapes. */
export function unetLoraModules(c: UNetConfig): Map<string, TensorSpec> {
  const out = new Map<string, TensorSpec>();
  for (const s of unetTensorSpecs(c)) if (s.name.endsWith('.weight') && s.shape.length >= 2) out.set(s.name.slice(0, -7), s);
  return out;
}

/** kohya UNet module name (after `lora_unet_`) -> diffusers module, for both naming schemes. */
export function kohyaUNetTable(c: UNetConfig): Map<string, string> {
  const table = new Map<string, string>();
  const add = (key: string, module: string) => {
    const prev = table.get(key);
    if (prev !== undefined && prev !== module) throw new Error(`lora keys: kohya name ${key} is ambiguous (${prev}, ${module})`);
    table.set(key, module);
  };
  for (const module of unetLoraModules(c).keys()) {
    add(module.replace(/\./g, '_'), module);
    add(diffusersToSgmUNetName(`${module}.weight`, c).slice(0, -7).replace(/\./g, '_'), module);
  }
  return table;
}

const COMPONENT_PREFIX: [string, LoraComponent][] = [
  ['unet.', 'unet'],
  ['text_encoder.', 'text_encoder'],
  ['text_encoder_2.', 'text_encoder_2'],
];
const KOHYA_TE = /^text_model_encoder_layers_(\d+)_(self_attn|mlp)_(q_proj|k_proj|v_proj|out_proj|fc1|fc2)$/;

function diffusersKey(key: string): ParsedLoraKey | undefined {
  let rest = key.replace(/^base_model\.model\./, '');
  let component: LoraComponent = 'unet';
  const pre = COMPONENT_PREFIX.find(([p]) => rest.startsWith(p));
  if (pre) {
    rest = rest.slice(pre[0].length);
    component = pre[1];
  } else if (!/^(down_blocks|mid_block|up_blocks|conv_in|conv_out|time_embedding|add_embedding)\./.test(rest)) {
    return undefined;
  }
  let m = /^(.+)\.lora_(A|B)\.weight$/.exec(rest);
  if (m) return { format: 'peft', component, module: m[1]!, role: m[2] === 'A' ? 'down' : 'up' };
  // Attention-processor form: attn1.processor.to_q_lora.down.weight -> attn1.to_q ; to_out_lora -> to_out.0.
  rest = rest.replace(/\.processor\.(to_[qkv])_lora\./, '.$1.lora.').replace(/\.processor\.to_out_lora\./, '.to_out.0.lora.');
  m = /^(.+)\.(?:lora|lora_linear_layer)\.(down|up)\.weight$/.exec(rest);
  if (m) return { format: 'diffusers-legacy', component, module: m[1]!, role: m[2] as LoraRole };
  m = /^(.+)\.alpha$/.exec(rest);
  if (m) return { format: 'peft', component, module: m[1]!, role: 'alpha' };
  return undefined;
}

function kohyaKey(key: string, unetTable: ReadonlyMap<string, string>): ParsedLoraKey | undefined {
  const m = /^lora_(unet|te|te1|te2)_(.+?)\.(lora_down\.weight|lora_up\.weight|alpha)$/.exec(key);
  if (!m) return undefined;
  const role: LoraRole = m[3] === 'alpha' ? 'alpha' : m[3]!.startsWith('lora_down') ? 'down' : 'up';
  if (m[1] === 'unet') {
    const module = unetTable.get(m[2]!);
    return module === undefined ? undefined : { format: 'kohya', component: 'unet', module, role };
  }
  const te = KOHYA_TE.exec(m[2]!);
  if (!te) return undefined;
  const component: LoraComponent = m[1] === 'te2' ? 'text_encoder_2' : 'text_encoder';
  return { format: 'kohya', component, module: `text_model.encoder.layers.${te[1]}.${te[2]}.${te[3]}`, role };
}

/** Parses one key; undefined for keys of no known LoRA grammar (or a kohya UNet module the model lacks). */
export function parseLoraKey(key: string, unetTable: ReadonlyMap<string, string>): ParsedLoraKey | undefined {
  return key.startsWith('lora_') ? kohyaKey(key, unetTable) : diffusersKey(key);
}

/** Keys that look like LoRA parts (so an unparsable one is an error, not an unrelated extra tensor). */
export function looksLikeLoraKey(key: string): boolean {
  return /(^lora_|lora_[AB]\.|\.lora(_linear_layer)?\.|_lora\.|\.alpha$|hada_|lokr_|dora_scale)/.test(key);
}
