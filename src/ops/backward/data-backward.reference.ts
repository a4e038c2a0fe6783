/**
 * Plain-TS references (f64 accumulation) of the data-movement backward ops, each written from the
 * forward's definition (every dY element goes back to where the forward took it from) rather than from
 * the kernels' gather formulas or the op's axis merging.
 */
import { nearestSourceIndex } from '../small-ops.reference';

/** dX of F.interpolate(x, size=(outH, outW), mode='nearest'): each dY element added to its source. */
export function upsampleNearestBackwardReference(
  dY: ArrayLike<number>,
  dyShape: readonly [number, number, number, number],
  h: number,
  w: number,
): Float32Array {
  const [n, c, oh, ow] = dyShape;
  const acc = new Float64Array(n * c * h * w);
  for (let p = 0; p < n * c; p++)
    for (let oy = 0; oy < oh; oy++) {
      const sy = nearestSourceIndex(oy, h, oh);
      for (let ox = 0; ox < ow; ox++) {
        acc[(p * h + sy) * w + nearestSourceIndex(ox, w, ow)]! += dY[(p * oh + oy) * ow + ox]!;
      }
    }
  return Float32Array.from(acc);
}

/** Plain-TS reference of split for the kernel tests: torch.split(x, sizes, dim=axis) on host data. */
export function splitReference(x: ArrayLike<number>, shape: readonly number[], sizes: readonly number[], axis: number): Float32Array[] {
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const total = shape[axis]!;
  let start = 0;
  return sizes.map((size) => {
    const piece = new Float32Array(outer * size * inner);
    for (let o = 0; o < outer; o++)
      for (let a = 0; a < size; a++)
        for (let i = 0; i < inner; i++) piece[(o * size + a) * inner + i] = x[(o * total + start + a) * inner + i]!;
    start += size;
    return piece;
  });
}

/** Sum of dY (shape `from`) over the axes that numpy broadcasting expanded from `shape`. */
export function reduceToShapeReference(dY: ArrayLike<number>, from: readonly number[], shape: readonly number[]): Float32Array {
  const target = [...new Array<number>(from.length - shape.length).fill(1), ...shape];
  const acc = new Float64Array(target.reduce((a, b) => a * b, 1));
  const idx = new Array<number>(from.length).fill(0);
  for (let flat = 0; flat < dY.length; flat++) {
    let t = 0;
    for (let a = 0; a < from.length; a++) t = t * target[a]! + (target[a] === 1 ? 0 : idx[a]!);
    acc[t]! += dY[flat]!;
    for (let a = from.length - 1; a >= 0; a--) {
      if (++idx[a]! < from[a]!) break;
      idx[a] = 0;
    }
  }
  return Float32Array.from(acc);
}
