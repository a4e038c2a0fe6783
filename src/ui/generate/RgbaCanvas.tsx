/** Draws an RGBA8 image on a canvas at its own pixel size (CSS scales it to fit, keeping its aspect). */
import { useEffect, useRef } from 'react';
import type { RgbaImage } from '../../engine/protocol';

export function RgbaCanvas({ image, label, testId, pixelated = false }: { image: RgbaImage; label: string; testId?: string; pixelated?: boolean }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    if (!c) return;
    c.width = image.width;
    c.height = image.height;
    const g = c.getContext('2d');
    g?.putImageData(new ImageData(new Uint8ClampedArray(image.rgba), image.width, image.height), 0, 0);
  }, [image]);
  return <canvas ref={ref} className={`gen-canvas${pixelated ? ' is-pixelated' : ''}`} role="img" aria-label={label} data-testid={testId} style={{ aspectRatio: `${image.width} / ${image.height}` }} />;
}
