import { describe, expect, it } from 'vitest';
import { preprocess, PreprocessError } from './preprocess';

describe('WGSL preprocessor', () => {
  const src = ['#param DTYPE', 'a: {{DTYPE}}', '#if BIAS', 'bias', '#elif ACT == silu', 'silu', '#else', 'plain', '#endif', 'end'].join('\n');

  it('selects branches and substitutes params, keeping line numbers', () => {
    const out = preprocess(src, { DTYPE: 'f16', BIAS: true, ACT: 'silu' }).split('\n');
    expect(out).toHaveLength(10);
    expect(out.filter(Boolean)).toEqual(['a: f16', 'bias', 'end']);
    expect(preprocess(src, { DTYPE: 'f32', BIAS: false, ACT: 'silu' }).split('\n').filter(Boolean)).toEqual(['a: f32', 'silu', 'end']);
    expect(preprocess(src, { DTYPE: 'f32', BIAS: false, ACT: 'none' }).split('\n').filter(Boolean)).toEqual(['a: f32', 'plain', 'end']);
  });

  it('handles nesting and negation', () => {
    const nested = ['#if A', '#if !B', 'x', '#endif', '#endif'].join('\n');
    expect(preprocess(nested, { A: true, B: false }).trim()).toBe('x');
    expect(preprocess(nested, { A: true, B: true }).trim()).toBe('');
    expect(preprocess(nested, { A: false, B: false }).trim()).toBe('');
  });

  it('refuses undefined flags, missing params, undeclared placeholders and bad nesting', () => {
    expect(() => preprocess('#if NOPE\n#endif', {})).toThrow(PreprocessError);
    expect(() => preprocess('#param T\n{{T}}', {})).toThrow(/parameter "T"/);
    expect(() => preprocess('{{T}}', { T: 'f32' })).toThrow(/not declared/);
    expect(() => preprocess('#if A\n', { A: true })).toThrow(/unterminated/);
    expect(() => preprocess('#endif', {})).toThrow(/without #if/);
    expect(() => preprocess('#else', {})).toThrow(/without #if/);
    expect(() => preprocess('#pragma x', {})).toThrow(/unknown directive/);
  });
});
