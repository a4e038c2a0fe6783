/**
 * The prompt box's LoRA suggestions (issue 11: concepts and plain LoRAs side by side in prompts):
 * after "<" the imported LoRAs whose name fits what follows (with or without A1111's "lora:" prefix)
 * are offered beside the concepts, and picking one writes `<lora:name:1>` in place of the word. Pure
 * functions; ConceptPrompt wires them.
 */
import { formatLoraTag } from '../../model/lora/prompt-tags';
import type { PromptQuery } from '../concepts/prompt/autocomplete';

/** LoRA names that fit the query, best first (prefix before substring), at most `limit`. Only after "<". */
export function matchLoras(names: readonly string[], q: Pick<PromptQuery, 'query' | 'explicit'>, limit = 6): string[] {
  if (!q.explicit) return [];
  const raw = q.query.replace(/^(lora|lyco):?/, '');
  // "<lora:name:0.5" while editing a written tag: the name part only
  const query = raw.split(':')[0]!;
  const score = (n: string) => {
    const l = n.toLowerCase();
    if (query === '') return 1;
    if (l.startsWith(query)) return 3;
    return l.includes(query) ? 2 : 0;
  };
  return names
    .map((n, i) => ({ n, i, s: score(n) }))
    .filter((x) => x.s > 0)
    .sort((a, b) => b.s - a.s || a.i - b.i)
    .slice(0, limit)
    .map((x) => x.n);
}

/** The text with the query's word replaced by `<lora:name:weight>`, and the caret after it. */
export function insertLora(text: string, q: Pick<PromptQuery, 'start' | 'end'>, name: string, weight = 1): { text: string; caret: number } {
  const tag = formatLoraTag(name, weight);
  const before = text.slice(0, q.start);
  const after = text.slice(q.end);
  const sep = after === '' || /^[\s,;]/.test(after) ? '' : ' ';
  return { text: `${before}${tag}${sep}${after}`, caret: before.length + tag.length };
}

/** The prompt with `<lora:name:weight>` appended (the picker's button). */
export function appendLora(prompt: string, name: string, weight: number): string {
  const tag = formatLoraTag(name, weight);
  return prompt.trim() === '' ? tag : `${prompt.replace(/\s+$/, '')} ${tag}`;
}
