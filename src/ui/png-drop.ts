/**
 * Dropping a PNG anywhere on the studio (outside the Models page, which takes model files) reads its
 * `parameters` tEXt chunk (ours or another SD tool's) and puts them into the Generate panel.
 */
import { readPngText, PngError } from '../storage/png/png';
import { parseParameters } from '../storage/png/parameters';
import { reuseParameters } from './gallery/GalleryPage';
import { useGenerate } from './generate/generate-store';
import { useStudio } from './store';
import { reasonOf } from './plain-error';

export async function restoreFromPng(file: File): Promise<void> {
  try {
    const text = readPngText(new Uint8Array(await file.arrayBuffer()));
    if (!text.parameters) {
      useGenerate.setState({ notice: `${file.name} has no generation parameters.` });
      return;
    }
    reuseParameters(parseParameters(text.parameters, useGenerate.getState().draft.scheduler));
    useGenerate.setState({ notice: `Parameters loaded from ${file.name}.` });
  } catch (err) {
    const why = err instanceof PngError ? err.message : `Its parameters could not be read (${reasonOf(err)}).`;
    useGenerate.setState({ notice: `${file.name}: ${why}` });
  }
}

export function installPngDrop(): () => void {
  const isPngDrag = (e: DragEvent) => [...(e.dataTransfer?.items ?? [])].some((i) => i.kind === 'file' && i.type === 'image/png');
  const over = (e: DragEvent) => {
    if (useStudio.getState().section === 'models' || e.defaultPrevented || !isPngDrag(e)) return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
  };
  const drop = (e: DragEvent) => {
    if (useStudio.getState().section === 'models' || e.defaultPrevented) return;
    const file = [...(e.dataTransfer?.files ?? [])].find((f) => f.type === 'image/png' || f.name.toLowerCase().endsWith('.png'));
    if (!file) return;
    e.preventDefault();
    void restoreFromPng(file);
  };
  window.addEventListener('dragover', over);
  window.addEventListener('drop', drop);
  return () => {
    window.removeEventListener('dragover', over);
    window.removeEventListener('drop', drop);
  };
}
