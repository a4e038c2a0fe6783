/**
 * Caption templates of concept training (spec §1.5): CIDM's EnhanceText wraps the concept phrase in a
 * template drawn at random per sample, from the `object` list (27, tasks with an object or animal) or
 * the `style` list (16, tasks with a painting or drawing style). The lists are CIDM's own
 * (lib/data/pil_transform.py EnhanceText), duplicates included: "a cropped {}" and "a close-up {}"
 * appear twice in the style list, so a uniform draw picks them twice as often, as the code does.
 *
 * The phrase put in place of `{}` is "<p1> <p2> class": the placeholder words followed by the class
 * word, so the class word's prior helps the first steps (as in learn-check and Mix-of-Show's captions).
 */

export const OBJECT_TEMPLATES: readonly string[] = [
  'a photo of a {}',
  'a rendering of a {}',
  'a cropped photo of the {}',
  'the photo of a {}',
  'a photo of a clean {}',
  'a photo of a dirty {}',
  'a dark photo of the {}',
  'a photo of my {}',
  'a photo of the cool {}',
  'a close-up photo of a {}',
  'a bright photo of the {}',
  'a cropped photo of a {}',
  'a photo of the {}',
  'a good photo of the {}',
  'a photo of one {}',
  'a close-up photo of the {}',
  'a rendition of the {}',
  'a photo of the clean {}',
  'a rendition of a {}',
  'a photo of a nice {}',
  'a good photo of a {}',
  'a photo of the nice {}',
  'a photo of the small {}',
  'a photo of the weird {}',
  'a photo of the large {}',
  'a photo of a cool {}',
  'a photo of a small {}',
];

export const STYLE_TEMPLATES: readonly string[] = [
  'a {}',
  'a rendering {}',
  'a cropped {}',
  'the {}',
  'a clean {}',
  'a dirty {}',
  'a cool painting {}',
  'a close-up {}',
  'a bright {}',
  'a cropped {}',
  'a good {}',
  'a close-up {}',
  'a nice {}',
  'a small {}',
  'a weird {}',
  'a large {}',
];

/** 'object', 'style', or one caption of the caller's with `{}` where the concept phrase goes. */
export type CaptionTemplate = 'object' | 'style' | (string & {});

const SLOT = '{}';

/** The template list of a choice; a custom caption is a list of one. */
export function captionTemplates(t: CaptionTemplate = 'object'): readonly string[] {
  if (t === 'object') return OBJECT_TEMPLATES;
  if (t === 'style') return STYLE_TEMPLATES;
  if (!t.includes(SLOT)) throw new RangeError(`the caption template "${t}" has no "{}" where the concept's words go`);
  return [t];
}

/** "<p1> <p2> class": what fills a template's `{}`. */
export function conceptPhrase(placeholders: readonly string[], classWord: string): string {
  return [...placeholders, classWord.trim()].filter((w) => w.length > 0).join(' ');
}

/** Every caption of a template choice for one concept, in the list's order. */
export function trainingCaptions(t: CaptionTemplate | undefined, placeholders: readonly string[], classWord: string): string[] {
  const phrase = conceptPhrase(placeholders, classWord);
  return captionTemplates(t).map((tpl) => tpl.split(SLOT).join(phrase));
}
