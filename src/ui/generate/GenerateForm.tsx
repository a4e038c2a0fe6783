/**
 * The generate panel: prompt, negative prompt, size (the model's aspect presets or custom), steps, CFG, scheduler,
 * seed with lock/randomize, precision. Every field edits the draft in the store.
 */
import type { SchedulerKind } from '../../diffusion/schedulers';
import { useGenerate, type GenerateDraft } from './generate-store';
import { ConceptPrompt } from '../concepts/prompt/ConceptPrompt';
import { LoraPicker } from '../loras/LoraPicker';
import { SizeField } from './SizeField';
import { CheckedNumber } from '../validation/CheckedNumber';
import { generateRules } from '../validation/fields';
import { anyFieldError, useFieldErrors } from '../validation/field-errors';
import { useStudio } from '../store';
import { RunEstimate } from '../jobs/RunEstimate';
import { PromptLength, TokenCount } from './PromptLength';
import { AdvancedSampling } from './AdvancedSampling';
import { EditPanel } from './EditPanel';
import { ModelField, openModelsToImport } from '../models/ModelChoice';

export const SCHEDULERS: { id: SchedulerKind; label: string }[] = [
  { id: 'dpmpp_2m_karras', label: 'DPM++ 2M Karras' },
  { id: 'dpmpp_2m', label: 'DPM++ 2M' },
  { id: 'euler', label: 'Euler' },
  { id: 'euler_ancestral', label: 'Euler a' },
  { id: 'ddim', label: 'DDIM' },
  { id: 'pndm', label: 'PNDM (PLMS)' },
];

/** The sampler choices, as both the Generate form and a scene's run settings list them. */
export function SamplerOptions() {
  return (
    <>
      {SCHEDULERS.map((s) => (
        <option key={s.id} value={s.id}>
          {s.label}
        </option>
      ))}
    </>
  );
}

export function GenerateForm({ busy, onGenerate, modelName, latentFactor }: { busy: boolean; onGenerate(): void; modelName: string | null; latentFactor: number }) {
  const draft = useGenerate((s) => s.draft);
  const set = useGenerate((s) => s.setDraft);
  const modelId = useStudio((s) => s.activeModelId);
  const anyModel = useStudio((s) => s.models.some((m) => m.state === 'verified'));
  // sizes must be multiples of the model's own latent factor (its VAE config), checked as typed
  const rules = generateRules(latentFactor);
  const invalid = useFieldErrors((s) => anyFieldError('gen-', s.errors));
  return (
    <form
      // the browser's own constraint validation would silently block Generate; each field explains instead
      noValidate
      className="card gen-form"
      aria-label="Generate"
      onSubmit={(e) => {
        e.preventDefault();
        onGenerate();
      }}
    >
      {/* the model this run uses, named and chosen at the top (issue 13, point 4) */}
      <ModelField idPrefix="gen" />
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
      {/* image to image, inpaint, outpaint (issue 14) */}
      <EditPanel factor={latentFactor} />
      <SizeField modelId={modelId} latentFactor={latentFactor} rules={rules} />
      <div className="field-row">
        <CheckedNumber id="gen-steps" name="steps" label="Steps" rule={rules.steps} value={draft.steps} onChange={(v) => set({ steps: v })} />
        <CheckedNumber id="gen-guidanceScale" name="guidanceScale" label="CFG" rule={rules.guidanceScale} step={0.5} value={draft.guidanceScale} onChange={(v) => set({ guidanceScale: v })} />
        <CheckedNumber id="gen-batchCount" name="batchCount" label="Images" rule={rules.batchCount} value={draft.batchCount} onChange={(v) => set({ batchCount: v })} />
      </div>
      <label className="field">
        <span className="field-label">Sampler</span>
        <select name="scheduler" data-testid="gen-scheduler" value={draft.scheduler} onChange={(e) => set({ scheduler: e.target.value as SchedulerKind })}>
          <SamplerOptions />
        </select>
      </label>
      <div className="field">
        <span className="field-label">Seed</span>
        <div className="field-row">
          <CheckedNumber id="gen-seed" name="seed" label="Seed value" labelClassName="sr-only" className="field field-num field-grow" rule={rules.seed} value={draft.seed} onChange={(v) => set({ seed: v, seedLocked: true })} />
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
          <option value="auto">Automatic (f16, or f32 math on packed f16 weights)</option>
          <option value="f16">f16 (half the memory)</option>
          <option value="f16-math">f16 math (faster on some GPUs)</option>
          <option value="f32">f32 (exact, twice the memory)</option>
        </select>
      </label>
      <RunEstimate modelId={modelId} factor={latentFactor} />
      {/* while a run is going, Generate adds to the queue (the header lists the jobs) */}
      <button type="submit" className="btn btn-primary gen-go" data-testid="gen-go" disabled={!modelName || invalid} title="Generate (Ctrl+Enter)">
        {busy ? 'Add to queue' : 'Generate'}
      </button>
      {invalid && (
        <p className="small warn-text" data-testid="gen-invalid">
          Fix the fields marked above to generate.
        </p>
      )}
      <p className="small muted" data-testid="gen-model">
        {modelName ? (
          `Model: ${modelName}`
        ) : anyModel ? (
          'No model chosen: pick one under Model at the top of this form.'
        ) : (
          <>
            No model yet:{' '}
            <button type="button" className="link-button" onClick={openModelsToImport}>import one on the Models page</button>.
          </>
        )}
      </p>
    </form>
  );
}
