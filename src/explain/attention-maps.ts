/**
 * Attention-based scores from attention matrices, as plain matrix arithmetic so that they
 * can be checked on hand-made matrices. A layer's attention is `heads` row-stochastic T×T matrices,
 * flattened row-major as [heads, T, T].
 */

export type Matrix = Float64Array; // T×T row-major

function identity(T: number): Matrix {
  const m = new Float64Array(T * T);
  for (let i = 0; i < T; i++) m[i * T + i] = 1;
  return m;
}

/** mean over heads of f(P_h) (element-wise). */
export function meanHeads(
  P: ArrayLike<number>,
  heads: number,
  T: number,
  f: (p: number, i: number) => number = (p) => p,
): Matrix {
  const out = new Float64Array(T * T);
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < T * T; i++) out[i]! += f(P[h * T * T + i]!, h * T * T + i) / heads;
  return out;
}

/** Â = rownorm(A + I). */
export function withResidual(A: Matrix, T: number): Matrix {
  const out = new Float64Array(T * T);
  for (let i = 0; i < T; i++) {
    let s = 0;
    for (let j = 0; j < T; j++) {
      const v = A[i * T + j]! + (i === j ? 1 : 0);
      out[i * T + j] = v;
      s += v;
    }
    for (let j = 0; j < T; j++) out[i * T + j]! /= s;
  }
  return out;
}

/** C = A · B for T×T matrices. */
export function matmul(A: Matrix, B: Matrix, T: number): Matrix {
  const C = new Float64Array(T * T);
  for (let i = 0; i < T; i++)
    for (let k = 0; k < T; k++) {
      const a = A[i * T + k]!;
      if (a === 0) continue;
      for (let j = 0; j < T; j++) C[i * T + j]! += a * B[k * T + j]!;
    }
  return C;
}

/** Column sums: R_t = Σ_i M_it. */
export function columnSums(M: Matrix, T: number): number[] {
  const r = new Array<number>(T).fill(0);
  for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) r[j]! += M[i * T + j]!;
  return r;
}

/** Rollout: J = Â_L ⋯ Â_1 with Â_l = rownorm(A_l + I), layers given first to last. */
export function rolloutMatrix(layers: Matrix[], T: number): Matrix {
  let J = identity(T);
  for (const A of layers) J = matmul(withResidual(A, T), J, T);
  return J;
}

/** Row `row` of a T×T matrix. */
export function rowOf(M: Matrix, T: number, row: number): number[] {
  return Array.from(M.subarray(row * T, (row + 1) * T));
}

/**
 * `attention-last`: per head the column sums of the last layer's P, averaged over heads — or, given
 * `row` (a decoder's explained position), that row of the head-averaged P.
 */
export function attentionLast(P: ArrayLike<number>, heads: number, T: number, row?: number): number[] {
  const A = meanHeads(P, heads, T);
  return row === undefined ? columnSums(A, T) : rowOf(A, T, row);
}

/** `rollout` (Abnar & Zuidema 2020): R_t = Σ_i J_it, or J_{row,t} given `row`. */
export function rollout(layers: ArrayLike<number>[], heads: number, T: number, row?: number): number[] {
  const J = rolloutMatrix(
    layers.map((P) => meanHeads(P, heads, T)),
    T,
  );
  return row === undefined ? columnSums(J, T) : rowOf(J, T, row);
}

/** Ā_l = mean_heads(max(∇P ⊙ P, 0)). */
export function gradWeighted(
  P: ArrayLike<number>,
  grad: ArrayLike<number>,
  heads: number,
  T: number,
): Matrix {
  return meanHeads(P, heads, T, (p, i) => Math.max(grad[i]! * p, 0));
}

/**
 * `gae` (Chefer et al. 2021): R ← I; R ← R + Ā_l·R per layer; scores = row of [CLS] with its own entry
 * zeroed — or, given `row` (a decoder's explained position), that row with nothing zeroed.
 */
export function gae(
  layers: ArrayLike<number>[],
  grads: ArrayLike<number>[],
  heads: number,
  T: number,
  row?: number,
): number[] {
  let R = identity(T);
  layers.forEach((P, l) => {
    const A = gradWeighted(P, grads[l]!, heads, T);
    const AR = matmul(A, R, T);
    for (let i = 0; i < T * T; i++) AR[i]! += R[i]!;
    R = AR;
  });
  if (row !== undefined) return rowOf(R, T, row);
  const scores = Array.from(R.subarray(0, T));
  scores[0] = 0;
  return scores;
}

/** `grad-rollout`: the rollout of the Ā_l, with J_00 = 0, R_t = Σ_i J_it (given `row`: J_{row,t}, nothing zeroed). */
export function gradRollout(
  layers: ArrayLike<number>[],
  grads: ArrayLike<number>[],
  heads: number,
  T: number,
  row?: number,
): number[] {
  const J = rolloutMatrix(
    layers.map((P, l) => gradWeighted(P, grads[l]!, heads, T)),
    T,
  );
  if (row !== undefined) return rowOf(J, T, row);
  J[0] = 0;
  return columnSums(J, T);
}
