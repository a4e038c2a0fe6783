/**
 * A tiny, strict WGSL preprocessor for structural variants (dtype, fused epilogues, transposes).
 *
 *   #param NAME            declares a value parameter; `{{NAME}}` in the code is replaced by it
 *   #if FLAG | #if !FLAG | #if NAME == value    (one condition per line)
 *   #elif ... | #else | #endif                  (nesting allowed)
 *
 * Unknown flags and undeclared or missing parameters are errors, so a typo cannot silently select
 * the wrong variant. Directive lines become empty lines, keeping WGSL line numbers in error messages.
 */

export type Defines = Record<string, string | number | boolean>;

export class PreprocessError extends Error {
  override name = 'PreprocessError';
}

interface Frame {
  /** This branch is emitted. */
  active: boolean;
  /** Some branch of this #if chain was already taken. */
  taken: boolean;
  /** The enclosing frame is emitting. */
  parentActive: boolean;
  sawElse: boolean;
}

function evalCondition(expr: string, defines: Defines, line: number): boolean {
  const eq = /^([A-Za-z_]\w*)\s*(==|!=)\s*([\w.]+)$/.exec(expr);
  if (eq) {
    const [, name, op, value] = eq as unknown as [string, string, string, string];
    if (!(name in defines)) throw new PreprocessError(`line ${line}: "${name}" is not defined`);
    const same = String(defines[name]) === value;
    return op === '==' ? same : !same;
  }
  const flag = /^(!?)([A-Za-z_]\w*)$/.exec(expr);
  if (!flag) throw new PreprocessError(`line ${line}: cannot parse condition "${expr}"`);
  const [, neg, name] = flag as unknown as [string, string, string];
  if (!(name in defines)) throw new PreprocessError(`line ${line}: flag "${name}" is not defined`);
  const v = Boolean(defines[name]);
  return neg ? !v : v;
}

export function preprocess(source: string, defines: Defines): string {
  const out: string[] = [];
  const stack: Frame[] = [];
  const params = new Set<string>();
  const lines = source.split('\n');
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const m = /^\s*#(\w+)\s*(.*?)\s*$/.exec(raw);
    const emitting = stack.length === 0 || stack[stack.length - 1]!.active;
    if (!m) {
      out.push(emitting ? raw : '');
      return;
    }
    const [, directive, arg] = m as unknown as [string, string, string];
    const top = stack[stack.length - 1];
    switch (directive) {
      case 'param':
        if (!(arg in defines)) throw new PreprocessError(`line ${lineNo}: parameter "${arg}" was not given`);
        params.add(arg);
        break;
      case 'if': {
        const active = emitting && evalCondition(arg, defines, lineNo);
        stack.push({ active, taken: active, parentActive: emitting, sawElse: false });
        break;
      }
      case 'elif': {
        if (!top || top.sawElse) throw new PreprocessError(`line ${lineNo}: #elif without #if`);
        const active = top.parentActive && !top.taken && evalCondition(arg, defines, lineNo);
        top.active = active;
        top.taken ||= active;
        break;
      }
      case 'else':
        if (!top || top.sawElse) throw new PreprocessError(`line ${lineNo}: #else without #if`);
        top.active = top.parentActive && !top.taken;
        top.taken = true;
        top.sawElse = true;
        break;
      case 'endif':
        if (!top) throw new PreprocessError(`line ${lineNo}: #endif without #if`);
        stack.pop();
        break;
      default:
        throw new PreprocessError(`line ${lineNo}: unknown directive #${directive}`);
    }
    out.push('');
  });
  if (stack.length) throw new PreprocessError('unterminated #if at end of source');
  return out.join('\n').replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    if (!params.has(name)) throw new PreprocessError(`{{${name}}} is used but not declared with #param`);
    return String(defines[name]);
  });
}
