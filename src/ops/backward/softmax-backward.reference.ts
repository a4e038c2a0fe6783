/** Plain-TS softmax backward over the last axis in f64, for the kernel tests: dX = y ∘ (dY − Σ dY ∘ y). */

export function softmaxBackwardReference(y: ArrayLike<number>, dY: ArrayLike<number>, cols: number): Float32Array {
  const out = new Float32Array(y.length);
  for (let base = 0; base < y.length; base += cols) {
    let dot = 0;
    for (let j = 0; j < cols; j++) dot += dY[base + j]! * y[base + j]!;
    for (let j = 0; j < cols; j++) out[base + j] = y[base + j]! * (dY[base + j]! - dot);
  }
  return out;
}
