// What a golden case is comes from its entry and tensors, never its name (issue "every model", point 8):
// every case of golden/ keeps its kind under an opaque name, none is skipped, and every per-op case
// resolves to a block of the forward code. Also the scheduler names and LoRA plans the runner reads.
import { describe, expect, it } from 'vitest';
import { GoldenCase, readManifest } from './case-file';
import { classifyCase, schedulerKindOf, weightsOf } from './case-kind';
import { opRunFor } from './op-cases';
import { plan } from './lora-cases';

const DIR = 'golden';
const manifest = readManifest(DIR);

async function tensorsOf(name: string): Promise<Set<string>> {
  const entry = manifest.cases[name]!;
  if (entry.file.endsWith('.json')) return new Set();
  const c = await GoldenCase.open(DIR, name, entry);
  try {
    return new Set(c.names());
  } finally {
    await c.close();
  }
}

describe('classifyCase over golden/', () => {
  it('gives every case a kind the runner runs, the same under an opaque name', async () => {
    const kinds: Record<string, string> = {};
    let i = 0;
    for (const [name, entry] of Object.entries(manifest.cases)) {
      const tensors = await tensorsOf(name);
      const k = classifyCase(name, entry, tensors);
      const opaque = classifyCase(`case_${String(i++).padStart(3, '0')}`, entry, tensors);
      expect(opaque, name).toEqual(k);
      expect(k.kind, `${name}: ${k.kind === 'skip' ? k.why : ''}`).not.toBe('skip');
      kinds[name] = k.kind === 'op' ? `op:${k.network}` : k.kind;
      if (k.kind === 'op' && k.network === 'unet') expect(typeof opRunFor(k.prefix, String(entry.description ?? ''), undefined), name).toBe('function');
    }
    const count = (k: string) => Object.values(kinds).filter((v) => v === k).length;
    expect(count('unet')).toBe(3);
    expect(count('lora')).toBe(1);
    expect(count('pipeline')).toBe(2);
    expect(count('scheduler')).toBe(5);
    expect(count('op:vae')).toBe(2);
    expect(count('op:unet')).toBe(18);
    expect([count('timestep-embedding'), count('text-encoders'), count('tokenization'), count('vae-decode'), count('vae-encode')]).toEqual([1, 1, 1, 1, 1]);
  });

  it('reads the model file and prefix of a weights line', () => {
    expect(weightsOf({ file: 'x', weights: "tensors of models/unet/diffusion_pytorch_model.safetensors whose names start with 'mid_block.'" })).toEqual({
      file: 'models/unet/diffusion_pytorch_model.safetensors',
      prefix: 'mid_block.',
    });
    expect(weightsOf({ file: 'x' })).toBeNull();
  });

  it('refuses by reason what it cannot run, instead of guessing', () => {
    const k = classifyCase('anything', { file: 'cases/x.safetensors', group: 'z_new' }, new Set(['input.q', 'output']));
    expect(k.kind).toBe('skip');
    expect(opRunFor('down_blocks.0.', '', undefined)).toMatch(/no per-op handler/);
  });
});

describe('schedulerKindOf', () => {
  it('reads diffusers class names, the config and sampler names', () => {
    expect(schedulerKindOf(['diffusers 0.25.1 EulerAncestralDiscreteScheduler.from_config(…)'])).toBe('euler_ancestral');
    expect(schedulerKindOf(['DPMSolverMultistepScheduler'], { use_karras_sigmas: true })).toBe('dpmpp_2m_karras');
    expect(schedulerKindOf([undefined], { _class_name: 'PNDMScheduler' })).toBe('pndm');
    expect(schedulerKindOf(['euler_ancestral'])).toBe('euler_ancestral');
    expect(schedulerKindOf(['dpmpp_2m_karras'])).toBe('dpmpp_2m_karras');
    expect(schedulerKindOf(['pipeline_sd15_ddim'])).toBe('ddim');
    expect(schedulerKindOf(['LMSDiscreteScheduler'])).toBeNull();
  });
});

describe('LoRA plan', () => {
  const files = ['lora/lora_peft.safetensors', 'lora/lora_kohya.safetensors', 'lora/lora_kohya_alpha2.safetensors'];
  it('matches each output to the files its description names, at the scale its name or text gives', () => {
    const { runs, unused } = plan(files, ['output.sample_no_lora', 'output.sample_lora_scale_1', 'output.sample_lora_effective_0.5', 'output.sample_lora_scale_0.5'], {
      'output.sample_lora_scale_1': 'lora_peft / lora_kohya (alpha/r = 1), cross_attention_kwargs scale 1.0',
      'output.sample_lora_effective_0.5': "lora_kohya_alpha2 with scale 1.0 (== lora_kohya with cross_attention_kwargs={'scale':0.5})",
      'output.sample_lora_scale_0.5': 'lora_peft at cross_attention_kwargs scale 0.5',
    });
    expect(unused).toEqual([]);
    expect(runs.map((r) => `${r.file.slice(5)}→${r.output.slice(14)}@${r.scale}`)).toEqual([
      'lora_peft.safetensors→lora_scale_1@1',
      'lora_kohya.safetensors→lora_scale_1@1',
      'lora_kohya_alpha2.safetensors→lora_effective_0.5@1',
      'lora_peft.safetensors→lora_scale_0.5@0.5',
    ]);
  });
  it('runs every file at a named scale when no description says which, and reports a file no output names', () => {
    expect(plan(files.slice(0, 1), ['output.sample_lora_scale_0.75'], {}).runs).toEqual([{ file: files[0], output: 'output.sample_lora_scale_0.75', scale: 0.75 }]);
    expect(plan(files, ['output.sample_lora_effective_0.5'], { 'output.sample_lora_effective_0.5': 'lora_kohya_alpha2' }).unused).toEqual(files.slice(0, 2));
  });
});
