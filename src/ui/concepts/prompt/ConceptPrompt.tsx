/**
 * A prompt box that knows the concept library (issue 11 point 4, "autocomplete in the prompt box"):
 * typing "<" (or the start of a concept's name) lists the active model's concepts — name, class word,
 * thumbnail — and picking one writes its phrase "<p1> <p2> class". ↑/↓ move, Enter or Tab pick,
 * Escape closes; the textarea keeps focus and points at the highlighted option with
 * aria-activedescendant (the ARIA listbox-popup pattern). The matching and insertion are
 * autocomplete.ts; this component wires keys, caret and list.
 */
import { useEffect, useId, useLayoutEffect, useMemo, useRef, useState, type TextareaHTMLAttributes } from 'react';
import type { ConceptSummary } from '../../../storage/concepts/record';
import { useStudio } from '../../store';
import { conceptsOfModel, ensureConcepts, useConcepts } from '../concepts-store';
import { useBlobUrl } from '../library/blob-url';
import { conceptPhrase, insertConcept, matchConcepts, promptQueryAt, type PromptQuery } from './autocomplete';
import { ensureLoras, useLoras } from '../../loras/loras-store';
import { insertLora, matchLoras } from '../../loras/lora-autocomplete';
import './prompt.css';

/** The active model's concepts (what its prompts can name), read once per page load. */
export function useActiveConcepts(): ConceptSummary[] {
  const concepts = useConcepts((s) => s.concepts);
  const modelId = useStudio((s) => s.activeModelId);
  useEffect(() => {
    void ensureConcepts();
  }, []);
  return useMemo(() => conceptsOfModel(concepts, modelId), [concepts, modelId]);
}

function Option({ c, id, active, onPick }: { c: ConceptSummary; id: string; active: boolean; onPick(): void }) {
  const url = useBlobUrl(c.samples[0]?.image ?? c.thumbnails[0]);
  return (
    <li
      id={id}
      role="option"
      aria-selected={active}
      className={`cp-option${active ? ' is-active' : ''}`}
      data-testid="concept-option"
      // mousedown, not click: the textarea must not lose focus (and the caret) first
      onMouseDown={(e) => {
        e.preventDefault();
        onPick();
      }}
    >
      {url ? <img src={url} alt="" className="cp-thumb" /> : <span className="cp-thumb cp-thumb-empty" aria-hidden="true">{c.name.slice(0, 1).toUpperCase()}</span>}
      <span className="cp-text">
        <span className="cp-name">{c.name}</span>
        <span className="cp-phrase">{conceptPhrase(c)}</span>
      </span>
    </li>
  );
}

export interface ConceptPromptProps extends Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, 'value' | 'onChange'> {
  value: string;
  onChange(value: string): void;
}

export function ConceptPrompt({ value, onChange, className, ...rest }: ConceptPromptProps) {
  const concepts = useActiveConcepts();
  // plain LoRAs sit beside the concepts (issue 11): "<" offers them too, as <lora:name:1>
  const loras = useLoras((s) => s.loras);
  useEffect(() => ensureLoras(), []);
  const loraNames = useMemo(() => loras.map((l) => l.name), [loras]);
  const ref = useRef<HTMLTextAreaElement>(null);
  // where the caret goes once a picked phrase is in the textarea (see the layout effect below)
  const pendingCaret = useRef<{ text: string; caret: number } | null>(null);
  const listId = useId();
  const [query, setQuery] = useState<PromptQuery | null>(null);
  const [active, setActive] = useState(0);
  // Escape closes the list until the text changes again
  const [closed, setClosed] = useState(false);
  const matches = useMemo(() => (query ? matchConcepts(concepts, query) : []), [concepts, query]);
  const loraMatches = useMemo(() => (query ? matchLoras(loraNames, query) : []), [loraNames, query]);
  const total = matches.length + loraMatches.length;
  const open = total > 0 && !closed;
  const optionId = (i: number) => `${listId}-opt-${i}`;

  const track = (el: HTMLTextAreaElement) => {
    const q = el.selectionStart === el.selectionEnd ? promptQueryAt(el.value, el.selectionStart) : null;
    setQuery(q);
    setActive(0);
  };

  const pick = (c: ConceptSummary | string) => {
    if (!query) return;
    const r = typeof c === 'string' ? insertLora(value, query, c) : insertConcept(value, query, c);
    pendingCaret.current = r;
    onChange(r.text);
    setQuery(null);
  };

  // The caret goes after the inserted phrase in the same commit that writes the new value. A
  // requestAnimationFrame here used to run after the user's next keystroke on a busy machine and
  // pull the caret back into the middle of what they had just typed ("dog n a beacho").
  useLayoutEffect(() => {
    const want = pendingCaret.current;
    const el = ref.current;
    if (!want || !el || el.value !== want.text) return;
    pendingCaret.current = null;
    el.focus();
    el.setSelectionRange(want.caret, want.caret);
  }, [value]);

  return (
    <div className="cp-wrap">
      <textarea
        {...rest}
        ref={ref}
        className={className}
        value={value}
        aria-autocomplete="list"
        aria-controls={open ? listId : undefined}
        aria-activedescendant={open ? optionId(active) : undefined}
        onChange={(e) => {
          onChange(e.target.value);
          setClosed(false);
          track(e.target);
        }}
        onSelect={(e) => track(e.currentTarget)}
        onBlur={() => setQuery(null)}
        onKeyDown={(e) => {
          if (!open || e.ctrlKey || e.metaKey || e.altKey) return;
          if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
            e.preventDefault();
            const n = total;
            setActive((a) => (a + (e.key === 'ArrowDown' ? 1 : n - 1)) % n);
          } else if (e.key === 'Enter' || e.key === 'Tab') {
            e.preventDefault();
            const c = active < matches.length ? matches[active] : loraMatches[active - matches.length];
            if (c !== undefined) pick(c);
          } else if (e.key === 'Escape') {
            // closes the list only (the page's Escape would cancel a running generation)
            e.preventDefault();
            e.stopPropagation();
            setClosed(true);
          }
        }}
      />
      {open && (
        <ul id={listId} role="listbox" aria-label="Concepts and LoRAs" className="cp-list" data-testid="concept-suggestions">
          {matches.map((c, i) => (
            <Option key={c.id} c={c} id={optionId(i)} active={i === active} onPick={() => pick(c)} />
          ))}
          {loraMatches.map((name, j) => {
            const i = matches.length + j;
            return (
              <li
                key={`lora:${name}`}
                id={optionId(i)}
                role="option"
                aria-selected={i === active}
                className={`cp-option${i === active ? ' is-active' : ''}`}
                data-testid="lora-option"
                onMouseDown={(e) => {
                  e.preventDefault();
                  pick(name);
                }}
              >
                <span className="cp-thumb cp-thumb-empty" aria-hidden="true">L</span>
                <span className="cp-text">
                  <span className="cp-name">{name}</span>
                  <span className="cp-phrase">&lt;lora:{name}:1&gt;</span>
                </span>
              </li>
            );
          })}
        </ul>
      )}
      <span className="sr-only" role="status" aria-live="polite">
        {open ? `${total} suggestion${total === 1 ? '' : 's'} (concepts and LoRAs); arrow keys to choose, Enter to insert.` : ''}
      </span>
    </div>
  );
}
