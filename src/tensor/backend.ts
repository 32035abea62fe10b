/**
 * The kernel interface: the hot loops of the engine (GEMM, softmax, layer norm, GELU, element-wise
 * arithmetic) go through a Backend so that a fast implementation (WebAssembly SIMD, threads) can
 * replace the plain TypeScript reference without touching the ops or their backward passes.
 *
 * Every kernel works on flat row-major arrays. Arrays are Float32Array in normal use; the `js`
 * backend also accepts Float64Array (used by the gradient checks) and other backends must fall back
 * to `js` for Float64 input (see `kernelsFor`).
 */
export type FloatArray = Float32Array | Float64Array;

export interface GemmArgs {
  /** C[m×n] (+)= op(A)[m×k] · op(B)[k×n], op = transpose when the flag is set; batched `batch` times. */
  m: number;
  n: number;
  k: number;
  a: FloatArray;
  b: FloatArray;
  c: FloatArray;
  /** A is stored [k, m] (so op(A) = Aᵀ). */
  transA: boolean;
  /** B is stored [n, k] (so op(B) = Bᵀ) — the PyTorch `[out, in]` weight layout. */
  transB: boolean;
  /** Add into C instead of overwriting it. */
  accumulate: boolean;
  /** Number of independent products; element offsets between consecutive operands. */
  batch: number;
  strideA: number;
  strideB: number;
  strideC: number;
  /** Element offsets of the first operand (default 0). */
  offsetA?: number;
  offsetB?: number;
  offsetC?: number;
  /**
   * Added to every row of each product (length n) when C is overwritten (`accumulate` false): the
   * linear layer's bias, fused so that C need not be filled first. Ignored when accumulating.
   */
  bias?: FloatArray | null;
}

export interface LayerNormArgs {
  x: FloatArray;
  /** Output: (x − mean)/denominator · weight + bias. */
  out: FloatArray;
  rows: number;
  cols: number;
  eps: number;
  /**
   * "bert": denominator = √(biased variance + eps) (PyTorch LayerNorm).
   * "paper": denominator = unbiased std (N−1) + eps (the xai-transformer of Ali et al.).
   */
  form: "bert" | "paper";
  weight: FloatArray | null;
  bias: FloatArray | null;
  /** Per-row outputs kept for the backward pass. */
  mean: FloatArray;
  denom: FloatArray;
}

export interface LayerNormBackwardArgs {
  /** The forward input and the per-row mean and denominator it kept. */
  x: FloatArray;
  mean: FloatArray;
  denom: FloatArray;
  /** Gradient w.r.t. the output; gx receives the gradient w.r.t. x (overwritten). */
  gy: FloatArray;
  gx: FloatArray;
  rows: number;
  cols: number;
  eps: number;
  form: "bert" | "paper";
  weight: FloatArray | null;
  /** The denominator held constant (the LN-rule): no gradient through it. */
  constantStd: boolean;
  /** The mean held constant too. */
  constantMean: boolean;
}

export interface RmsNormArgs {
  x: FloatArray;
  /** Output: x · r · weight with r = 1/√(mean(x²) + eps) per row. */
  out: FloatArray;
  rows: number;
  cols: number;
  eps: number;
  weight: FloatArray | null;
  /** Receives r per row (float64, kept for the backward pass). */
  scale: Float64Array;
}

export interface RmsNormBackwardArgs {
  x: FloatArray;
  gy: FloatArray;
  /** Receives the gradient w.r.t. x (overwritten). */
  gx: FloatArray;
  rows: number;
  cols: number;
  weight: FloatArray | null;
  /** r per row from the forward pass. */
  scale: Float64Array;
  /** r held constant (the LN-rule for RMSNorm): no gradient through it. */
  constantScale: boolean;
}

export type GeluForm = "erf" | "tanh";

export interface Backend {
  readonly name: string;
  gemm(args: GemmArgs): void;
  /** Row-wise softmax over the last axis: out = exp(x − max)/Σ exp(x − max). */
  softmax(x: FloatArray, out: FloatArray, rows: number, cols: number): void;
  /** gx = p ⊙ (gp − Σ_j gp_j p_j), row-wise. */
  softmaxBackward(p: FloatArray, gp: FloatArray, gx: FloatArray, rows: number, cols: number): void;
  layerNorm(args: LayerNormArgs): void;
  /** The input gradient of layerNorm (weight and bias gradients are the caller's). */
  layerNormBackward(args: LayerNormBackwardArgs): void;
  rmsNorm(args: RmsNormArgs): void;
  /** The input gradient of rmsNorm (the weight gradient is the caller's). */
  rmsNormBackward(args: RmsNormBackwardArgs): void;
  gelu(x: FloatArray, out: FloatArray, form: GeluForm): void;
  /** gx = g ⊙ gelu′(x). */
  geluBackward(x: FloatArray, g: FloatArray, gx: FloatArray, form: GeluForm): void;
  /** out = a + b (same length). */
  add(a: FloatArray, b: FloatArray, out: FloatArray): void;
  /** out = a ⊙ b (same length). */
  mul(a: FloatArray, b: FloatArray, out: FloatArray): void;
  /** y += alpha · x (same length). */
  axpy(alpha: number, x: FloatArray, y: FloatArray): void;
  /**
   * The identity rule's backward for y = act(z): gz = g ⊙ y/z, and g · atZero where z = 0 (same
   * lengths).
   */
  identityBackward(z: FloatArray, y: FloatArray, g: FloatArray, gz: FloatArray, atZero: number): void;
  /**
   * A zeroed array of n floats that the kernels read in place (no copy per call): for long-lived
   * tensors such as model weights. Null when the backend has no such memory or it is full; absent on
   * backends that read ordinary arrays directly.
   */
  allocate?(n: number): Float32Array | null;
  /** Release workers and memory; the backend may not be used afterwards. */
  dispose?(): void;
}

let reference: Backend | null = null;
let active: Backend | null = null;

/** Install the reference backend (done once by the js backend module). */
export function registerReferenceBackend(b: Backend): void {
  reference = b;
  if (!active) active = b;
}

/** The backend that kernels run on. */
export function getBackend(): Backend {
  if (!active) throw new Error("no tensor backend registered");
  return active;
}

export function setBackend(b: Backend): void {
  active = b;
}

/** The reference backend (plain TypeScript). */
export function referenceBackend(): Backend {
  if (!reference) throw new Error("no reference backend registered");
  return reference;
}

/** The backend for these arrays: Float64 data always runs on the reference backend. */
export function kernelsFor(...arrays: (FloatArray | null)[]): Backend {
  for (const a of arrays) if (a instanceof Float64Array) return referenceBackend();
  return getBackend();
}
