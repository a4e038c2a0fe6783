import { describe, expect, it } from 'vitest';
import { appendConcept, conceptPhrase, conceptsNamedIn, insertConcept, matchConcepts, promptNames, promptQueryAt, removeConcept, type PromptConcept } from './autocomplete';

const rex: PromptConcept = { id: 'a', name: 'Rex', classWord: 'dog', placeholders: ['<rex1>', '<rex2>'] };
const mug: PromptConcept = { id: 'b', name: 'Blue mug', classWord: 'mug', placeholders: ['<mug1>'] };
const style: PromptConcept = { id: 'c', name: 'Ink wash', classWord: 'painting', placeholders: ['<ink1>', '<ink2>'] };
const all = [rex, mug, style];

describe('promptQueryAt', () => {
  it('finds a word that starts with "<", empty included', () => {
    expect(promptQueryAt('a photo of <re', 14)).toEqual({ start: 11, end: 14, query: 're', explicit: true });
    expect(promptQueryAt('a photo of <', 12)).toEqual({ start: 11, end: 12, query: '', explicit: true });
  });
  it('takes the whole word around the caret and stops at commas and brackets', () => {
    expect(promptQueryAt('x,<rex1> dog', 5)).toEqual({ start: 2, end: 8, query: 're', explicit: true });
    expect(promptQueryAt('(blue', 5)).toEqual({ start: 1, end: 5, query: 'blue', explicit: false });
  });
  it('needs two characters of a bare word', () => {
    expect(promptQueryAt('a photo of b', 12)).toBeNull();
    expect(promptQueryAt('a photo of bl', 13)?.query).toBe('bl');
    expect(promptQueryAt('a photo ', 8)).toBeNull();
  });
});

describe('matchConcepts', () => {
  it('lists every concept after a bare "<", in library order', () => {
    expect(matchConcepts(all, { query: '', explicit: true }).map((c) => c.id)).toEqual(['a', 'b', 'c']);
    expect(matchConcepts(all, { query: '', explicit: false })).toEqual([]);
  });
  it('ranks a placeholder prefix above a name word and a class word', () => {
    expect(matchConcepts(all, { query: 'mu', explicit: true }).map((c) => c.id)).toEqual(['b']);
    // "in": <ink1> prefix (c) beats nothing else; "g" in "dog" only when explicit
    expect(matchConcepts(all, { query: 'in', explicit: true }).map((c) => c.id)).toEqual(['c']);
    expect(matchConcepts(all, { query: 'do', explicit: true }).map((c) => c.id)).toEqual(['a']);
  });
  it('a bare word matches only name or placeholder prefixes, not the class word', () => {
    expect(matchConcepts(all, { query: 'do', explicit: false })).toEqual([]);
    expect(matchConcepts(all, { query: 'wash', explicit: false }).map((c) => c.id)).toEqual(['c']);
    expect(matchConcepts(all, { query: 're', explicit: false }).map((c) => c.id)).toEqual(['a']);
  });
  it('honours the limit', () => {
    expect(matchConcepts(all, { query: '', explicit: true }, 2)).toHaveLength(2);
  });
});

describe('insertion and naming', () => {
  it('the phrase is the placeholders then the class word', () => {
    expect(conceptPhrase(rex)).toBe('<rex1> <rex2> dog');
  });
  it('replaces the typed word and puts the caret after the phrase and a space', () => {
    const q = promptQueryAt('a photo of <re on a beach', 14)!;
    expect(insertConcept('a photo of <re on a beach', q, rex)).toEqual({ text: 'a photo of <rex1> <rex2> dog on a beach', caret: 29 });
    const end = promptQueryAt('a photo of <', 12)!;
    expect(insertConcept('a photo of <', end, rex)).toEqual({ text: 'a photo of <rex1> <rex2> dog ', caret: 29 });
    const comma = promptQueryAt('<mu, red', 3)!;
    expect(insertConcept('<mu, red', comma, mug).text).toBe('<mug1> mug, red');
  });
  it('knows which concepts a prompt names, by whole placeholder words', () => {
    expect(promptNames('a <rex1> dog', rex)).toBe(true);
    expect(promptNames('a <rex10> dog', rex)).toBe(false);
    expect(conceptsNamedIn('<ink2> painting of <mug1> mug.', all).map((c) => c.id)).toEqual(['b', 'c']);
  });
  it('the region picker appends and removes a phrase and tidies separators', () => {
    expect(appendConcept('', rex)).toBe('<rex1> <rex2> dog');
    expect(appendConcept('on grass ', rex)).toBe('on grass, <rex1> <rex2> dog');
    const two = appendConcept(appendConcept('on grass', rex), mug);
    expect(two).toBe('on grass, <rex1> <rex2> dog, <mug1> mug');
    expect(removeConcept(two, rex)).toBe('on grass, <mug1> mug');
    expect(removeConcept('<rex1> <rex2> dog', rex)).toBe('');
    // an edited phrase: its placeholders still go
    expect(removeConcept('a happy <rex1> <rex2> puppy', rex)).toBe('a happy puppy');
  });
});
