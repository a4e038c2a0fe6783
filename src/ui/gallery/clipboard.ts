/**
 * Copying text for the gallery's copy buttons. The browser may refuse (no permission, the page not
 * focused, an insecure origin): the caller gets `false` and says so in a sentence, never the
 * DOMException's own text.
 */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (!navigator.clipboard?.writeText) return false;
    await navigator.clipboard.writeText(text);
    return true;
  } catch (err) {
    console.warn('Clipboard write refused', err);
    return false;
  }
}

export const CLIPBOARD_REFUSED = 'The browser did not allow copying to the clipboard. Select the text and press Ctrl+C (⌘C on a Mac) instead.';
