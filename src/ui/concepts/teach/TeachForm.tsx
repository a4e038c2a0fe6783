/**
 * The concept's words and the training settings. The spec's defaults (§1.6) fill the advanced block,
 * folded away; steps show their default for the number of photos. Each field says its problem under it.
 */
import type { ReactNode } from 'react';
import { TRAIN_DEFAULTS } from '../../../engine/train-job';
import { setForm, useTeach } from './teach-store';
import { effectiveSteps, parsePlaceholders, suggestPlaceholder, type TeachErrors, type TeachForm as Form } from './validation';

function Field(p: { label: string; hint?: string; error?: string | undefined; children: ReactNode; id: string }) {
  return (
    <div className={`cc-field${p.error ? ' has-error' : ''}`}>
      <label htmlFor={p.id}>{p.label}</label>
      {p.children}
      {p.error ? <p className="cc-error" id={`${p.id}-error`} data-testid={`${p.id}-error`}>{p.error}</p> : p.hint ? <p className="cc-hint">{p.hint}</p> : null}
    </div>
  );
}

function Num(p: { id: string; value: number; step?: number; min?: number; onChange(v: number): void; invalid: boolean }) {
  return <input id={p.id} data-testid={p.id} type="number" inputMode="decimal" step={p.step ?? 1} min={p.min} value={Number.isFinite(p.value) ? p.value : ''} aria-invalid={p.invalid} onChange={(e) => p.onChange(e.target.value === '' ? NaN : Number(e.target.value))} />;
}

export function TeachForm({ errors, resolutions, taken }: { errors: TeachErrors; resolutions: readonly number[]; taken: ReadonlySet<string> }) {
  const f = useTeach((s) => s.form);
  const photos = useTeach((s) => s.photos.length);
  const words = parsePlaceholders(f.placeholders);
  const onName = (name: string) => {
    // keep suggesting from the name until the person writes their own words
    const suggested = suggestPlaceholder(f.name, taken);
    const patch: Partial<Form> = { name };
    if (!f.placeholders || f.placeholders === suggested) patch.placeholders = name.trim() ? suggestPlaceholder(name, taken) : '';
    setForm(patch);
  };
  return (
    <div className="cc-form">
      <Field id="teach-name" label="Name" error={errors.name} hint="How the library lists it.">
        <input id="teach-name" data-testid="teach-name" value={f.name} placeholder="Rex" aria-invalid={!!errors.name} onChange={(e) => onName(e.target.value)} />
      </Field>
      <Field id="teach-class" label="Class word" error={errors.classWord} hint="What it is: dog, mug, teddy bear, painting.">
        <input id="teach-class" data-testid="teach-class" value={f.classWord} placeholder="dog" aria-invalid={!!errors.classWord} onChange={(e) => setForm({ classWord: e.target.value })} />
      </Field>
      <Field id="teach-tokens" label="Placeholder words" error={errors.placeholders} hint={words.length ? `Prompts say "${[...words, f.classWord.trim() || 'class'].join(' ')}".` : 'New words your prompts use for it, e.g. <rex1>.'}>
        <input id="teach-tokens" data-testid="teach-tokens" className="mono" value={f.placeholders} placeholder="<rex1>" aria-invalid={!!errors.placeholders} onChange={(e) => setForm({ placeholders: e.target.value })} />
      </Field>
      <Field id="teach-caption" label="Captions" error={errors.caption} hint={f.captionKind === 'style' ? 'For a painting or drawing style: 16 style captions.' : f.captionKind === 'object' ? 'For an object, animal or person: 27 photo captions.' : 'One caption of yours; {} is where the words go.'}>
        <select id="teach-caption" data-testid="teach-caption" value={f.captionKind} onChange={(e) => setForm({ captionKind: e.target.value as Form['captionKind'] })}>
          <option value="object">Object or subject</option>
          <option value="style">Style</option>
          <option value="custom">Custom caption…</option>
        </select>
        {f.captionKind === 'custom' && <input className="cc-sub-input" data-testid="teach-caption-custom" value={f.customCaption} aria-label="Custom caption" onChange={(e) => setForm({ customCaption: e.target.value })} />}
      </Field>
      <Field id="teach-res" label="Training size" error={errors.resolution} hint="Photos are cropped to this square. Larger learns finer detail, slower.">
        <select id="teach-res" data-testid="teach-res" value={f.resolution} onChange={(e) => setForm({ resolution: Number(e.target.value) })}>
          {resolutions.map((r) => <option key={r} value={r}>{r}×{r}</option>)}
        </select>
      </Field>
      <details className="cc-advanced" data-testid="teach-advanced">
        <summary>Advanced settings <span className="muted small">steps {effectiveSteps(f, photos)}, rank {f.rank}, LoRA lr {f.lrLora}, token lr {f.lrTokens}</span></summary>
        <div className="cc-adv-grid">
          <Field id="teach-steps" label="Steps" error={errors.steps} hint={`Default for ${photos || 'your'} photos: ${effectiveSteps({ steps: null }, photos)} (100 per photo, 200–1000).`}>
            <Num id="teach-steps" value={f.steps ?? effectiveSteps(f, photos)} min={1} invalid={!!errors.steps} onChange={(v) => setForm({ steps: v })} />
          </Field>
          <Field id="teach-rank" label="LoRA rank" error={errors.rank} hint={`Default ${TRAIN_DEFAULTS.rank}.`}>
            <Num id="teach-rank" value={f.rank} min={1} invalid={!!errors.rank} onChange={(v) => setForm({ rank: v })} />
          </Field>
          <Field id="teach-lr-lora" label="LoRA learning rate" error={errors.lrLora} hint={`Default ${TRAIN_DEFAULTS.lrLora}.`}>
            <Num id="teach-lr-lora" value={f.lrLora} step={0.00001} invalid={!!errors.lrLora} onChange={(v) => setForm({ lrLora: v })} />
          </Field>
          <Field id="teach-lr-tokens" label="Token learning rate" error={errors.lrTokens} hint={`Default ${TRAIN_DEFAULTS.lrTokens}.`}>
            <Num id="teach-lr-tokens" value={f.lrTokens} step={0.0001} invalid={!!errors.lrTokens} onChange={(v) => setForm({ lrTokens: v })} />
          </Field>
          <Field id="teach-seed" label="Seed" error={errors.seed} hint="The same seed and photos give the same concept.">
            <Num id="teach-seed" value={f.seed} min={0} invalid={!!errors.seed} onChange={(v) => setForm({ seed: v })} />
          </Field>
          <Field id="teach-ckpt" label="Checkpoint every" error={errors.checkpointEvery} hint="Steps between saves; a reload resumes from the last.">
            <Num id="teach-ckpt" value={f.checkpointEvery} min={1} invalid={!!errors.checkpointEvery} onChange={(v) => setForm({ checkpointEvery: v })} />
          </Field>
          <Field id="teach-preview" label="Preview every" error={errors.previewEvery} hint="Steps between sample pictures (0: none). Each costs a short generation.">
            <Num id="teach-preview" value={f.previewEvery} min={0} invalid={!!errors.previewEvery} onChange={(v) => setForm({ previewEvery: v })} />
          </Field>
          <label className="cc-check">
            <input type="checkbox" data-testid="teach-masked" checked={f.masked} onChange={(e) => setForm({ masked: e.target.checked })} />
            <span>Masked loss<span className="cc-hint">Learn only inside the painted masks (photos without one train whole).</span></span>
          </label>
        </div>
        {errors.masks && <p className="cc-error" data-testid="teach-masks-error">{errors.masks}</p>}
      </details>
    </div>
  );
}
