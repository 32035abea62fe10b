/**
 * Word vectors from unlabeled text, to initialise a model's word embeddings: positive pointwise
 * mutual information of windowed co-occurrences (context distribution smoothed with α = 0.75),
 * factorised by a randomised truncated SVD (Halko, Martinsson & Tropp 2011); vectors = U·√Σ
 * (Levy, Goldberg & Dagan 2015). Browser-safe; a few seconds to a minute for millions of tokens.
 */
import { Random } from "../tensor/index.js";

export interface EmbeddingOptions {
  dim: number;
  /** Co-occurrence window on each side (default 5), counts weighted by 1/distance. */
  window?: number;
  seed?: number;
  /** Power iterations of the randomised SVD (default 2). */
  powerIterations?: number;
  /** Ids that get no vector (special tokens). */
  skip?: ReadonlySet<number>;
}

/** An open-addressing hash table from (row, col) pairs to weights. */
class PairCounts {
  keys: Int32Array;
  values: Float32Array;
  size = 0;

  constructor(capacityLog2: number) {
    this.keys = new Int32Array(1 << capacityLog2).fill(-1);
    this.values = new Float32Array(1 << capacityLog2);
  }

  add(key: number, w: number): void {
    if (this.size * 2 > this.keys.length) this.grow();
    const mask = this.keys.length - 1;
    let h = Math.imul(key, 0x9e3779b1) >>> 0;
    for (;;) {
      const slot = h & mask;
      const k = this.keys[slot]!;
      if (k === key) {
        this.values[slot]! += w;
        return;
      }
      if (k === -1) {
        this.keys[slot] = key;
        this.values[slot] = w;
        this.size++;
        return;
      }
      h++;
    }
  }

  private grow(): void {
    const { keys, values } = this;
    this.keys = new Int32Array(keys.length * 2).fill(-1);
    this.values = new Float32Array(keys.length * 2);
    this.size = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== -1) this.add(keys[i]!, values[i]!);
  }
}

/** A sparse matrix in compressed-row form. */
interface Csr {
  rows: number;
  ptr: Int32Array;
  col: Int32Array;
  val: Float32Array;
}

function ppmiMatrix(
  seqs: Iterable<readonly number[]>,
  V: number,
  window: number,
  skip: ReadonlySet<number>,
): Csr {
  const counts = new PairCounts(22);
  for (const s of seqs) {
    for (let i = 0; i < s.length; i++) {
      const a = s[i]!;
      if (skip.has(a)) continue;
      for (let d = 1; d <= window && i + d < s.length; d++) {
        const b = s[i + d]!;
        if (skip.has(b)) continue;
        counts.add(a * V + b, 1 / d);
        counts.add(b * V + a, 1 / d);
      }
    }
  }
  const rowSum = new Float64Array(V);
  let total = 0;
  for (let i = 0; i < counts.keys.length; i++) {
    const k = counts.keys[i]!;
    if (k === -1) continue;
    rowSum[Math.floor(k / V)]! += counts.values[i]!;
    total += counts.values[i]!;
  }
  // P_α(b) = r_b^α / Σ r^α
  let smoothTotal = 0;
  for (let b = 0; b < V; b++) smoothTotal += Math.pow(rowSum[b]!, 0.75);
  const perRow = new Int32Array(V + 1);
  const entries: [number, number, number][] = [];
  for (let i = 0; i < counts.keys.length; i++) {
    const k = counts.keys[i]!;
    if (k === -1) continue;
    const a = Math.floor(k / V);
    const b = k - a * V;
    const pmi = Math.log(
      counts.values[i]! / total / ((rowSum[a]! / total) * (Math.pow(rowSum[b]!, 0.75) / smoothTotal)),
    );
    if (pmi > 0) {
      entries.push([a, b, pmi]);
      perRow[a + 1]!++;
    }
  }
  for (let a = 0; a < V; a++) perRow[a + 1]! += perRow[a]!;
  const fill = perRow.slice(0, V);
  const col = new Int32Array(entries.length);
  const val = new Float32Array(entries.length);
  for (const [a, b, v] of entries) {
    const at = fill[a]!++;
    col[at] = b;
    val[at] = v;
  }
  return { rows: V, ptr: perRow, col, val };
}

