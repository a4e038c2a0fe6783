/**
 * What a golden case is, read from its manifest entry and the names of the tensors it holds, never
 * from its name (issue "every model", point 8: a set with other case names and other architectures
 * must run entirely). Pure: the runner opens the file, lists its tensors and asks here what to do.
 *
 * The clues, strongest first: the entry's `group` for the training sets (cidm, ops_backward); a JSON
 * file of tokenizer ids; a pipeline `call`; LoRA files; then the tensors: a UNet's input.sample →
 * output.sample*, a VAE's input.z / input.image, text-encoder ids, a scheduler trajectory (x_T,
 * model_output, prev_sample); last the per-op cases, whose `weights` line names the model file and
 * the weight prefix the op runs on ("tensors of models/unet/… whose names start with 'mid_block.'").
 * The case name is used only as a last hint for a scheduler's kind when nothing else names it.
 */
import type { SchedulerKind } from '../diffusion/schedulers';

export type CaseKind =
  | { kind: 'cidm' }
  | { kind: 'ops-backward' }
  | { kind: 'tokenization' }
  | { kind: 'pipeline'; scheduler: SchedulerKind; model: string }
  | { kind: 'lora'; model: string }
  | { kind: 'unet'; model: string }
  | { kind: 'text-encoders'; models: string[] }
  | { kind: 'vae-decode'; model: string }
  | { kind: 'vae-encode'; model: string }
  | { kind: 'scheduler'; scheduler: SchedulerKind }
  | { kind: 'timestep-embedding' }
  | { kind: 'op'; network: 'unet' | 'vae'; model: string; prefix: string }
  | { kind: 'skip'; why: string };

export interface CaseEntry {
  file: string;
  group?: string;
  description?: string;
  reference?: string;
  model?: string;
  models?: string | string[];
  scheduler?: unknown;
  call?: unknown;
  config?: unknown;
  weights?: unknown;
  lora_files?: unknown;
  [key: string]: unknown;
}

/** diffusers class names and the studio's sampler names → the studio's scheduler kind. */
const SCHEDULER_CLASSES: [RegExp, SchedulerKind][] = [
  [/EulerAncestralDiscrete/i, 'euler_ancestral'],
  [/EulerDiscrete/i, 'euler'],
  [/DDIMScheduler/i, 'ddim'],
  [/PNDMScheduler/i, 'pndm'],
  [/DPMSolverMultistep/i, 'dpmpp_2m'],
];
const SCHEDULER_NAMES: [RegExp, SchedulerKind][] = [
  [/euler[_ -]?(a\b|ancestral)/i, 'euler_ancestral'],
  [/dpm(pp|\+\+)[_ -]?2m[_ -]?karras/i, 'dpmpp_2m_karras'],
  [/dpm(pp|\+\+)[_ -]?2m|dpmsolver/i, 'dpmpp_2m'],
  [/\bddim|_ddim/i, 'ddim'],
  [/pndm|plms/i, 'pndm'],
  [/euler/i, 'euler'],
];

/**
 * A scheduler's kind from whatever names it: a diffusers class name (with use_karras_sigmas in the
 * config for DPM++ 2M Karras), or a sampler name as the studio or the case writes it.
 */
export function schedulerKindOf(texts: readonly unknown[], config?: unknown): SchedulerKind | null {
  const cfg = typeof config === 'object' && config !== null ? (config as { use_karras_sigmas?: unknown; _class_name?: unknown }) : {};
  const karras = (k: SchedulerKind) => (k === 'dpmpp_2m' && cfg.use_karras_sigmas === true ? 'dpmpp_2m_karras' : k);
  // the first text that names a scheduler decides (the entry's own `scheduler` field comes first)
  for (const t of [cfg._class_name, ...texts]) {
    if (typeof t !== 'string') continue;
    for (const [re, kind] of [...SCHEDULER_CLASSES, ...SCHEDULER_NAMES]) if (re.test(t)) return karras(kind);
  }
  return null;
}

