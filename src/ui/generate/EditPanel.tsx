/**
 * The Generate panel's "Init image" area (issue 14): drop or pick a photo (or "Send to edit" from the
 * gallery), then image to image (strength), inpaint (a mask painted with the Scenes tools, or the
 * image's transparency) or outpaint (sides in multiples of the model's latent factor). Clear returns
 * to text to image. How the image is fitted to the run size is said, never done silently.
 */
import { useEffect, useState, type DragEvent } from 'react';
import { namedConcepts } from '../../engine/concept-prompt';
import { useStudio } from '../store';
import { conceptsOfModel, ensureConcepts, useConcepts } from '../concepts/concepts-store';
import { useGenerate } from './generate-store';
import { clearEdit, maskFromInitAlpha, setEdit, setInitImage, setMode, setOutpaint, useEdit } from './edit-store';
import { fitDescription, parseStrength, snapSides, type EditMode } from './edit-params';
import { decodeInitImage } from './init-image-file';
import { InpaintCanvas } from './InpaintCanvas';
import { RgbaCanvas } from './RgbaCanvas';
import { snapSide } from './sizes';
import { setLoraWeight, styleLoras } from './style-strength';
import { reasonOf } from '../plain-error';

const MODES: { id: EditMode; label: string }[] = [
  { id: 'img2img', label: 'Image to image' },
  { id: 'inpaint', label: 'Inpaint' },
  { id: 'outpaint', label: 'Outpaint' },
];
const SIDES = ['Left', 'Top', 'Right', 'Bottom'] as const;

export async function loadInitFile(file: File, factor: number): Promise<void> {
  try {
    setInitImage(await decodeInitImage(file), file.name, factor);
  } catch (err) {
    setEdit({ message: { kind: 'error', text: reasonOf(err) } });
  }
}

function StrengthField() {
  const strength = useEdit((s) => s.strength);
  const mode = useEdit((s) => s.mode);
  const [text, setText] = useState<string | null>(null);
  const typed = text === null ? null : parseStrength(text);
  return (
    <div className="field">
      <span className="field-label">Strength</span>
      <div className="field-row gen-strength">
        <input type="range" min={0} max={1} step={0.01} value={strength} aria-label="Strength" data-testid="gen-strength-range" onChange={(e) => (setText(null), setEdit({ strength: Number(e.target.value) }))} />
        <input
          type="text"
          inputMode="decimal"
          className="gen-strength-num"
          aria-label="Strength value"
          aria-invalid={typed !== null && 'error' in typed}
          data-testid="gen-strength"
          value={text ?? String(strength)}
          onChange={(e) => {
            setText(e.target.value);
            const v = parseStrength(e.target.value);
            if ('value' in v) setEdit({ strength: v.value });
          }}
          onBlur={() => setText(null)}
        />
      </div>
      {typed && 'error' in typed ? (
        <p className="small warn-text" role="alert" data-testid="gen-strength-error">{typed.error} Still {strength}.</p>
      ) : (
        <p className="small muted">0 gives the image back (its VAE round trip), 1 ignores it{mode === 'img2img' ? '' : ' inside the mask'}.</p>
      )}
    </div>
  );
}

/** The library concepts of the active model that the prompt names (none when a word is another model's). */
function useNamedConcepts(prompt: string): string[] {
  const modelId = useStudio((s) => s.activeModelId);
  const library = useConcepts((s) => s.concepts);
  useEffect(() => void ensureConcepts(), []);
  if (!modelId) return [];
  try {
    return namedConcepts([prompt], conceptsOfModel(library, modelId), modelId).map((c) => c.name);
  } catch {
    return [];
  }
}

/**
 * A style strength per plain LoRA the prompt names (its <lora:name:w> weight) and per library concept
 * it names (a factor on that concept's EWA weight, cidm/ewa/task-scales.ts), beside the image strength.
 */
function StyleStrength() {
  const prompt = useGenerate((s) => s.draft.prompt);
  const loras = styleLoras(prompt);
  const concepts = useNamedConcepts(prompt);
  const strengths = useEdit((s) => s.conceptStrength);
  if (!loras.length && !concepts.length) return null;
  return (
    <div className="field" data-testid="gen-style-strength">
      <span className="field-label">Style strength</span>
      {loras.map((l) => (
        <label key={l.name} className="field-row gen-strength">
          <span className="small">{l.name}</span>
          <input type="range" min={0} max={2} step={0.05} value={l.unet} aria-label={`Style strength of ${l.name}`} onChange={(e) => useGenerate.getState().setDraft({ prompt: setLoraWeight(prompt, l.name, Number(e.target.value)) })} />
          <span className="num small">{l.unet.toFixed(2)}</span>
        </label>
      ))}
      {concepts.map((name) => (
        <label key={name} className="field-row gen-strength">
          <span className="small">{name}</span>
          <input type="range" min={0} max={2} step={0.05} value={strengths[name] ?? 1} aria-label={`Style strength of ${name}`} data-testid="gen-concept-strength" onChange={(e) => setEdit({ conceptStrength: { ...strengths, [name]: Number(e.target.value) } })} />
          <span className="num small">{(strengths[name] ?? 1).toFixed(2)}</span>
        </label>
      ))}
      <p className="small muted">How much of each style goes into the image: a LoRA’s weight in the prompt, a concept’s EWA weight × this factor.</p>
    </div>
  );
}

