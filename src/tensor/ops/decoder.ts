/**
 * The ops of decoder language models (GPT-2, Llama family) beyond those of encoders: RMSNorm,
 * SiLU/sigmoid, rotary position embeddings, grouped-query head repetition, picking the hidden state
 * at each row's explained position, and the additive causal (+ padding) attention mask.
 */
import { XaitError } from "../../errors.js";
import { kernelsFor } from "../backend.js";
import { addGrad, allocate, result, shapeString, Tensor } from "../tensor.js";
import { unary } from "./elementwise.js";
import { record, type GraphEmitter, type OpEmitter, type Value } from "../trace.js";

/** The additive mask value of a key a query may not attend to. */
export const MASKED_SCORE = -1e9;

export interface RmsNormOptions {
  eps: number;
  /**
   * Hold the factor r = 1/√(mean(x²) + eps) constant in the backward pass (gradient to x is then
   * g·w·r) — the LN-rule of conservative LRP applied to RMSNorm.
   */
  constantScale?: boolean;
}

/** RMSNorm over the last axis (Llama): y = x · r · w with r = 1/√(mean(x²) + eps); no weight means w = 1. */
export function rmsNorm(x: Tensor, weight: Tensor | null, opts: RmsNormOptions): Tensor {
  if (x.rank < 1 || x.dim(-1) === 0)
    throw new XaitError(`rmsNorm: input ${shapeString(x.shape)} has no last axis to normalise`);
  const cols = x.dim(-1);
  if (weight && (weight.rank !== 1 || weight.size !== cols))
    throw new XaitError(
      `rmsNorm: weight ${shapeString(weight.shape)} does not fit input ${shapeString(x.shape)}`,
    );
  if (!(opts.eps >= 0)) throw new XaitError(`rmsNorm: eps ${opts.eps} must be a number ≥ 0`);
  const rows = x.size / cols;
  const xd = x.data;
  const w = weight?.data ?? null;
  const out = allocate(x.dtype, x.size);
  const scale = new Float64Array(rows); // r per row, kept in float64 for the backward pass
  kernelsFor(xd, out, w).rmsNorm({ x: xd, out, rows, cols, eps: opts.eps, weight: w, scale });
  const parents = weight ? [x, weight] : [x];
  const y = result(out, x.shape, parents, (gy) => {
    if (x.requiresGrad) {
      const gx = allocate(x.dtype, x.size);
      kernelsFor(xd, gy, gx, w).rmsNormBackward({
        x: xd,
        gy,
        gx,
        rows,
        cols,
        weight: w,
        scale,
        constantScale: opts.constantScale ?? false,
      });
      addGrad(x, gx);
    }
    if (weight?.requiresGrad) {
      const gw = new Float64Array(cols);
      for (let row = 0; row < rows; row++) {
        const o = row * cols;
        const r = scale[row]!;
        for (let j = 0; j < cols; j++) gw[j]! += gy[o + j]! * xd[o + j]! * r;
      }
      addGrad(weight, weight.dtype === "float64" ? gw : Float32Array.from(gw));
    }
  });
  return record("rms-norm", parents, y, { ...opts, weight: weight !== null });
}

function rmsFactor(e: GraphEmitter, x: Value, eps: number): Value {
  const ms = e.node("ReduceMean", [e.node("Mul", [x, x]), e.ints([-1])], { keepdims: 1 });
  return e.node("Reciprocal", [e.node("Sqrt", [e.node("Add", [ms, e.floats([eps])])])]);
}

/**
 * RMSNorm in ONNX: y = x·r·w, r = 1/√(mean(x²) + eps). Backward with g′ = g ⊙ w:
 * g′·r − x·r³/cols·Σ(g′ ⊙ x), the second term dropped when r is held constant (the LN-rule).
 */
export const rmsNormEmitter: OpEmitter = {
  forward(e, [x, w], op) {
    const y = e.node("Mul", [x!, rmsFactor(e, x!, op.attrs["eps"] as number)]);
    return op.attrs["weight"] ? e.node("Mul", [y, w!]) : y;
  },
  backward(e, g, [x, w], _y, op) {
    if (op.needsGrad.slice(1).some(Boolean)) throw new Error("rmsNorm: weight gradients do not compile");
    const r = rmsFactor(e, x!, op.attrs["eps"] as number);
    const gw = op.attrs["weight"] ? e.node("Mul", [g, w!]) : g;
    let gx = e.node("Mul", [gw, r]);
    if (!op.attrs["constantScale"]) {
      const dot = e.node("ReduceSum", [e.node("Mul", [gw, x!]), e.ints([-1])], { keepdims: 1 });
      const r3 = e.node("Mul", [e.node("Mul", [r, r]), r]);
      const coef = e.node("Div", [e.node("Mul", [dot, r3]), e.floats([op.inputs[0]!.dim(-1)])]);
      gx = e.node("Sub", [gx, e.node("Mul", [x!, coef])]);
    }
    return [gx];
  },
};