/** The model file and weight prefix of a per-op case's `weights` line, if it has one. */
export function weightsOf(entry: CaseEntry): { file: string; prefix: string } | null {
  if (typeof entry.weights !== 'string') return null;
  const m = /tensors of (\S+?) whose names start with ['"`]([^'"`]*)['"`]/.exec(entry.weights);
  return m ? { file: m[1]!, prefix: m[2]! } : null;
}

const dirOf = (file: string) => file.replace(/\/[^/]*$/, '');
const has = (tensors: ReadonlySet<string>, name: string) => tensors.has(name);
const some = (tensors: ReadonlySet<string>, re: RegExp) => [...tensors].some((t) => re.test(t));

/** The model folder a case names (`model`), else the default one of its kind. */
function modelOf(entry: CaseEntry, fallback: string): string {
  return typeof entry.model === 'string' && entry.model ? entry.model : fallback;
}

/**
 * Classifies one case. `tensors` are the names in its safetensors file (empty for a JSON case).
 * `name` only breaks a tie for a scheduler case that names its sampler nowhere else.
 */
export function classifyCase(name: string, entry: CaseEntry, tensors: ReadonlySet<string>): CaseKind {
  const group = entry.group ?? '';
  if (group === 'cidm') return { kind: 'cidm' };
  if (group === 'ops_backward') return { kind: 'ops-backward' };
  if (entry.file.endsWith('.json')) {
    if (/token/i.test(`${group} ${entry.description ?? ''} ${name}`)) return { kind: 'tokenization' };
    return { kind: 'skip', why: 'a JSON case that is not tokenizer ids: no handler for it' };
  }
  if (entry.call !== undefined || has(tensors, 'input.init_latents')) {
    const scheduler = schedulerKindOf([entry.scheduler, entry.reference, entry.description, name], entry.config);
    if (!scheduler) return { kind: 'skip', why: `a pipeline with a scheduler the studio does not implement (${String(entry.scheduler)})` };
    return { kind: 'pipeline', scheduler, model: modelOf(entry, 'models') };
  }
  if (entry.lora_files !== undefined || some(tensors, /^output\.sample_(lora|no_lora)/)) return { kind: 'lora', model: modelOf(entry, 'models/unet') };
  if (has(tensors, 'input.sample') && some(tensors, /^output\.sample/)) return { kind: 'unet', model: modelOf(entry, 'models/unet') };
  if (some(tensors, /^input\.input_ids/)) {
    const listed = Array.isArray(entry.models) ? entry.models : typeof entry.models === 'string' ? [entry.models] : [];
    const models = listed.length ? listed.map(String) : ['models/text_encoder', 'models/text_encoder_2'];
    return { kind: 'text-encoders', models };
  }
  if (has(tensors, 'input.z')) return { kind: 'vae-decode', model: modelOf(entry, 'models/vae') };
  if (has(tensors, 'input.image') && some(tensors, /^output\.(mean|moments|latents)/)) return { kind: 'vae-encode', model: modelOf(entry, 'models/vae') };
  if (has(tensors, 'x_T') && has(tensors, 'model_output') && has(tensors, 'prev_sample')) {
    const scheduler = schedulerKindOf([entry.reference, entry.description, name], entry.config);
    return scheduler ? { kind: 'scheduler', scheduler } : { kind: 'skip', why: 'a scheduler the studio does not implement (no known class or sampler name in the entry)' };
  }
  if (has(tensors, 'input.timesteps') && some(tensors, /^output\.(time_ids_)?emb\d+/)) return { kind: 'timestep-embedding' };
  const w = weightsOf(entry);
  if (w) {
    const model = dirOf(w.file);
    const network = /(^|\/)vae($|\/)/.test(model) || /^(encoder|decoder)\./.test(w.prefix) ? 'vae' : 'unet';
    return { kind: 'op', network, model, prefix: w.prefix };
  }
  return { kind: 'skip', why: 'no handler for this kind of case (no pipeline call, model inputs, scheduler trajectory or weights line)' };
}
