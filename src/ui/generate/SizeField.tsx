/**
 * The Generate form's size: the active model's aspect presets (sizes.ts presetsFor: SDXL's buckets at
 * its native side), width and height checked against its latent factor, and a one-click native size
 * when the chosen one is far from what the model was trained at. Switching models keeps the chosen
 * aspect: 1:1 on SDXL (1024²) becomes 1:1 on SD-1.5 (512²); a custom size is left as typed.
 */
import { useEffect, useRef } from 'react';
import { CheckedNumber } from '../validation/CheckedNumber';
import type { generateRules } from '../validation/fields';
import { useModelSizes, type ResolvedModelSizes } from '../models/model-sizes';
import { useGenerate } from './generate-store';
import { farFromNative, presetOf, presetsFor } from './sizes';

interface SizeFieldProps {
  modelId: string | null;
  latentFactor: number;
  rules: ReturnType<typeof generateRules>;
}

export function SizeField({ modelId, latentFactor, rules }: SizeFieldProps) {
  const width = useGenerate((s) => s.draft.width);
  const height = useGenerate((s) => s.draft.height);
  const set = useGenerate((s) => s.setDraft);
  const resolved = useModelSizes(modelId);
  const presets = presetsFor(resolved.sizes, latentFactor);
  useKeepAspectOnModelSwitch(resolved, latentFactor);
  const preset = presetOf(width, height, presets);
  const native = resolved.sizes.native;
  return (
    <div className="field">
      <span className="field-label">Size</span>
      <div className="gen-sizes" role="group" aria-label="Size presets">
        {presets.map((b) => (
          <button type="button" key={b.label} className={`chip${preset === b ? ' chip-ok' : ''}`} aria-pressed={preset === b} title={`${b.width}×${b.height}`} onClick={() => set({ width: b.width, height: b.height })}>
            {b.label}
          </button>
        ))}
      </div>
      <div className="field-row">
        <CheckedNumber id="gen-width" name="width" label="Width" rule={rules.width} value={width} onChange={(v) => set({ width: v })} />
        <CheckedNumber id="gen-height" name="height" label="Height" rule={rules.height} value={height} onChange={(v) => set({ height: v })} />
      </div>
      {resolved.modelId && farFromNative(width, height, resolved.sizes) && (
        <p className="small muted" data-testid="gen-native-hint">
          This model was trained at {native} × {native}; far from that size images repeat or lose detail.{' '}
          <button type="button" className="btn btn-small" data-testid="gen-use-native" onClick={() => set({ width: native, height: native })}>
            Use {native} × {native}
          </button>
        </p>
      )}
    </div>
  );
}

/** When the user switches between two models whose sizes are known, a preset size moves to the same aspect's preset of the new model. */
function useKeepAspectOnModelSwitch(resolved: ResolvedModelSizes, latentFactor: number): void {
  const previous = useRef<ResolvedModelSizes>(resolved);
  const set = useGenerate((s) => s.setDraft);
  useEffect(() => {
    const before = previous.current;
    previous.current = resolved;
    if (!before.modelId || !resolved.modelId || before.modelId === resolved.modelId) return;
    const { width, height } = useGenerate.getState().draft;
    const was = presetOf(width, height, presetsFor(before.sizes));
    const now = was && presetsFor(resolved.sizes, latentFactor).find((p) => p.label === was.label);
    if (now && (now.width !== width || now.height !== height)) set({ width: now.width, height: now.height });
  }, [resolved, latentFactor, set]);
}