/** The logistic function 1/(1 + e^(−x)). */
export function sigmoid(x: Tensor): Tensor {
  return unary(
    x,
    (v) => 1 / (1 + Math.exp(-v)),
    (_v, y) => y * (1 - y),
    "sigmoid",
  );
}

/** SiLU (swish): x · sigmoid(x), the gate activation of Llama's MLP. silu(z)/z → ½ at z = 0. */
export function silu(x: Tensor): Tensor {
  return unary(
    x,
    (v) => v / (1 + Math.exp(-v)),
    (v, y) => {
      const s = 1 / (1 + Math.exp(-v));
      return s + y * (1 - s); // σ(v)·(1 + v·(1 − σ(v)))
    },
    "silu",
  );
}

/**
 * Rotary position embedding in Hugging Face's `rotate_half` convention on x [B, H, T, dh] (dh even):
 * dimension i of the first half pairs with i + dh/2. With inv_freq_i = theta^(−2i/dh) and
 * angle = pos · inv_freq_i (float64), out[i] = x[i]·cos − x[i+dh/2]·sin and
 * out[i+dh/2] = x[i+dh/2]·cos + x[i]·sin. `positions` holds B·T entries: the position of token t of
 * row b at index b·T + t. The backward pass applies the transposed rotation.
 */
export function rotary(x: Tensor, positions: ArrayLike<number>, theta: number): Tensor {
  if (x.rank !== 4 || x.dim(3) % 2 !== 0)
    throw new XaitError(
      `rotary: input ${shapeString(x.shape)} must be [batch, heads, tokens, head size] with an even head size`,
    );
  const [batch, heads, seq, dh] = x.shape as [number, number, number, number];
  if (positions.length !== batch * seq)
    throw new XaitError(
      `rotary: ${positions.length} positions do not fit input ${shapeString(x.shape)} (want ${batch * seq})`,
    );
  if (!(theta > 0) || !Number.isFinite(theta))
    throw new XaitError(`rotary: theta ${theta} must be a positive number`);
  const half = dh / 2;
  const invFreq = new Float64Array(half);
  for (let i = 0; i < half; i++) invFreq[i] = 1 / Math.pow(theta, (2 * i) / dh);
  // cos/sin per (row, token, pair), shared by all heads
  const cos = new Float64Array(batch * seq * half);
  const sin = new Float64Array(batch * seq * half);
  for (let p = 0; p < batch * seq; p++) {
    const pos = positions[p]!;
    if (!Number.isFinite(pos))
      throw new XaitError(`rotary: position ${pos} at index ${p} is not a finite number`);
    for (let i = 0; i < half; i++) {
      const angle = pos * invFreq[i]!;
      cos[p * half + i] = Math.cos(angle);
      sin[p * half + i] = Math.sin(angle);
    }
  }
  // sign = +1 rotates forward, −1 applies the transpose (rotation by −angle)
  const rotate = (src: ArrayLike<number>, dst: Float32Array | Float64Array, sign: number): void => {
    for (let b = 0; b < batch; b++)
      for (let h = 0; h < heads; h++)
        for (let t = 0; t < seq; t++) {
          const o = ((b * heads + h) * seq + t) * dh;
          const c0 = (b * seq + t) * half;
          for (let i = 0; i < half; i++) {
            const c = cos[c0 + i]!;
            const s = sign * sin[c0 + i]!;
            const x1 = src[o + i]!;
            const x2 = src[o + i + half]!;
            dst[o + i] = x1 * c - x2 * s;
            dst[o + i + half] = x2 * c + x1 * s;
          }
        }
  };
  const out = allocate(x.dtype, x.size);
  rotate(x.data, out, 1);
  const y = result(out, x.shape, [x], (g) => {
    const gx = allocate(x.dtype, x.size);
    rotate(g, gx, -1);
    addGrad(x, gx);
  });
  return record("rotary", [x], y, { positions, invFreq });
}

