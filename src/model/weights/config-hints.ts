/**
 * Config hints in a single-file checkpoint's safetensors `__metadata__`, for the few architecture
 * fields that no tensor shape carries. Everything else about a single file's UNet, VAE and text
 * encoders is read off its tensors (infer-config.ts); these fields are not:
 *   - attention heads (UNet per level, each text encoder): a head split does not change any weight's
 *     shape. Without a hint the reference configs' rules apply: SGM sd_xl_base.yaml `num_head_channels:
 *     64`, LDM v1-inference.yaml `num_heads: 8`, open_clip / OpenAI CLIP text towers `heads = width / 64`.
 *   - GroupNorm groups (UNet, VAE): a GroupNorm's weight is [C] whatever the groups. Without a hint, 32:
 *     openaimodel.py's normalization() is GroupNorm32 and ldm's VAE Normalize() is GroupNorm(32), fixed in
 *     the code, so every real SGM/LDM checkpoint has 32.
 *   - the VAE's scaling factor (the yaml's scale_factor; without a hint 0.13025 for SDXL, 0.18215 for SD-1.5).
 * Real checkpoints from model sites carry no hints and need none. Models with other values (the tiny
 * test model of golden/models: 8 groups, 16-wide heads) say so here; the studio's own converter writes
 * them (src/model/weights/tiny-single-file.fixture.ts). The value is JSON; unknown fields are refused.
 */
import { ModelFileError } from '../errors';

export const CONFIG_HINTS_KEY = 'cidm.config_hints';

export interface ConfigHints {
  readonly unet?: { readonly attention_head_dim?: number[]; readonly norm_num_groups?: number; readonly sample_size?: number };
  readonly vae?: { readonly norm_num_groups?: number; readonly scaling_factor?: number; readonly force_upcast?: boolean };
  readonly text_encoder?: { readonly num_attention_heads?: number };
  readonly text_encoder_2?: { readonly num_attention_heads?: number };
}

const ALLOWED: Record<string, Record<string, 'int' | 'ints' | 'num' | 'bool'>> = {
  unet: { attention_head_dim: 'ints', norm_num_groups: 'int', sample_size: 'int' },
  vae: { norm_num_groups: 'int', scaling_factor: 'num', force_upcast: 'bool' },
  text_encoder: { num_attention_heads: 'int' },
  text_encoder_2: { num_attention_heads: 'int' },
};

const isInt = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
const CHECK = {
  int: isInt,
  ints: (v: unknown) => Array.isArray(v) && v.length > 0 && v.every(isInt),
  num: (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0,
  bool: (v: unknown) => typeof v === 'boolean',
};

/** The hints of a file's metadata ({} when it has none); malformed hints are a `bad-config` error. */
export function readConfigHints(metadata: Readonly<Record<string, string>>, file: string): ConfigHints {
  const text = metadata[CONFIG_HINTS_KEY];
  if (text === undefined) return {};
  const fail = (field: string, why: string): never => {
    throw new ModelFileError('bad-config', file, `the metadata's ${CONFIG_HINTS_KEY} ${why}`, field);
  };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return fail(CONFIG_HINTS_KEY, `is not valid JSON (${(err as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return fail(CONFIG_HINTS_KEY, 'is not a JSON object');
  for (const [component, fields] of Object.entries(json)) {
    const allowed = ALLOWED[component];
    if (!allowed) fail(component, `names a component it cannot hint (only ${Object.keys(ALLOWED).join(', ')})`);
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) fail(component, 'has a hint that is not an object');
    for (const [k, v] of Object.entries(fields as Record<string, unknown>)) {
      const kind = allowed![k];
      if (!kind) fail(`${component}.${k}`, `hints a field that the tensors already tell or that is not supported (only ${Object.keys(allowed!).join(', ')})`);
      if (!CHECK[kind!](v)) fail(`${component}.${k}`, `has an invalid value ${JSON.stringify(v)}`);
    }
  }
  return json as ConfigHints;
}
