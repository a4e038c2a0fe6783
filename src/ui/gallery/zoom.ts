/**
 * The full-size viewer's zoom: fixed steps (as image editors have) so + and − always land on round
 * values and 100% is always one of them; "fit" scales the image to the view, up or down, since a
 * 64×48 test image is as hard to see as a 2048² one is to take in whole.
 */
export const ZOOM_STEPS = [0.1, 0.125, 0.25, 1 / 3, 0.5, 2 / 3, 0.75, 1, 1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32] as const;
export const MIN_ZOOM = ZOOM_STEPS[0];
export const MAX_ZOOM = ZOOM_STEPS[ZOOM_STEPS.length - 1]!;

/** The next step above the current zoom (the last one stays). */
export function zoomIn(z: number): number {
  return ZOOM_STEPS.find((s) => s > z * 1.001) ?? MAX_ZOOM;
}

/** The next step below the current zoom (the first one stays). */
export function zoomOut(z: number): number {
  return [...ZOOM_STEPS].reverse().find((s) => s < z * 0.999) ?? MIN_ZOOM;
}

/** The zoom at which the whole image fits the view, within the zoom limits. */
export function fitZoom(image: { width: number; height: number }, view: { width: number; height: number }): number {
  if (image.width <= 0 || image.height <= 0 || view.width <= 0 || view.height <= 0) return 1;
  return Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, Math.min(view.width / image.width, view.height / image.height)));
}

/**
 * The scroll offset that keeps the image point under `pointer` (in view coordinates) in place when
 * the zoom goes from `from` to `to`: zooming with the wheel closes in on what the cursor is on.
 * `marginFrom` / `marginTo`: the space before the image (it is centred while smaller than the view).
 */
export function scrollKeepingPoint(scroll: number, pointer: number, from: number, to: number, marginFrom = 0, marginTo = 0): number {
  return Math.max(0, ((scroll + pointer - marginFrom) * to) / from + marginTo - pointer);
}

export const zoomLabel = (z: number): string => `${Math.round(z * 100)}%`;