/** cos and sin [T, dh/2] of the rotary angles (computed in float64, used in float32). */
function rotaryAngles(e: GraphEmitter, op: { attrs: Record<string, unknown> }): [Value, Value] {
  const invFreq = op.attrs["invFreq"] as Float64Array;
  const pos = e.node("Cast", [e.symbol(op.attrs["positions"] as object)], { to: 11 });
  const angle = e.node("Mul", [
    e.node("Unsqueeze", [pos, e.ints([-1])]),
    e.floats(invFreq, [1, invFreq.length], true),
  ]);
  return [
    e.node("Cast", [e.node("Cos", [angle])], { to: 1 }),
    e.node("Cast", [e.node("Sin", [angle])], { to: 1 }),
  ];
}

function rotate(e: GraphEmitter, x: Value, half: number, cos: Value, sin: Value, sign: number): Value {
  const x1 = e.node("Slice", [x, e.ints([0]), e.ints([half]), e.ints([3])]);
  const x2 = e.node("Slice", [x, e.ints([half]), e.ints([2 * half]), e.ints([3])]);
  const s = sign > 0 ? sin : e.node("Neg", [sin]);
  const a = e.node("Sub", [e.node("Mul", [x1, cos]), e.node("Mul", [x2, s])]);
  const b = e.node("Add", [e.node("Mul", [x2, cos]), e.node("Mul", [x1, s])]);
  return e.node("Concat", [a, b], { axis: 3 });
}

/** Rotary embedding in ONNX: the rotation forward, the transposed rotation backward. */
export const rotaryEmitter: OpEmitter = {
  forward(e, [x], op) {
    const [cos, sin] = rotaryAngles(e, op);
    return rotate(e, x!, op.inputs[0]!.dim(3) / 2, cos, sin, 1);
  },
  backward(e, g, _in, _y, op) {
    const [cos, sin] = rotaryAngles(e, op);
    return [rotate(e, g, op.inputs[0]!.dim(3) / 2, cos, sin, -1)];
  },
};

/**
 * Grouped-query attention's repeat_kv: x [B, kvH, T, dh] → [B, kvH·groups, T, dh], output head h
 * reading input head ⌊h / groups⌋. The backward pass sums each group's gradients. groups = 1
 * returns x itself.
 */
export function repeatHeads(x: Tensor, groups: number): Tensor {
  if (!Number.isInteger(groups) || groups < 1)
    throw new XaitError(`repeatHeads: groups ${groups} must be a positive integer`);
  if (x.rank !== 4)
    throw new XaitError(
      `repeatHeads: input ${shapeString(x.shape)} must be [batch, key/value heads, tokens, head size]`,
    );
  if (groups === 1) return x;
  const [batch, kvHeads, seq, dh] = x.shape as [number, number, number, number];
  const block = seq * dh; // one head of one row
  const out = allocate(x.dtype, x.size * groups);
  for (let b = 0; b < batch; b++)
    for (let k = 0; k < kvHeads; k++) {
      const src = x.data.subarray((b * kvHeads + k) * block, (b * kvHeads + k + 1) * block);
      for (let r = 0; r < groups; r++) out.set(src, ((b * kvHeads + k) * groups + r) * block);
    }
  const y = result(out, [batch, kvHeads * groups, seq, dh], [x], (g) => {
    const gx = allocate(x.dtype, x.size);
    for (let b = 0; b < batch; b++)
      for (let k = 0; k < kvHeads; k++) {
        const dst = (b * kvHeads + k) * block;
        for (let r = 0; r < groups; r++) {
          const src = ((b * kvHeads + k) * groups + r) * block;
          for (let j = 0; j < block; j++) gx[dst + j]! += g[src + j]!;
        }
      }
    addGrad(x, gx);
  });
  return record("repeat-heads", [x], y, { groups });
}

/** repeat_kv in ONNX: expand a new group axis and merge it into the heads; backward sums each group. */
export const repeatHeadsEmitter: OpEmitter = {
  forward(e, [x], op) {
    const groups = op.attrs["groups"] as number;
    const [, kv, , dh] = op.inputs[0]!.shape as [number, number, number, number];
    const wide = e.node("Expand", [e.node("Unsqueeze", [x!, e.ints([2])]), e.ints([1, 1, groups, 1, 1])]);
    return e.node("Reshape", [wide, e.ints([0, kv * groups, -1, dh])]);
  },
  backward(e, g, _in, _y, op) {
    const groups = op.attrs["groups"] as number;
    const [, kv, , dh] = op.inputs[0]!.shape as [number, number, number, number];
    const split = e.node("Reshape", [g, e.ints([0, kv, groups, -1, dh])]);
    return [e.node("ReduceSum", [split, e.ints([2])], { keepdims: 0 })];
  },
};