/** Y = M·X for sparse M [V×V] and dense X [V×k] (row-major). */
function spmm(M: Csr, X: Float64Array, k: number): Float64Array {
  const Y = new Float64Array(M.rows * k);
  for (let a = 0; a < M.rows; a++)
    for (let e = M.ptr[a]!; e < M.ptr[a + 1]!; e++) {
      const v = M.val[e]!;
      const xo = M.col[e]! * k;
      const yo = a * k;
      for (let j = 0; j < k; j++) Y[yo + j]! += v * X[xo + j]!;
    }
  return Y;
}

/** Y = Mᵀ·X. */
function spmmT(M: Csr, X: Float64Array, k: number): Float64Array {
  const Y = new Float64Array(M.rows * k);
  for (let a = 0; a < M.rows; a++)
    for (let e = M.ptr[a]!; e < M.ptr[a + 1]!; e++) {
      const v = M.val[e]!;
      const yo = M.col[e]! * k;
      const xo = a * k;
      for (let j = 0; j < k; j++) Y[yo + j]! += v * X[xo + j]!;
    }
  return Y;
}

/** Orthonormalise the k columns of Y [n×k] in place (modified Gram–Schmidt, twice for stability). */
function orthonormalise(Y: Float64Array, n: number, k: number): void {
  for (let pass = 0; pass < 2; pass++)
    for (let j = 0; j < k; j++) {
      for (let i = 0; i < j; i++) {
        let dot = 0;
        for (let r = 0; r < n; r++) dot += Y[r * k + i]! * Y[r * k + j]!;
        for (let r = 0; r < n; r++) Y[r * k + j]! -= dot * Y[r * k + i]!;
      }
      let norm = 0;
      for (let r = 0; r < n; r++) norm += Y[r * k + j]! ** 2;
      norm = Math.sqrt(norm) || 1;
      for (let r = 0; r < n; r++) Y[r * k + j]! /= norm;
    }
}

/** Eigen-decomposition of a symmetric matrix A [n×n] by cyclic Jacobi rotations: values and vectors (columns). */
export function symmetricEigen(A: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(A);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i]!;
  return { values, vectors: v };
}

/**
 * Vectors [V × dim] (row-major) for token-id sequences; rows of tokens never seen with a neighbour
 * (and the `skip` ids) are zero — callers keep their random initialisation there.
 */
export function ppmiSvdEmbeddings(
  seqs: Iterable<readonly number[]>,
  V: number,
  opts: EmbeddingOptions,
): Float32Array {
  const k = opts.dim;
  const l = k + 16;
  const M = ppmiMatrix(seqs, V, opts.window ?? 5, opts.skip ?? new Set());
  const rng = new Random(opts.seed ?? 0);
  let Y: Float64Array = new Float64Array(V * l);
  for (let i = 0; i < Y.length; i++) Y[i] = rng.normal();
  Y = spmm(M, Y, l);
  orthonormalise(Y, V, l);
  for (let it = 0; it < (opts.powerIterations ?? 2); it++) {
    Y = spmmT(M, Y, l);
    orthonormalise(Y, V, l);
    Y = spmm(M, Y, l);
    orthonormalise(Y, V, l);
  }
  // B = Qᵀ M, stored transposed as Bt = Mᵀ Q [V×l]; C = B Bᵀ = Btᵀ Bt [l×l]
  const Bt = spmmT(M, Y, l);
  const C = new Float64Array(l * l);
  for (let r = 0; r < V; r++)
    for (let i = 0; i < l; i++) {
      const bi = Bt[r * l + i]!;
      if (bi === 0) continue;
      for (let j = i; j < l; j++) C[i * l + j]! += bi * Bt[r * l + j]!;
    }
  for (let i = 0; i < l; i++) for (let j = 0; j < i; j++) C[i * l + j] = C[j * l + i]!;
  const { values, vectors } = symmetricEigen(C, l);
  const order = Array.from({ length: l }, (_, i) => i).sort((a, b) => values[b]! - values[a]!);
  // U = Q·U_C; vectors = U_k · Σ_k^{1/2} with Σ = √eigenvalues
  const out = new Float32Array(V * k);
  for (let c = 0; c < k; c++) {
    const e = order[c]!;
    const scale = Math.pow(Math.max(values[e]!, 0), 0.25);
    for (let r = 0; r < V; r++) {
      let s = 0;
      for (let i = 0; i < l; i++) s += Y[r * l + i]! * vectors[i * l + e]!;
      out[r * k + c] = s * scale;
    }
  }
  return out;
}