function OutpaintFields({ factor }: { factor: number }) {
  const sides = useEdit((s) => s.outpaint);
  const set = (i: number, v: number) => setOutpaint(snapSides(sides.map((s, j) => (j === i ? v : s)), factor));
  return (
    <div className="field">
      <span className="field-label">Extend by (pixels, steps of {factor})</span>
      <div className="gen-outpaint">
        {SIDES.map((label, i) => (
          <label key={label} className="gen-outpaint-side">
            <span className="small">{label}</span>
            <button type="button" className="chip" aria-label={`${label} −${factor}`} onClick={() => set(i, sides[i]! - factor)}>−</button>
            <input type="number" min={0} step={factor} value={sides[i]} data-testid={`gen-outpaint-${label.toLowerCase()}`} onChange={(e) => set(i, Number(e.target.value))} />
            <button type="button" className="chip" aria-label={`${label} +${factor}`} data-testid={`gen-outpaint-${label.toLowerCase()}-plus`} onClick={() => set(i, sides[i]! + factor)}>+</button>
          </label>
        ))}
      </div>
    </div>
  );
}

function MaskOptions() {
  const blur = useEdit((s) => s.maskBlur);
  const keep = useEdit((s) => s.keepOutside);
  return (
    <div className="field-row">
      <label className="field field-num">
        <span className="field-label">Mask blur (px)</span>
        <input type="number" min={0} max={64} step={1} value={blur} data-testid="gen-mask-blur" onChange={(e) => Number.isFinite(Number(e.target.value)) && setEdit({ maskBlur: Math.max(0, Math.min(64, Number(e.target.value))) })} />
      </label>
      <label className="check" title="Paste the original pixels back outside the mask after decoding: what you did not paint stays bit for bit">
        <input type="checkbox" checked={keep} data-testid="gen-keep-outside" onChange={(e) => setEdit({ keepOutside: e.target.checked })} />
        Keep the outside exactly
      </label>
    </div>
  );
}

export function EditPanel({ factor }: { factor: number }) {
  const { init, initName, mode, hasAlpha, message, outpaint } = useEdit();
  const painted = useEdit((s) => s.mask?.some((v) => v > 0) ?? false);
  const width = useGenerate((s) => snapSide(s.draft.width));
  const height = useGenerate((s) => snapSide(s.draft.height));
  const [over, setOver] = useState(false);
  const onDrop = (e: DragEvent) => {
    const file = e.dataTransfer.files[0];
    if (!file) return;
    // this zone takes the image; the studio-wide PNG drop (png-drop.ts) must not read its parameters too
    e.preventDefault();
    e.stopPropagation();
    setOver(false);
    void loadInitFile(file, factor);
  };
  const pick = (
    <input type="file" accept="image/png,image/jpeg,image/webp" data-testid="gen-init-file" className="gen-init-input" onChange={(e) => { const f = e.target.files?.[0]; e.target.value = ''; if (f) void loadInitFile(f, factor); }} />
  );
  const fit = init ? fitDescription(init, width, height) : '';
  return (
    <section className="gen-edit" aria-label="Init image" data-testid="gen-edit">
      <div className="gen-edit-head">
        <span className="field-label">Init image</span>
        {init && <button type="button" className="btn gen-edit-clear" data-testid="gen-init-clear" onClick={clearEdit}>Clear</button>}
      </div>
      {!init ? (
        <label className={`gen-dropzone${over ? ' is-over' : ''}`} data-testid="gen-init-drop" onDragOver={(e) => (e.preventDefault(), e.stopPropagation(), setOver(true))} onDragLeave={() => setOver(false)} onDrop={onDrop}>
          {pick}
          <span>Drop a photo here or <u>pick one</u> to edit it; or “Send to edit” from the Gallery.</span>
        </label>
      ) : (
        <>
          <p className="small muted" data-testid="gen-init-fit">
            {initName}: {fit}
            {outpaint.some((v) => v > 0) && mode === 'outpaint' ? `, then extended to ${width + outpaint[0] + outpaint[2]}×${height + outpaint[1] + outpaint[3]}` : ''}.
          </p>
          <div className="gen-sizes" role="group" aria-label="Edit mode">
            {MODES.map((m) => (
              <button key={m.id} type="button" className={`chip${mode === m.id ? ' chip-ok' : ''}`} aria-pressed={mode === m.id} data-testid={`gen-mode-${m.id}`} onClick={() => setMode(m.id)}>
                {m.label}
              </button>
            ))}
          </div>
          {mode === 'inpaint' ? <InpaintCanvas /> : <div className="gen-init-thumb" onDragOver={(e) => e.preventDefault()} onDrop={onDrop}><RgbaCanvas image={init} label="Init image" testId="gen-init-image" /></div>}
          {mode === 'inpaint' && !painted && <p className="small muted" data-testid="gen-mask-empty">Nothing painted yet: the run is plain image to image until you paint where it should change.</p>}
          {mode === 'inpaint' && hasAlpha && (
            <button type="button" className="btn" data-testid="gen-mask-alpha" onClick={maskFromInitAlpha}>Use the image’s transparency as the mask</button>
          )}
          <StrengthField />
          {mode === 'outpaint' && <OutpaintFields factor={factor} />}
          {mode !== 'img2img' && <MaskOptions />}
        </>
      )}
      {/* style transfer: on a prompt alone, or on the init image beside its strength */}
      <StyleStrength />
      {message && <p className={`small ${message.kind === 'error' ? 'warn-text' : 'muted'}`} role={message.kind === 'error' ? 'alert' : undefined} data-testid="gen-init-message">{message.text}</p>}
    </section>
  );
}