/**
 * The hidden state at each row's explained position: x [B, T, D] → [B, D] with
 * out[b] = x[b, positions[b]]. The backward pass scatters the gradient back to those positions.
 */
export function rowsAt(x: Tensor, positions: ArrayLike<number>): Tensor {
  if (x.rank !== 3)
    throw new XaitError(`rowsAt: input ${shapeString(x.shape)} must be [batch, tokens, hidden]`);
  const [batch, seq, dim] = x.shape as [number, number, number];
  if (positions.length !== batch)
    throw new XaitError(
      `rowsAt: ${positions.length} positions do not fit input ${shapeString(x.shape)} (want ${batch})`,
    );
  const offsets = new Int32Array(batch);
  for (let b = 0; b < batch; b++) {
    const p = positions[b]!;
    if (!Number.isInteger(p) || p < 0 || p >= seq)
      throw new XaitError(
        `rowsAt: position ${p} of row ${b} is outside [0, ${seq}) for input ${shapeString(x.shape)}`,
      );
    offsets[b] = (b * seq + p) * dim;
  }
  const out = allocate(x.dtype, batch * dim);
  for (let b = 0; b < batch; b++) out.set(x.data.subarray(offsets[b]!, offsets[b]! + dim), b * dim);
  const y = result(out, [batch, dim], [x], (g) => {
    const gx = allocate(x.dtype, x.size);
    for (let b = 0; b < batch; b++) gx.set(g.subarray(b * dim, (b + 1) * dim), offsets[b]!);
    addGrad(x, gx);
  });
  return record("rows-at", [x], y, { positions });
}

/** One-hot [B, T, 1] of each row's position (the positions are batch-dependent). */
function rowSelector(e: GraphEmitter, x: Value, positions: object): Value {
  const T = e.dim(x, 1);
  const range = e.node("Range", [e.ints([0], []), T, e.ints([1], [])]);
  const pos = e.node("Unsqueeze", [e.symbol(positions), e.ints([1])]);
  const hot = e.node("Equal", [pos, e.node("Unsqueeze", [range, e.ints([0])])]);
  return e.node("Unsqueeze", [e.node("Cast", [hot], { to: 1 }), e.ints([2])]);
}

/** rowsAt in ONNX: Σ_t x[b,t]·[t = pos_b]; backward spreads g[b] onto position pos_b. */
export const rowsAtEmitter: OpEmitter = {
  forward(e, [x], op) {
    const sel = rowSelector(e, x!, op.attrs["positions"] as object);
    return e.node("ReduceSum", [e.node("Mul", [x!, sel]), e.ints([1])], { keepdims: 0 });
  },
  backward(e, g, [x], _y, op) {
    const sel = rowSelector(e, x!, op.attrs["positions"] as object);
    return [e.node("Mul", [sel, e.node("Unsqueeze", [g, e.ints([1])])])];
  },
};

/**
 * The additive attention mask [B, 1, T, T] (float32) of a decoder: 0 where query i may attend key j
 * (j ≤ i and, when `mask` — B·T entries, nonzero = real token — is given, key j is a real token),
 * −1e9 elsewhere. A query with no allowed key keeps key 0 allowed so that the softmax never
 * divides by zero. A mask is never differentiated.
 */
export function causalMask(batch: number, seq: number, mask?: Uint8Array): Tensor {
  if (!Number.isInteger(batch) || batch < 1 || !Number.isInteger(seq) || seq < 1)
    throw new XaitError(`causalMask: batch ${batch} and length ${seq} must be positive integers`);
  if (mask && mask.length !== batch * seq)
    throw new XaitError(
      `causalMask: padding mask has ${mask.length} entries, batch ${batch} × length ${seq} wants ${batch * seq}`,
    );
  const out = new Float32Array(batch * seq * seq);
  for (let b = 0; b < batch; b++)
    for (let i = 0; i < seq; i++) {
      const o = (b * seq + i) * seq;
      let allowed = 0;
      for (let j = 0; j < seq; j++) {
        const ok = j <= i && (!mask || mask[b * seq + j] !== 0);
        if (ok) allowed++;
        else out[o + j] = MASKED_SCORE;
      }
      if (allowed === 0) out[o] = 0;
    }
  return new Tensor(out, [batch, 1, seq, seq]);
}
