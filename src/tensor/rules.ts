/**
 * LRP rules as properties of the backward pass. Each primitive leaves the forward value
 * unchanged and alters only the gradient, so running a model under a rule set and taking
 * Gradient × Input at the embeddings yields the LRP relevance:
 *
 * - `detach`   — stop gradient: the value becomes a constant (AH-rule on attention probabilities,
 *                LN-rule on LayerNorm's std).
 * - `identityRule` — an element-wise activation passes relevance through unchanged: backward
 *                multiplies by act(z)/z instead of act′(z).
 * - `uniform`  — divide the gradient by k (AttnLRP's uniform rule for a product of k operands).
 * - `gammaLinear` — LRP-γ on a linear layer: backward through W + γ·W⁺, b + γ·b⁺, rescaled by z/z⁺.
 */
import { allocate, noGrad, result, shapeString, Tensor, addGrad } from "./tensor.js";
import { XaitError } from "../errors.js";
import { kernelsFor } from "./backend.js";

/** Stop gradient: same values, no gradient flows back. */
export function detach(x: Tensor): Tensor {
  return x.detach();
}

/**
 * The identity rule for an element-wise activation y = act(z): backward g ↦ g · act(z)/z, so that
 * z ⊙ ∂f/∂z = y ⊙ ∂f/∂y (relevance passes unchanged). At z = 0 the ratio is its limit `ratioAtZero`
 * (act′(0) for act(0) = 0: ½ for GELU, 1 for tanh, 0 for ReLU).
 */
export function identityRule(z: Tensor, act: (t: Tensor) => Tensor, ratioAtZero: number): Tensor {
  const y = noGrad(() => act(z));
  return result(y.data, z.shape, [z], (g) => {
    const gz = allocate(z.dtype, g.length);
    kernelsFor(z.data, y.data, g, gz).identityBackward(z.data, y.data, g, gz, ratioAtZero);
    addGrad(z, gz);
  });
}

/** Identity forward; backward divides the gradient by k. */
export function uniform(x: Tensor, k: number): Tensor {
  return result(x.data, x.shape, [x], (g) => {
    const gx = allocate(x.dtype, g.length);
    for (let i = 0; i < g.length; i++) gx[i] = g[i]! / k;
    addGrad(x, gx);
  });
}

/** Guard for the LRP-γ denominator: |z⁺| below this is pushed away from 0 (keeping its sign). */
export const GAMMA_STABILIZER = 1e-6;

/**
 * LRP-γ on y = x·Wᵀ + b (W stored [out, in]). Forward: unchanged. Backward to x:
 * g ↦ (g ⊙ z / z⁺) · (W + γ·max(W, 0)) where z⁺ = x·(W + γW⁺)ᵀ + (b + γb⁺).
 * No gradient reaches W or b (an explanation needs none).
 */
export function gammaLinear(x: Tensor, weight: Tensor, bias: Tensor | null, gamma: number): Tensor {
  if (weight.rank !== 2 || x.dim(-1) !== weight.dim(1))
    throw new XaitError(
      `gammaLinear: input ${shapeString(x.shape)} does not fit weight ${shapeString(weight.shape)}`,
    );
  const [outF, inF] = weight.shape as [number, number];
  const rows = x.size / inF;
  const wPlus = allocate(weight.dtype, weight.size);
  for (let i = 0; i < wPlus.length; i++) {
    const w = weight.data[i]!;
    wPlus[i] = w + gamma * Math.max(w, 0);
  }
  const project = (w: Float32Array | Float64Array, b: Float32Array | Float64Array | null) => {
    const out = allocate(x.dtype, rows * outF);
    if (b) for (let r = 0; r < rows; r++) out.set(b, r * outF);
    kernelsFor(x.data, w, out).gemm({
      m: rows,
      n: outF,
      k: inF,
      a: x.data,
      b: w,
      c: out,
      transA: false,
      transB: true,
      accumulate: b !== null,
      batch: 1,
      strideA: 0,
      strideB: 0,
      strideC: 0,
    });
    return out;
  };
  const z = project(weight.data, bias?.data ?? null);
  let bPlus: Float32Array | Float64Array | null = null;
  if (bias) {
    bPlus = allocate(bias.dtype, bias.size);
    for (let i = 0; i < bPlus.length; i++) bPlus[i] = bias.data[i]! + gamma * Math.max(bias.data[i]!, 0);
  }
  return result(z, [...x.shape.slice(0, -1), outF], [x], (g) => {
    const zp = project(wPlus, bPlus);
    const s = allocate(x.dtype, g.length);
    for (let i = 0; i < g.length; i++) {
      let d = zp[i]!;
      if (Math.abs(d) < GAMMA_STABILIZER) d = d < 0 ? -GAMMA_STABILIZER : GAMMA_STABILIZER;
      s[i] = (g[i]! * z[i]!) / d;
    }
    const gx = allocate(x.dtype, x.size);
    kernelsFor(s, wPlus, gx).gemm({
      m: rows,
      n: inF,
      k: outF,
      a: s,
      b: wPlus,
      c: gx,
      transA: false,
      transB: false,
      accumulate: false,
      batch: 1,
      strideA: 0,
      strideB: 0,
      strideC: 0,
    });
    addGrad(x, gx);
  });
}
