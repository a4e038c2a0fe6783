/**
 * The generate panel: prompt, negative prompt, size (SDXL buckets or custom), steps, CFG, scheduler,
 * seed with lock/randomize, precision. Every field edits the draft in the store.
 */
import type { SchedulerKind } from '../../diffusion/schedulers';
import { MAX_SEED } from '../../diffusion/rng';
import { useGenerate, type GenerateDraft } from './generate-store';
import { ConceptPrompt } from '../concepts/prompt/ConceptPrompt';
import { LoraPicker } from '../loras/LoraPicker';
import { MIN_SIDE, presetOf, SDXL_BUCKETS, snapSide } from './sizes';
import { PromptLength, TokenCount } from './PromptLength';
import { AdvancedSampling } from './AdvancedSampling';

const SCHEDULERS: { id: SchedulerKind; label: string }[] = [
  { id: 'dpmpp_2m_karras', label: 'DPM++ 2M Karras' },
  { id: 'dpmpp_2m', label: 'DPM++ 2M' },
  { id: 'euler', label: 'Euler' },
  { id: 'euler_ancestral', label: 'Euler a' },
  { id: 'ddim', label: 'DDIM' },
];

function NumberField(p: { id: keyof GenerateDraft; label: string; min: number; max: number; step?: number; value: number; onChange(v: number): void; disabled?: boolean }) {
  return (
    <label className="field field-num">
      <span className="field-label">{p.label}</span>
      <input
        type="number"
        name={p.id}
        data-testid={`gen-${p.id}`}
        min={p.min}
        max={p.max}
        step={p.step ?? 1}
        value={p.value}
        disabled={p.disabled}
        onChange={(e) => {
          const v = Number(e.target.value);
          if (Number.isFinite(v)) p.onChange(v);
        }}
      />
    </label>
  );
}

export function GenerateForm({ busy, onGenerate, modelName }: { busy: boolean; onGenerate(): void; modelName: string | null }) {
  const draft = useGenerate((s) => s.draft);
  const set = useGenerate((s) => s.setDraft);
  const preset = presetOf(draft.width, draft.height);
  return (
    <form
      // the browser's own constraint validation would silently block Generate; sizes are snapped instead
      noValidate
      className="card gen-form"
      aria-label="Generate"
      onSubmit={(e) => {
        e.preventDefault();
        onGenerate();
      }}
    >
      <label className="field">
        <span className="field-label">Prompt</span>
        {/* the concept library's autocomplete: "<" lists the model's concepts (src/ui/concepts/prompt) */}
        <ConceptPrompt name="prompt" data-testid="gen-prompt" rows={4} value={draft.prompt} placeholder="a photo of a corgi on a surfboard, golden hour — type < for your concepts" onChange={(prompt) => set({ prompt })} />
      </label>
      <LoraPicker prompt={draft.prompt} onChange={(prompt) => set({ prompt })} />
      <PromptLength />
      <label className="field">
        <span className="field-label">Negative prompt</span>
        <textarea name="negativePrompt" data-testid="gen-negative" rows={2} value={draft.negativePrompt} placeholder="blurry, low quality" onChange={(e) => set({ negativePrompt: e.target.value })} />
        <TokenCount text={draft.negativePrompt} testId="gen-negative-tokens" />
      </label>
      <div className="field">
        <span className="field-label">Size</span>
        <div className="gen-sizes" role="group" aria-label="Size presets">
          {SDXL_BUCKETS.map((b) => (
            <button type="button" key={b.label} className={`chip${preset === b ? ' chip-ok' : ''}`} aria-pressed={preset === b} title={`${b.width}×${b.height}`} onClick={() => set({ width: b.width, height: b.height })}>
              {b.label}
            </button>
          ))}
        </div>
        <div className="field-row">
          <NumberField id="width" label="Width" min={MIN_SIDE} max={2048} step={8} value={draft.width} onChange={(v) => set({ width: v })} />
          <NumberField id="height" label="Height" min={MIN_SIDE} max={2048} step={8} value={draft.height} onChange={(v) => set({ height: v })} />
        </div>
        {(snapSide(draft.width) !== draft.width || snapSide(draft.height) !== draft.height) && (
          <p className="small muted" data-testid="gen-size-note">
            Sizes are multiples of 8 between 16 and 2048; this will run at {snapSide(draft.width)}×{snapSide(draft.height)}.
          </p>
        )}
      </div>
      <div className="field-row">
        <NumberField id="steps" label="Steps" min={1} max={150} value={draft.steps} onChange={(v) => set({ steps: Math.round(v) })} />
        <NumberField id="guidanceScale" label="CFG" min={1} max={30} step={0.5} value={draft.guidanceScale} onChange={(v) => set({ guidanceScale: v })} />
        <NumberField id="batchCount" label="Images" min={1} max={16} value={draft.batchCount} onChange={(v) => set({ batchCount: Math.max(1, Math.min(16, Math.round(v))) })} />
      </div>
      <label className="field">
        <span className="field-label">Sampler</span>
        <select name="scheduler" data-testid="gen-scheduler" value={draft.scheduler} onChange={(e) => set({ scheduler: e.target.value as SchedulerKind })}>
          {SCHEDULERS.map((s) => (
            <option key={s.id} value={s.id}>
              {s.label}
            </option>
          ))}
        </select>
      </label>
      <div className="field">
        <span className="field-label">Seed</span>
        <div className="field-row">
          <input type="number" name="seed" data-testid="gen-seed" min={0} max={MAX_SEED} value={draft.seed} onChange={(e) => set({ seed: Math.max(0, Math.min(MAX_SEED, Math.floor(Number(e.target.value) || 0))), seedLocked: true })} />
          <label className="check">
            <input type="checkbox" data-testid="gen-seed-lock" checked={draft.seedLocked} onChange={(e) => set({ seedLocked: e.target.checked })} />
            Lock
          </label>
        </div>
        <p className="small muted">{draft.seedLocked ? 'The same seed, prompt and settings give the same image.' : 'A new seed for every image.'}</p>
      </div>
      <AdvancedSampling />
      <label className="field">
        <span className="field-label">Precision</span>
        <select name="precision" data-testid="gen-precision" value={draft.precision} onChange={(e) => set({ precision: e.target.value as GenerateDraft['precision'] })}>
          <option value="auto">Automatic (f16 when the GPU has it)</option>
          <option value="f16">f16 (half the memory)</option>
          <option value="f32">f32 (exact, twice the memory)</option>
        </select>
      </label>
      <button type="submit" className="btn btn-primary gen-go" data-testid="gen-go" disabled={busy || !modelName} title="Generate (Ctrl+Enter)">
        {busy ? 'Generating…' : 'Generate'}
      </button>
      <p className="small muted" data-testid="gen-model">
        {modelName ? `Model: ${modelName}` : 'No model yet: import one on the Models page.'}
      </p>
    </form>
  );
}
