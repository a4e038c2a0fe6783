/**
 * A region's concept picker (issue 11 point 5, "each region picks its concepts"): one toggle per
 * concept of the active model; on writes the concept's phrase into the region's prompt, off removes
 * it. The prompt is the one source of truth (a toggle is on when the prompt names the concept), so
 * typing a placeholder by hand and picking are the same thing; the engine weighs the region's LoRAs
 * by EWA from that region's own prompt (spec §3, §4).
 */
import { appendConcept, conceptPhrase, promptNames, removeConcept } from './autocomplete';
import { useActiveConcepts } from './ConceptPrompt';

export function ConceptPicker({ prompt, onChange, label = 'Concepts' }: { prompt: string; onChange(prompt: string): void; label?: string }) {
  const concepts = useActiveConcepts();
  if (concepts.length === 0) return null;
  return (
    <div className="cp-picker" role="group" aria-label={label} data-testid="concept-picker">
      <span className="cp-picker-label small muted">{label}</span>
      {concepts.map((c) => {
        const on = promptNames(prompt, c);
        return (
          <button
            key={c.id}
            type="button"
            className={`chip cp-chip${on ? ' chip-ok' : ''}`}
            aria-pressed={on}
            title={on ? `Remove ${conceptPhrase(c)} from this prompt` : `Add ${conceptPhrase(c)} to this prompt`}
            data-testid="concept-pick"
            onClick={() => onChange(on ? removeConcept(prompt, c) : appendConcept(prompt, c))}
          >
            {c.name}
          </button>
        );
      })}
    </div>
  );
}
