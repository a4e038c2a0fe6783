/**
 * The Generate form's advanced sampling options (issue 12): guidance rescale φ after CFG, zero terminal
 * SNR against the model's scheduler config, and where DPM++ 2M ends. Folded away: the defaults are
 * what most models want.
 */
import { useGenerate, type GenerateDraft } from './generate-store';
import { guidanceRescaleError } from './sampling-draft';

export function AdvancedSampling() {
  const draft = useGenerate((s) => s.draft);
  const set = useGenerate((s) => s.setDraft);
  const phiError = guidanceRescaleError(draft.guidanceRescale);
  const dpm = draft.scheduler === 'dpmpp_2m' || draft.scheduler === 'dpmpp_2m_karras';
  return (
    <details className="gen-advanced" data-testid="gen-advanced">
      <summary>Advanced sampling</summary>
      <div className="gen-advanced-body">
        <label className="field field-num">
          <span className="field-label">Guidance rescale φ</span>
          <input
            type="number"
            name="guidanceRescale"
            data-testid="gen-guidanceRescale"
            min={0}
            max={1}
            step={0.05}
            value={draft.guidanceRescale}
            aria-invalid={phiError !== null}
            onChange={(e) => set({ guidanceRescale: e.target.value === '' ? 0 : Number(e.target.value) })}
          />
        </label>
        {phiError ? (
          <p className="small warn-text" data-testid="gen-guidanceRescale-error">{phiError}</p>
        ) : (
          <p className="small muted">0 is off. About 0.7 tames washed-out or burnt images at high CFG, above all with v-prediction and zero terminal SNR models.</p>
        )}
        <label className="field">
          <span className="field-label">Zero terminal SNR</span>
          <select name="zeroTerminalSnr" data-testid="gen-zeroTerminalSnr" value={draft.zeroTerminalSnr} onChange={(e) => set({ zeroTerminalSnr: e.target.value as GenerateDraft['zeroTerminalSnr'] })}>
            <option value="model">As the model's scheduler config says</option>
            <option value="on">On (for v-prediction models trained with it)</option>
            <option value="off">Off</option>
          </select>
        </label>
        <label className="field">
          <span className="field-label">DPM++ 2M last step</span>
          <select name="dpmFinalSigma" data-testid="gen-dpmFinalSigma" value={draft.dpmFinalSigma} disabled={!dpm} onChange={(e) => set({ dpmFinalSigma: e.target.value as GenerateDraft['dpmFinalSigma'] })}>
            <option value="zero">To σ = 0, fully denoised (A1111, newer diffusers)</option>
            <option value="sigma_min">To σ_min, a trace of noise left (diffusers 0.25)</option>
          </select>
        </label>
      </div>
    </details>
  );
}
