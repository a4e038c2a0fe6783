/** Plain-TS row scatter-adds in f64, for the kernel tests (the direct form the GPU gather inverts). */

/** out [rows, dim]: out[ids[p] − rowStart] += dX[p] for the positions whose id lies in the block. */
export function embeddingRowsBackwardReference(ids: ArrayLike<number>, dX: ArrayLike<number>, dim: number, rowStart: number, rows: number): Float32Array {
  const acc = new Float64Array(rows * dim);
  for (let p = 0; p < ids.length; p++) {
    const r = ids[p]! - rowStart;
    if (r < 0 || r >= rows) continue;
    for (let c = 0; c < dim; c++) acc[r * dim + c] = acc[r * dim + c]! + dX[p * dim + c]!;
  }
  return Float32Array.from(acc);
}

/** out [totalRows, dim]: zero, then out[rowIndex[r]] += dRows[r]. */
export function scatterRowsReference(dRows: ArrayLike<number>, dim: number, rowIndex: ArrayLike<number>, totalRows: number): Float32Array {
  const acc = new Float64Array(totalRows * dim);
  for (let r = 0; r < rowIndex.length; r++) {
    for (let c = 0; c < dim; c++) acc[rowIndex[r]! * dim + c] = acc[rowIndex[r]! * dim + c]! + dRows[r * dim + c]!;
  }
  return Float32Array.from(acc);
}
