/**
 * A one-shot request from a first-step card ("Import a model") to the Models page: when the page next
 * mounts, it focuses and highlights the import field, so the person lands on the thing to do.
 */
let requested = false;

export function requestImportFocus(): void {
  requested = true;
}

/** True once after requestImportFocus(); the request is consumed. */
export function takeImportFocus(): boolean {
  const r = requested;
  requested = false;
  return r;
}
