/**
 * The Generate form's LoRA picker (issue 13 point 1): choose an imported LoRA and a weight on a slider,
 * and "Add" writes `<lora:name:w>` at the end of the prompt. The prompt stays the one source of truth
 * (what is written there is what runs), so picking and typing a tag are the same thing.
 */
import { useEffect, useState } from 'react';
import { appendLora } from './lora-autocomplete';
import { ensureLoras, useLoras } from './loras-store';

export function LoraPicker({ prompt, onChange }: { prompt: string; onChange(prompt: string): void }) {
  const loras = useLoras((s) => s.loras);
  const [id, setId] = useState('');
  const [weight, setWeight] = useState(0.8);
  useEffect(() => ensureLoras(), []);
  if (loras.length === 0) return null;
  const chosen = loras.find((l) => l.id === id) ?? loras[0]!;
  return (
    <div className="field lora-picker" role="group" aria-label="LoRAs" data-testid="lora-picker">
      <span className="field-label">LoRA</span>
      <select aria-label="LoRA" data-testid="lora-pick" value={chosen.id} onChange={(e) => setId(e.target.value)}>
        {loras.map((l) => (
          <option key={l.id} value={l.id}>
            {l.name}
          </option>
        ))}
      </select>
      <input type="range" aria-label="LoRA weight" data-testid="lora-weight" min={-1} max={2} step={0.05} value={weight} onChange={(e) => setWeight(Number(e.target.value))} />
      <span className="num small">{weight.toFixed(2)}</span>
      <button type="button" className="btn btn-small" data-testid="lora-add" onClick={() => onChange(appendLora(prompt, chosen.name, weight))}>
        Add to prompt
      </button>
    </div>
  );
}
