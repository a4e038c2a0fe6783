/**
 * Keeps the Generate draft (prompt, negative, size, steps, …) in the settings store, so a reload or a
 * crash never loses what was typed. Written 300 ms after the last change; read once at start-up and
 * merged over the defaults (a draft saved by an older studio may lack newer fields).
 */
import { getSetting, setSetting } from '../../storage/settings';
import { DEFAULT_DRAFT, useGenerate, type GenerateDraft } from './generate-store';

export const DRAFT_KEY = 'generate.draft.v1';

export async function restoreDraft(): Promise<void> {
  try {
    const saved = await getSetting<Partial<GenerateDraft>>(DRAFT_KEY);
    if (saved && typeof saved === 'object') useGenerate.setState({ draft: { ...DEFAULT_DRAFT, ...saved } });
  } catch {
    /* a broken settings database must not stop the studio; the defaults stay */
  }
}

export function persistDraft(): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let last = useGenerate.getState().draft;
  const unsubscribe = useGenerate.subscribe((s) => {
    if (s.draft === last) return;
    last = s.draft;
    clearTimeout(timer);
    timer = setTimeout(() => void setSetting(DRAFT_KEY, last).catch(() => undefined), 300);
  });
  const flush = () => {
    clearTimeout(timer);
    void setSetting(DRAFT_KEY, last).catch(() => undefined);
  };
  window.addEventListener('pagehide', flush);
  return () => {
    unsubscribe();
    window.removeEventListener('pagehide', flush);
  };
}
