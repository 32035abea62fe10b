/** Neural-network ops: softmax with an additive mask, both LayerNorm forms, dropout, cross-entropy. */
import { kernelsFor } from "../backend.js";
import { XaitError } from "../../errors.js";
import type { Random } from "../random.js";
import { addGrad, allocate, result, shapeString, Tensor } from "../tensor.js";
import { record, type GraphEmitter, type OpEmitter, type Value } from "../trace.js";
import { add } from "./elementwise.js";

export interface SoftmaxOptions {
  /** Added to the scores before the softmax (broadcast; e.g. 0 for tokens, −1e9 or −∞ for padding). Never differentiated. */
  mask?: Tensor | null;
  /**
   * Treat the probabilities as constants in the backward pass (no gradient reaches the scores):
   * the AH-rule of Ali et al. — attention probabilities held constant.
   */
  constant?: boolean;
}

/** Softmax over the last axis. */
export function softmax(x: Tensor, opts: SoftmaxOptions = {}): Tensor {
  const scores = opts.mask ? add(x, opts.mask.detach()) : x;
  const cols = x.dim(-1);
  const rows = scores.size / cols;
  const out = allocate(scores.dtype, scores.size);
  kernelsFor(scores.data, out).softmax(scores.data, out, rows, cols);
  if (opts.constant) return record("softmax", [scores], new Tensor(out, scores.shape));
  const y = result(out, scores.shape, [scores], (g) => {
    const gx = allocate(scores.dtype, g.length);
    kernelsFor(out, g, gx).softmaxBackward(out, g, gx, rows, cols);
    addGrad(scores, gx);
  });
  return record("softmax", [scores], y);
}

/** Softmax over the last axis; backward p ⊙ (g − Σ_j g_j p_j). (Held constant: no backward is reached.) */
export const softmaxEmitter: OpEmitter = {
  forward: (e, [x]) => e.node("Softmax", [x!], { axis: -1 }),
  backward(e, g, _in, p) {
    const dot = e.node("ReduceSum", [e.node("Mul", [g, p]), e.ints([-1])], { keepdims: 1 });
    return [e.node("Mul", [p, e.node("Sub", [g, dot])])];
  },
};

export interface LayerNormOptions {
  eps: number;
  /** "bert": (x−μ)/√(var+eps) with biased variance; "paper": (x−μ)/(std+eps) with the unbiased std. */
  form: "bert" | "paper";
  /** Hold the normalising std constant in the backward pass — the LN-rule of Ali et al. */
  constantStd?: boolean;
  /** Hold the mean constant too (not used by any method of the paper: it breaks conservation). */
  constantMean?: boolean;
}

/** LayerNorm over the last axis, optionally affine: (x − μ)/σ′ · weight + bias. */
export function layerNorm(
  x: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
  opts: LayerNormOptions,
): Tensor {
  const cols = x.dim(-1);
  for (const [name, p] of [
    ["weight", weight],
    ["bias", bias],
  ] as const)
    if (p && p.size !== cols)
      throw new XaitError(
        `layerNorm: ${name} ${shapeString(p.shape)} does not fit input ${shapeString(x.shape)}`,
      );
  const rows = x.size / cols;
  const out = allocate(x.dtype, x.size);
  const mean = allocate(x.dtype, rows);
  const denom = allocate(x.dtype, rows);
  kernelsFor(x.data, out).layerNorm({
    x: x.data,
    out,
    rows,
    cols,
    eps: opts.eps,
    form: opts.form,
    weight: weight?.data ?? null,
    bias: bias?.data ?? null,
    mean,
    denom,
  });
  const parents = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  const y = result(out, x.shape, parents, (gy) => {
    if (x.requiresGrad) {
      const gx = allocate(x.dtype, x.size);
      kernelsFor(x.data, gy, gx, weight?.data ?? null).layerNormBackward({
        x: x.data,
        mean,
        denom,
        gy,
        gx,
        rows,
        cols,
        eps: opts.eps,
        form: opts.form,
        weight: weight?.data ?? null,
        constantStd: opts.constantStd ?? false,
        constantMean: opts.constantMean ?? false,
      });
      addGrad(x, gx);
    }
    if (weight?.requiresGrad) {
      const gw = allocate(weight.dtype, cols);
      for (let r = 0; r < rows; r++)
        for (let j = 0; j < cols; j++)
          gw[j]! += (gy[r * cols + j]! * (x.data[r * cols + j]! - mean[r]!)) / denom[r]!;
      addGrad(weight, gw);
    }
    if (bias?.requiresGrad) {
      const gb = allocate(bias.dtype, cols);
      for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) gb[j]! += gy[r * cols + j]!;
      addGrad(bias, gb);
    }
  });
  return record("layer-norm", parents, y, { ...opts, weight: weight !== null, bias: bias !== null });
}

