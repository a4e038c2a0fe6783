/**
 * Precision, memory mode, EWA's weight form and the noise source: choices of the Generate draft (generate-store.ts), so they persist
 * with it (draft-persistence.ts) and the next run uses them. Each choice says in one line what it costs.
 */
import { useGenerate, type GenerateDraft } from '../generate/generate-store';
import { useStudio } from '../store';

interface Choice<T extends string> {
  value: T;
  label: string;
  line: string;
}

const PRECISION: Choice<GenerateDraft['precision']>[] = [
  { value: 'auto', label: 'Automatic', line: 'f16 when this GPU has shader-f16; otherwise f32 math over f16 weights packed in pairs (half the memory of f32 weights).' },
  { value: 'f16', label: 'f16', line: 'Half the memory for weights and activations, and faster; needs shader-f16.' },
  { value: 'f16-math', label: 'f16 math', line: 'f16 storage and f16 arithmetic in the matrix products: faster on GPUs with double-rate f16, results differ slightly from f16; needs shader-f16.' },
  { value: 'f32', label: 'f32', line: 'Full precision, the reference numbers; twice the memory of f16 and slower.' },
];

const MEMORY: Choice<GenerateDraft['memoryMode']>[] = [
  { value: 'balanced', label: 'Balanced', line: 'Both classifier-free guidance halves in one batch and large decode tiles: the fastest.' },
  { value: 'low', label: 'Low memory', line: 'Runs the two CFG halves one after another and decodes in smaller tiles: slower, about half the activation memory.' },
];

const EWA: Choice<GenerateDraft['ewaForm']>[] = [
  { value: 'code', label: 'CIDM code', line: 'Cosine similarity, max over the prompt, mean per concept, sharpened by a 4th power: a named concept takes nearly all the weight.' },
  { value: 'paper', label: 'Paper (ψ)', line: "The paper's Eq. 3: dot products, squared and normalised; softer mixing of the library's concepts." },
];

const NOISE: Choice<GenerateDraft['noiseSource']>[] = [
  { value: 'studio', label: 'Studio', line: "The studio's own seeded noise: the same seed gives the same image here on every machine." },
  { value: 'torch-cpu', label: 'torch CPU', line: 'The noise of ComfyUI and of A1111 with "RNG source: CPU", bit for bit: their seeds give their images.' },
];

function ChoiceGroup<T extends string>(p: { name: string; legend: string; choices: Choice<T>[]; value: T; onChange(v: T): void; note?: string | null }) {
  return (
    <fieldset className="choice-group" data-testid={`settings-${p.name}`}>
      <legend className="card-title">{p.legend}</legend>
      {p.choices.map((c) => (
        <label key={c.value} className={`choice${p.value === c.value ? ' is-checked' : ''}`}>
          <input type="radio" name={p.name} value={c.value} data-testid={`settings-${p.name}-${c.value}`} checked={p.value === c.value} onChange={() => p.onChange(c.value)} />
          <span className="choice-text">
            <span className="choice-label">{c.label}</span>
            <span className="choice-line">{c.line}</span>
          </span>
        </label>
      ))}
      {p.note && <p className="small warn-text choice-note" data-testid={`settings-${p.name}-note`}>{p.note}</p>}
    </fieldset>
  );
}

export function RunOptions() {
  const precision = useGenerate((s) => s.draft.precision);
  const memoryMode = useGenerate((s) => s.draft.memoryMode);
  const ewaForm = useGenerate((s) => s.draft.ewaForm);
  const noiseSource = useGenerate((s) => s.draft.noiseSource);
  const setDraft = useGenerate((s) => s.setDraft);
  const hasF16 = useStudio((s) => s.enabled?.f16);
  const f16Note = (precision === 'f16' || precision === 'f16-math') && hasF16 === false ? 'This GPU has no shader-f16, so f16 cannot load here; Automatic uses f32 math with packed f16 weights on it.' : null;
  return (
    <section className="card settings-card" aria-labelledby="run-title">
      <h2 className="settings-h2" id="run-title">How images are computed</h2>
      <p className="small muted settings-sub">Used from the next Generate; kept with the rest of the Generate settings.</p>
      <div className="choice-columns">
        <ChoiceGroup name="precision" legend="Precision" choices={PRECISION} value={precision} onChange={(v) => setDraft({ precision: v })} note={f16Note} />
        <ChoiceGroup name="memory" legend="Memory mode" choices={MEMORY} value={memoryMode} onChange={(v) => setDraft({ memoryMode: v })} />
        <ChoiceGroup name="ewa" legend="Concept weighting (EWA)" choices={EWA} value={ewaForm} onChange={(v) => setDraft({ ewaForm: v })} />
        <ChoiceGroup name="noise" legend="Noise source" choices={NOISE} value={noiseSource} onChange={(v) => setDraft({ noiseSource: v })} />
      </div>
    </section>
  );
}
