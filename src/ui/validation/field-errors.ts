/**
 * The reasons shown beside fields right now, by field id ("gen-steps", "sc-region-alpha"): a form's
 * run button is disabled while one of its fields has a reason, and the controller refuses to queue.
 */
import { create } from 'zustand';

export const useFieldErrors = create<{ errors: Readonly<Record<string, string>> }>()(() => ({ errors: {} }));

export function setFieldError(id: string, reason: string | null): void {
  const errors = useFieldErrors.getState().errors;
  if ((errors[id] ?? null) === reason) return;
  const next = { ...errors };
  if (reason) next[id] = reason;
  else delete next[id];
  useFieldErrors.setState({ errors: next });
}

/** Whether any field whose id starts with `prefix` has a reason. */
export function anyFieldError(prefix: string, errors: Readonly<Record<string, string>> = useFieldErrors.getState().errors): boolean {
  return Object.keys(errors).some((k) => k.startsWith(prefix));
}