/** The pieces of LayerNorm in ONNX: x − μ, the denominator σ′ and s (the std without eps). */
function layerNormParts(e: GraphEmitter, x: Value, op: { attrs: Record<string, unknown>; inputs: Tensor[] }) {
  const eps = op.attrs["eps"] as number;
  const cols = op.inputs[0]!.dim(-1);
  const last = e.ints([-1]);
  const xc = e.node("Sub", [x, e.node("ReduceMean", [x, last], { keepdims: 1 })]);
  const sq = e.node("Mul", [xc, xc]);
  if (op.attrs["form"] === "bert") {
    const d = e.node("Sqrt", [
      e.node("Add", [e.node("ReduceMean", [sq, last], { keepdims: 1 }), e.floats([eps])]),
    ]);
    return { xc, d, s: d, k: cols };
  }
  const k = Math.max(cols - 1, 1);
  const s = e.node("Sqrt", [
    e.node("Div", [e.node("ReduceSum", [sq, last], { keepdims: 1 }), e.floats([k])]),
  ]);
  return { xc, d: e.node("Add", [s, e.floats([eps])]), s, k };
}

/**
 * LayerNorm in ONNX: (x − μ)/σ′ · w + b. Backward to x with g′ = g ⊙ w:
 * (g′ − mean(g′))/σ′ − (x − μ)·Σ(g′ ⊙ (x − μ))/(k·s·σ′²), the last term dropped when the std is held
 * constant (the LN-rule), the mean term when the mean is.
 */
export const layerNormEmitter: OpEmitter = {
  forward(e, [x, ...rest], op) {
    const { xc, d } = layerNormParts(e, x!, op);
    let y = e.node("Div", [xc, d]);
    let i = 0;
    if (op.attrs["weight"]) y = e.node("Mul", [y, rest[i++]!]);
    if (op.attrs["bias"]) y = e.node("Add", [y, rest[i]!]);
    return y;
  },
  backward(e, g, [x, w], _y, op) {
    if (op.needsGrad.slice(1).some(Boolean)) throw new Error("layerNorm: weight gradients do not compile");
    const { xc, d, s, k } = layerNormParts(e, x!, op);
    const last = e.ints([-1]);
    const gw = op.attrs["weight"] ? e.node("Mul", [g, w!]) : g;
    const centred = op.attrs["constantMean"]
      ? gw
      : e.node("Sub", [gw, e.node("ReduceMean", [gw, last], { keepdims: 1 })]);
    let gx = e.node("Div", [centred, d]);
    if (!op.attrs["constantStd"]) {
      const dot = e.node("ReduceSum", [e.node("Mul", [gw, xc]), last], { keepdims: 1 });
      const denom = e.node("Mul", [e.node("Mul", [s, e.node("Mul", [d, d])]), e.floats([k])]);
      gx = e.node("Sub", [gx, e.node("Mul", [xc, e.node("Div", [dot, denom])])]);
    }
    return [gx];
  },
};

/** Inverted dropout: zero each value with probability p and scale the rest by 1/(1−p). Identity when p = 0. */
export function dropout(x: Tensor, p: number, rng: Random): Tensor {
  if (p <= 0) return x;
  if (p >= 1) throw new XaitError(`dropout: probability ${p} must be below 1`);
  const keep = 1 / (1 - p);
  const mask = allocate(x.dtype, x.size);
  rng.fillDropoutMask(mask, p, keep);
  const out = allocate(x.dtype, x.size);
  for (let i = 0; i < out.length; i++) out[i] = x.data[i]! * mask[i]!;
  return result(out, x.shape, [x], (g) => {
    const gx = allocate(x.dtype, g.length);
    for (let i = 0; i < g.length; i++) gx[i] = g[i]! * mask[i]!;
    addGrad(x, gx);
  });
}

/** log-softmax over the last axis. */
export function logSoftmax(x: Tensor): Tensor {
  const cols = x.dim(-1);
  const rows = x.size / cols;
  const out = allocate(x.dtype, x.size);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let m = -Infinity;
    for (let j = 0; j < cols; j++) m = Math.max(m, x.data[o + j]!);
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.exp(x.data[o + j]! - m);
    const lse = m + Math.log(s);
    for (let j = 0; j < cols; j++) out[o + j] = x.data[o + j]! - lse;
  }
  return result(out, x.shape, [x], (g) => {
    const gx = allocate(x.dtype, g.length);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let gs = 0;
      for (let j = 0; j < cols; j++) gs += g[o + j]!;
      for (let j = 0; j < cols; j++) gx[o + j] = g[o + j]! - Math.exp(out[o + j]!) * gs;
    }
    addGrad(x, gx);
  });
}

/** Mean cross-entropy of logits [N, C] against integer labels. */
export function crossEntropy(logits: Tensor, labels: ArrayLike<number>): Tensor {
  if (logits.rank !== 2 || logits.dim(0) !== labels.length)
    throw new XaitError(
      `crossEntropy: logits ${shapeString(logits.shape)} do not fit ${labels.length} labels`,
    );
  const [n, c] = logits.shape as [number, number];
  const lp = logSoftmax(logits);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y) || y < 0 || y >= c)
      throw new XaitError(`crossEntropy: label ${y} out of range for ${c} classes`);
    loss -= lp.data[i * c + y]!;
  }
  const out = allocate(logits.dtype, 1);
  out[0] = loss / n;
  return result(out, [], [lp], (g) => {
    const gl = allocate(logits.dtype, lp.size);
    for (let i = 0; i < n; i++) gl[i * c + labels[i]!] = -g[0]! / n;
    addGrad(lp, gl);
  });
}
