/** Small hooks of the mask stage: the element's size, a gallery image as an <img>, the space key. */
import { useEffect, useState, type RefObject } from 'react';
import { getImage } from '../../storage/gallery/gallery-store';

export function useElementSize(ref: RefObject<HTMLElement | null>): { w: number; h: number } {
  const [size, setSize] = useState({ w: 0, h: 0 });
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setSize({ w: Math.floor(el.clientWidth), h: Math.floor(el.clientHeight) });
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, [ref]);
  return size;
}

export type ReferenceState = { status: 'none' } | { status: 'loading' } | { status: 'ready'; image: HTMLImageElement } | { status: 'missing' };

/** The gallery image `id` as a decoded <img> (its object URL is revoked when the id changes). */
export function useReferenceImage(id: string | undefined): ReferenceState {
  const [state, setState] = useState<ReferenceState>({ status: 'none' });
  useEffect(() => {
    if (!id) {
      setState({ status: 'none' });
      return;
    }
    let url: string | null = null;
    let live = true;
    setState({ status: 'loading' });
    void getImage(id)
      .then((r) => {
        if (!live) return;
        if (!r) return setState({ status: 'missing' });
        url = URL.createObjectURL(r.png);
        const img = new Image();
        img.onload = () => live && setState({ status: 'ready', image: img });
        img.onerror = () => live && setState({ status: 'missing' });
        img.src = url;
      })
      .catch(() => live && setState({ status: 'missing' }));
    return () => {
      live = false;
      if (url) URL.revokeObjectURL(url);
    };
  }, [id]);
  return state;
}

/** True while focus is in a text field (the editor's shortcuts then leave the keys alone). */
export function typingInField(e: KeyboardEvent): boolean {
  const t = e.target as HTMLElement | null;
  if (!t || !t.tagName) return false;
  if (t.isContentEditable || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT') return true;
  return t.tagName === 'INPUT' && !['range', 'checkbox', 'color', 'button', 'radio'].includes((t as HTMLInputElement).type);
}

/** Whether the space bar is held (space-drag pans the stage). */
export function useSpaceHeld(): boolean {
  const [held, setHeld] = useState(false);
  useEffect(() => {
    const down = (e: KeyboardEvent) => {
      if (e.code !== 'Space' || typingInField(e)) return;
      e.preventDefault();
      setHeld(true);
    };
    const up = (e: KeyboardEvent) => {
      if (e.code !== 'Space') return;
      // A focused button would take the space's keyup as a click.
      if (!typingInField(e)) e.preventDefault();
      setHeld(false);
    };
    const blur = () => setHeld(false);
    window.addEventListener('keydown', down);
    window.addEventListener('keyup', up);
    window.addEventListener('blur', blur);
    return () => {
      window.removeEventListener('keydown', down);
      window.removeEventListener('keyup', up);
      window.removeEventListener('blur', blur);
    };
  }, []);
  return held;
}
