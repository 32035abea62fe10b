/** Matrix products: matmul / batched matmul with transposed operands, and the linear layer. */
import { kernelsFor, type FloatArray } from "../backend.js";
import { XaitError } from "../../errors.js";
import { addGrad, allocate, commonDType, result, shapeString, sizeOf, Tensor } from "../tensor.js";
import { record, type GraphEmitter, type OpEmitter, type Value } from "../trace.js";

export interface MatmulOptions {
  /** Use aᵀ: `a` is stored [..., k, m]. */
  transA?: boolean;
  /** Use bᵀ: `b` is stored [..., n, k] (PyTorch's [out, in] weight layout). */
  transB?: boolean;
}

interface Gemm {
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  batch: number;
  strideA: number;
  strideB: number;
  strideC: number;
}

function run(
  g: Gemm,
  a: FloatArray,
  b: FloatArray,
  c: FloatArray,
  accumulate: boolean,
  bias: FloatArray | null = null,
): void {
  kernelsFor(a, b, c, bias).gemm({ ...g, a, b, c, accumulate, bias });
}

/**
 * op(a) · op(b). Shapes: a [...batch, m, k], b [...batch, k, n] (or 2-D b shared by every batch
 * entry), result [...batch, m, n]; the transposed flags swap the last two dimensions of an operand.
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  const fail = (why: string): never => {
    throw new XaitError(
      `matmul: ${why}: a${transA ? "ᵀ" : ""} ${shapeString(a.shape)}, b${transB ? "ᵀ" : ""} ${shapeString(b.shape)}`,
    );
  };
  if (a.rank < 2 || b.rank < 2) fail("operands need at least 2 dimensions");
  const m = transA ? a.dim(-1) : a.dim(-2);
  const k = transA ? a.dim(-2) : a.dim(-1);
  const kb = transB ? b.dim(-1) : b.dim(-2);
  const n = transB ? b.dim(-2) : b.dim(-1);
  if (k !== kb) fail(`inner dimensions differ (${k} vs ${kb})`);
  const batchShape = a.shape.slice(0, -2);
  const batch = sizeOf(batchShape);
  const sharedB = b.rank === 2;
  if (!sharedB && shapeString(b.shape.slice(0, -2)) !== shapeString(batchShape))
    fail("batch dimensions differ");
  const dtype = commonDType(a, b);
  const out = allocate(dtype, batch * m * n);
  // a shared 2-D b with untransposed a: one tall product [batch·m, k] · op(b)
  const flat = sharedB && !transA;
  const fwd: Gemm = flat
    ? { m: batch * m, n, k, transA, transB, batch: 1, strideA: 0, strideB: 0, strideC: 0 }
    : { m, n, k, transA, transB, batch, strideA: m * k, strideB: sharedB ? 0 : k * n, strideC: m * n };
  run(fwd, a.data, b.data, out, false);
  const y = result(out, [...batchShape, m, n], [a, b], (g) => {
    const M = fwd.m;
    if (a.requiresGrad) {
      const ga = allocate(dtype, a.size);
      if (!transA)
        run(
          {
            ...fwd,
            k: n,
            n: k,
            transA: false,
            transB: !transB,
            strideA: M * n,
            strideB: fwd.strideB,
            strideC: M * k,
          },
          g,
          b.data,
          ga,
          false,
        );
      else
        run(
          {
            ...fwd,
            m: k,
            k: n,
            n: m,
            transA: transB,
            transB: true,
            strideA: fwd.strideB,
            strideB: m * n,
            strideC: k * m,
          },
          b.data,
          g,
          ga,
          false,
        );
      addGrad(a, ga);
    }
    if (b.requiresGrad) {
      const gb = allocate(dtype, b.size);
      if (flat) {
        if (!transB)
          run(
            { m: k, n, k: M, transA: true, transB: false, batch: 1, strideA: 0, strideB: 0, strideC: 0 },
            a.data,
            g,
            gb,
            false,
          );
        else
          run(
            { m: n, n: k, k: M, transA: true, transB: false, batch: 1, strideA: 0, strideB: 0, strideC: 0 },
            g,
            a.data,
            gb,
            false,
          );
      } else if (sharedB) {
        // aᵀ with a shared b: accumulate the per-batch products one by one
        for (let i = 0; i < batch; i++) {
          const sub = (x: FloatArray, len: number) => x.subarray(i * len, (i + 1) * len);
          if (!transB)
            run(
              { m: k, n, k: m, transA: !transA, transB: false, batch: 1, strideA: 0, strideB: 0, strideC: 0 },
              sub(a.data, m * k),
              sub(g, m * n),
              gb,
              true,
            );
          else
            run(
              {
                m: n,
                n: k,
                k: m,
                transA: true,
                transB: transA,
                batch: 1,
                strideA: 0,
                strideB: 0,
                strideC: 0,
              },
              sub(g, m * n),
              sub(a.data, m * k),
              gb,
              true,
            );
        }
      } else if (!transB) {
        run(
          {
            m: k,
            n,
            k: m,
            transA: !transA,
            transB: false,
            batch,
            strideA: m * k,
            strideB: m * n,
            strideC: k * n,
          },
          a.data,
          g,
          gb,
          false,
        );
      } else {
        run(
          {
            m: n,
            n: k,
            k: m,
            transA: true,
            transB: transA,
            batch,
            strideA: m * n,
            strideB: m * k,
            strideC: n * k,
          },
          g,
          a.data,
          gb,
          false,
        );
      }
      addGrad(b, gb);
    }
  });
  return record("matmul", [a, b], y, { transA, transB });
}

/** Swap the last two dimensions of a value of rank `rank`. */
function swapLast(e: GraphEmitter, v: Value, rank: number): Value {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return e.node("Transpose", [v], { perm });
}

