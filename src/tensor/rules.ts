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
import { record, type GraphEmitter, type OpEmitter, type Value } from "./trace.js";

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
  const out = result(y.data, z.shape, [z], (g) => {
    const gz = allocate(z.dtype, g.length);
    kernelsFor(z.data, y.data, g, gz).identityBackward(z.data, y.data, g, gz, ratioAtZero);
    addGrad(z, gz);
  });
  return record("identity-rule", [z, y], out, { ratioAtZero });
}

/** The identity rule in ONNX: forward act(z) (the traced activation), backward g ⊙ act(z)/z (safe at 0). */
export const identityRuleEmitter: OpEmitter = {
  forward: (_e, [, y]) => y!,
  backward(e, g, [z, y], _out, op) {
    const zero = e.floats([0]);
    const isZero = e.node("Equal", [z!, zero]);
    const safeZ = e.node("Where", [isZero, e.floats([1]), z!]);
    const ratio = e.node("Where", [
      isZero,
      e.floats([op.attrs["ratioAtZero"] as number]),
      e.node("Div", [y!, safeZ]),
    ]);
    return [e.node("Mul", [g, ratio]), null];
  },
};

/** Identity forward; backward divides the gradient by k. */
export function uniform(x: Tensor, k: number): Tensor {
  const y = result(x.data, x.shape, [x], (g) => {
    const gx = allocate(x.dtype, g.length);
    for (let i = 0; i < g.length; i++) gx[i] = g[i]! / k;
    addGrad(x, gx);
  });
  return record("uniform", [x], y, { k });
}

/** The uniform rule in ONNX: forward the identity, backward g / k. */
export const uniformEmitter: OpEmitter = {
  forward: (_e, [x]) => x!,
  backward: (e, g, _in, _out, op) => [e.node("Div", [g, e.floats([op.attrs["k"] as number])])],
};

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
  const y = result(z, [...x.shape.slice(0, -1), outF], [x], (g) => {
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
  return record("gamma-linear", [x], y, { weight, bias, gamma });
}

const gammaConstants = new WeakMap<object, { e: GraphEmitter; c: ReturnType<typeof makeGammaWeights> }>();

/** W + γ·max(W, 0) and b + γ·max(b, 0) of a traced LRP-γ op, as constants (made once per graph). */
function gammaWeights(e: GraphEmitter, attrs: Record<string, unknown>) {
  const have = gammaConstants.get(attrs);
  if (have && have.e === e) return have.c;
  const c = makeGammaWeights(
    e,
    attrs["weight"] as Tensor,
    attrs["bias"] as Tensor | null,
    attrs["gamma"] as number,
  );
  gammaConstants.set(attrs, { e, c });
  return c;
}

function makeGammaWeights(e: GraphEmitter, weight: Tensor, bias: Tensor | null, gamma: number) {
  const [outF, inF] = weight.shape as [number, number];
  const wPlus = new Float32Array(weight.size);
  const wPlusT = new Float32Array(weight.size);
  for (let o = 0; o < outF; o++)
    for (let i = 0; i < inF; i++) {
      const w = weight.data[o * inF + i]!;
      const v = w + gamma * Math.max(w, 0);
      wPlus[o * inF + i] = v;
      wPlusT[i * outF + o] = v;
    }
  const bPlus = bias ? Float32Array.from(bias.data, (b) => b + gamma * Math.max(b, 0)) : null;
  return {
    wPlus: e.floats(wPlus, [outF, inF]),
    wPlusT: e.floats(wPlusT, [inF, outF]),
    bPlus: bPlus ? e.floats(bPlus, [outF]) : null,
    wT: e.floats(transposeOf(weight), [inF, outF]),
    b: bias ? e.floats(bias.data, [outF]) : null,
  };
}

function transposeOf(w: Tensor): Float32Array {
  const [outF, inF] = w.shape as [number, number];
  const t = new Float32Array(w.size);
  for (let o = 0; o < outF; o++) for (let i = 0; i < inF; i++) t[i * outF + o] = w.data[o * inF + i]!;
  return t;
}

function gammaProject(e: GraphEmitter, x: Value, wT: Value, b: Value | null): Value {
  const y = e.node("MatMul", [x, wT]);
  return b ? e.node("Add", [y, b]) : y;
}

/**
 * LRP-γ in ONNX: forward x·Wᵀ + b; backward (g ⊙ z / z⁺)·(W + γW⁺) with z⁺ = x·(W + γW⁺)ᵀ + b + γb⁺,
 * |z⁺| pushed to at least GAMMA_STABILIZER (keeping its sign).
 */
export const gammaLinearEmitter: OpEmitter = {
  forward(e, [x], op) {
    const c = gammaWeights(e, op.attrs);
    return gammaProject(e, x!, c.wT, c.b);
  },
  backward(e, g, [x], z, op) {
    const c = gammaWeights(e, op.attrs);
    const zp = gammaProject(e, x!, c.wPlusT, c.bPlus);
    const small = e.node("Less", [e.node("Abs", [zp]), e.floats([GAMMA_STABILIZER])]);
    const signed = e.node("Where", [
      e.node("Less", [zp, e.floats([0])]),
      e.floats([-GAMMA_STABILIZER]),
      e.floats([GAMMA_STABILIZER]),
    ]);
    const d = e.node("Where", [small, signed, zp]);
    const s = e.node("Div", [e.node("Mul", [g, z]), d]);
    return [e.node("MatMul", [s, c.wPlus])];
  },
};
