/**
 * A number input that checks its rule as the person types (fields.ts): the text stays as typed, the
 * reason shows beside it, and only a valid value reaches the store. A value set from elsewhere (a
 * preset, "Use smaller", a restored draft) replaces the text.
 */
import { useEffect, useId, useState } from 'react';
import { numberError, type NumberRule } from './fields';
import { setFieldError } from './field-errors';
import './validation.css';

export interface CheckedNumberProps {
  /** The field's id in the error registry and its test id ("gen-steps"). */
  id: string;
  name?: string;
  label: string;
  rule: NumberRule;
  value: number;
  step?: number;
  disabled?: boolean;
  className?: string;
  labelClassName?: string;
  title?: string;
  onChange(v: number): void;
}

export function CheckedNumber(p: CheckedNumberProps) {
  const [text, setText] = useState(String(p.value));
  const reasonId = useId();
  const reason = numberError(text, p.rule);
  useEffect(() => {
    // the store changed from elsewhere: show its value (a typed, still invalid text stays while it differs)
    setText((t) => (Number(t) === p.value && t.trim() !== '' ? t : String(p.value)));
  }, [p.value]);
  useEffect(() => setFieldError(p.id, reason), [p.id, reason]);
  useEffect(() => () => setFieldError(p.id, null), [p.id]);
  return (
    <label className={p.className ?? 'field field-num'} title={p.title}>
      <span className={p.labelClassName ?? 'field-label'}>{p.label}</span>
      <input
        type="number"
        name={p.name}
        data-testid={p.id}
        min={p.rule.min}
        max={p.rule.max}
        step={p.step ?? (p.rule.multipleOf ?? (p.rule.integer ? 1 : 'any'))}
        value={text}
        disabled={p.disabled}
        aria-invalid={reason !== null}
        aria-describedby={reason ? reasonId : undefined}
        onChange={(e) => {
          setText(e.target.value);
          if (numberError(e.target.value, p.rule) === null) p.onChange(Number(e.target.value));
        }}
      />
      {reason && (
        <span className="field-error small" id={reasonId} role="alert" data-testid={`${p.id}-error`}>
          {reason}
        </span>
      )}
    </label>
  );
}
