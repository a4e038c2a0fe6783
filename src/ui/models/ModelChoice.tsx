/**
 * Which model a run uses, shown where the run is set up (issue 13, point 4): a picker of the imported,
 * verified models that sets the studio's active model (as Models' Use does), and, on a page that needs a
 * model, a first-step card while there is none to use: import one (a button opens Models with the import
 * field focused) or, when models exist but none is chosen, choose one here.
 */
import { useStudio, type StudioState } from '../store';
import { useModel } from './actions';
import { requestImportFocus } from './import-focus';
import './model-choice.css';

const KIND = { sdxl: 'SDXL', sd15: 'SD-1.5' } as const;

function verified(s: StudioState) {
  return s.models.filter((m) => m.state === 'verified');
}

/** Opens the Models page with its import field focused and highlighted. */
export function openModelsToImport(): void {
  requestImportFocus();
  useStudio.getState().setSection('models');
}

/** The imported, verified models; choosing one makes it the active model (kept across reloads). */
export function ModelPicker({ id, testId = 'model-picker' }: { id: string; testId?: string }) {
  const models = useStudio((s) => s.models);
  const active = useStudio((s) => s.activeModelId);
  const usable = models.filter((m) => m.state === 'verified');
  return (
    <select id={id} className="model-picker" data-testid={testId} value={active ?? ''} onChange={(e) => e.target.value && void useModel(e.target.value)}>
      {active === null && <option value="">Choose a model…</option>}
      {usable.map((m) => (
        <option key={m.id} value={m.id}>
          {m.name}
          {m.kind ? ` (${KIND[m.kind]})` : ''}
        </option>
      ))}
    </select>
  );
}

/**
 * The model line at the top of a run's form: the picker, or, with nothing imported, a pointer to Models.
 * `idPrefix` keeps the ids of Generate's and Scenes' pickers apart.
 */
export function ModelField({ idPrefix }: { idPrefix: string }) {
  const loaded = useStudio((s) => s.modelsLoaded);
  const count = useStudio((s) => verified(s).length);
  const active = useStudio((s) => s.activeModelId);
  const id = `${idPrefix}-model`;
  return (
    <div className="model-field" data-testid={`${idPrefix}-model-field`}>
      <label className="model-field-label" htmlFor={id}>Model</label>
      {count > 0 ? (
        <ModelPicker id={id} testId={`${idPrefix}-model-picker`} />
      ) : (
        <span id={id} className="small muted">
          {loaded ? 'None imported yet. ' : 'Reading the models… '}
          {loaded && <button type="button" className="link-button" onClick={openModelsToImport}>Import one on Models</button>}
        </span>
      )}
      {count > 0 && active === null && <p className="small warn-text model-field-note">Choose the model to run with.</p>}
    </div>
  );
}

/**
 * The first step on a page that needs a model, while there is none to use; nothing once one is active
 * (or while the list is still being read, so a stored model does not flash a false "import one").
 */
export function FirstStepCard({ purpose }: { purpose: string }) {
  const loaded = useStudio((s) => s.modelsLoaded);
  const count = useStudio((s) => verified(s).length);
  const active = useStudio((s) => s.activeModelId);
  const importing = useStudio((s) => s.imports.some((r) => r.state === 'running'));
  if (!loaded || active !== null) return null;
  if (count === 0)
    return (
      <section className="card first-step" aria-labelledby="first-step-title" data-testid="first-step" data-step="import">
        <div>
          <div className="eyebrow">First step</div>
          <h2 id="first-step-title" className="first-step-title">Import a model</h2>
          <p className="small muted">
            {importing
              ? 'An import is under way on the Models page; this page is ready once it is verified.'
              : `The studio needs an SDXL or SD-1.5 model on this device ${purpose}: a Hugging Face repo id, a .safetensors checkpoint or a diffusers folder. It is downloaded once and stays in this browser.`}
          </p>
        </div>
        <button type="button" className="btn btn-primary" data-testid="first-step-go" onClick={openModelsToImport}>
          {importing ? 'See the import' : 'Import a model'}
        </button>
      </section>
    );
  return (
    <section className="card first-step" aria-labelledby="first-step-title" data-testid="first-step" data-step="choose">
      <div>
        <div className="eyebrow">First step</div>
        <h2 id="first-step-title" className="first-step-title">Choose a model</h2>
        <p className="small muted">{`${count === 1 ? 'A model is' : `${count} models are`} imported, but none is chosen ${purpose}.`}</p>
      </div>
      <label className="sr-only" htmlFor="first-step-model">Model</label>
      <ModelPicker id="first-step-model" testId="first-step-picker" />
    </section>
  );
}