/**
 * ONNX matmul: C = op(A)·op(B). Backward: ∂op(A) = g·op(B)ᵀ, ∂op(B) = op(A)ᵀ·g (summed over the
 * batch dimensions when B is a shared 2-D matrix), transposed back where the operand was.
 */
export const matmulEmitter: OpEmitter = {
  forward(e, [a, b], op) {
    const [ta, tb] = op.inputs as [Tensor, Tensor];
    const A = op.attrs["transA"] ? swapLast(e, a!, ta.rank) : a!;
    const B = op.attrs["transB"] ? swapLast(e, b!, tb.rank) : b!;
    return e.node("MatMul", [A, B]);
  },
  backward(e, g, [a, b], _y, op) {
    const [ta, tb] = op.inputs as [Tensor, Tensor];
    const transA = op.attrs["transA"] as boolean;
    const transB = op.attrs["transB"] as boolean;
    const rank = op.output.rank;
    let ga: Value | null = null;
    let gb: Value | null = null;
    if (op.needsGrad[0]) {
      // ∂op(A) = g · op(B)ᵀ; op(B)ᵀ is B itself when B was transposed
      const BT = transB ? b! : swapLast(e, b!, tb.rank);
      const d = e.node("MatMul", [g, BT]);
      ga = transA ? swapLast(e, d, rank) : d;
    }
    if (op.needsGrad[1]) {
      const AT = transA ? a! : swapLast(e, a!, ta.rank);
      let d = e.node("MatMul", [AT, g]);
      if (tb.rank === 2 && rank > 2)
        d = e.node("ReduceSum", [d, e.ints(Array.from({ length: rank - 2 }, (_, i) => i))], { keepdims: 0 });
      gb = transB ? swapLast(e, d, tb.rank) : d;
    }
    return [ga, gb];
  },
};

/** The linear layer y = x · Wᵀ + bias with W stored [out, in] as in PyTorch. */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  const [outF, inF] = weight.shape as [number, number];
  if (weight.rank !== 2 || x.dim(-1) !== inF)
    throw new XaitError(
      `linear: input ${shapeString(x.shape)} does not fit weight ${shapeString(weight.shape)}`,
    );
  if (bias && (bias.rank !== 1 || bias.size !== outF))
    throw new XaitError(
      `linear: bias ${shapeString(bias.shape)} does not fit weight ${shapeString(weight.shape)}`,
    );
  const rows = x.size / inF;
  const dtype = commonDType(x, weight);
  const out = allocate(dtype, rows * outF);
  const fwd: Gemm = {
    m: rows,
    n: outF,
    k: inF,
    transA: false,
    transB: true,
    batch: 1,
    strideA: 0,
    strideB: 0,
    strideC: 0,
  };
  run(fwd, x.data, weight.data, out, false, bias?.data ?? null);
  const parents = bias ? [x, weight, bias] : [x, weight];
  const y = result(out, [...x.shape.slice(0, -1), outF], parents, (g) => {
    if (x.requiresGrad) {
      const gx = allocate(dtype, x.size);
      run({ ...fwd, n: inF, k: outF, transB: false }, g, weight.data, gx, false);
      addGrad(x, gx);
    }
    if (weight.requiresGrad) {
      const gw = allocate(dtype, weight.size);
      run({ ...fwd, m: outF, n: inF, k: rows, transA: true, transB: false }, g, x.data, gw, false);
      addGrad(weight, gw);
    }
    if (bias?.requiresGrad) {
      const gb = allocate(dtype, outF);
      for (let r = 0; r < rows; r++) for (let j = 0; j < outF; j++) gb[j]! += g[r * outF + j]!;
      addGrad(bias, gb);
    }
  });
  return record("linear", parents, y);
}

/**
 * y = x·Wᵀ + b in ONNX: onnxruntime's FusedMatMul with transB reads the [out, in] weight as it is,
 * so forward (x·Wᵀ) and backward (g·W) share one initializer. Backward g·W to x only.
 */
export const linearEmitter: OpEmitter = {
  forward(e, [x, w, b]) {
    const y = e.node("FusedMatMul", [x!, w!], { transB: 1, alpha: { float: 1 } }, "com.microsoft");
    return b ? e.node("Add", [y, b]) : y;
  },
  backward(e, g, [, w], _y, op) {
    if (op.needsGrad.slice(1).some(Boolean)) throw new Error("linear: weight gradients do not compile");
    return [op.needsGrad[0] ? e.node("MatMul", [g, w!]) : null];
  },
};
