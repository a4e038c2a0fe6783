/**
 * Which concepts of the engine's library a prompt names (issue 11 point 4: prompts name concepts by
 * their placeholder words). The words are found exactly as the EWA tokenization finds them
 * (cidm/train/caption-ids.ts conceptCaptionIds: the placeholders as a longest-first alternation, so
 * "<dog10>" is not read as "<dog1>" + "0"), over every concept of the library whatever its model, so a
 * word of a concept learned on another model is recognised and refused by name instead of being
 * tokenized as plain text and silently ignored.
 */
import type { Concept } from '../cidm/concepts/concept';

/** A prompt names a concept that was learned on another model than the loaded one. */
export class ConceptModelMismatchError extends Error {
  override readonly name = 'ConceptModelMismatchError';
  readonly code = 'concept-model-mismatch';
  constructor(
    readonly word: string,
    readonly conceptName: string,
    readonly conceptModelId: string,
    readonly loadedModelId: string,
  ) {
    super(
      `The prompt names "${word}" of the concept "${conceptName}", which was learned on the model "${conceptModelId}", ` +
        `but "${loadedModelId}" is loaded. Load "${conceptModelId}" to use it, or teach the concept again on this model.`,
    );
  }
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The placeholder words of `words` that occur in `prompt`, in prompt order (each once). */
export function placeholderWordsIn(prompt: string, words: readonly string[]): string[] {
  const known = new Set(words.filter((w) => w.length > 0));
  if (!known.size || !prompt) return [];
  const re = new RegExp(`(${[...known].sort((a, b) => b.length - a.length).map(escapeRe).join('|')})`);
  const found: string[] = [];
  for (const piece of prompt.split(re)) if (known.has(piece) && !found.includes(piece)) found.push(piece);
  return found;
}

/**
 * The concepts of the model `modelId` that the prompts name, in library order (each once). A word that
 * only a concept of another model uses → ConceptModelMismatchError (a word that both a concept of this
 * model and one of another use means this model's).
 */
export function namedConcepts<C extends Pick<Concept, 'name' | 'placeholders' | 'modelId'>>(prompts: readonly string[], library: readonly C[], modelId: string): C[] {
  const owners = new Map<string, C[]>();
  for (const c of library) for (const w of c.placeholders) owners.set(w, [...(owners.get(w) ?? []), c]);
  const named = new Set<C>();
  for (const prompt of prompts) {
    for (const w of placeholderWordsIn(prompt, [...owners.keys()])) {
      const all = owners.get(w)!;
      const mine = all.filter((c) => c.modelId === modelId);
      if (!mine.length) throw new ConceptModelMismatchError(w, all[0]!.name, all[0]!.modelId, modelId);
      for (const c of mine) named.add(c);
    }
  }
  return library.filter((c) => named.has(c));
}

/** The concepts EWA aggregates for the loaded model: every library concept learned on it (task order is EWA's). */
export function modelConcepts(library: readonly Concept[], modelId: string): Concept[] {
  return library.filter((c) => c.modelId === modelId);
}
