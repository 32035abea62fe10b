/** Broadcasting of shapes (NumPy rules) and the reduction of a gradient back to an operand's shape. */
import type { FloatArray } from "../backend.js";
import { XaitError } from "../../errors.js";
import { allocate, shapeString, sizeOf, type DType } from "../tensor.js";
import type { GraphEmitter, Value } from "../trace.js";

export function broadcastShapes(a: readonly number[], b: readonly number[], op: string): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1)
      throw new XaitError(
        `${op}: shapes ${shapeString(a)} and ${shapeString(b)} cannot be broadcast together`,
      );
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Element strides of `shape` seen inside `outShape` (0 along broadcast dimensions). */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const strides = new Array<number>(outShape.length).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const o = outShape.length - shape.length + i;
    strides[o] = shape[i] === 1 ? 0 : s;
    s *= shape[i]!;
  }
  return strides;
}

/** For each flat index of `outShape`, the flat index into an operand of `shape`. */
export function broadcastIndex(shape: readonly number[], outShape: readonly number[]): Int32Array {
  const n = sizeOf(outShape);
  const idx = new Int32Array(n);
  const strides = broadcastStrides(shape, outShape);
  const rank = outShape.length;
  const counter = new Array<number>(rank).fill(0);
  let cur = 0;
  for (let i = 0; i < n; i++) {
    idx[i] = cur;
    for (let d = rank - 1; d >= 0; d--) {
      counter[d]!++;
      cur += strides[d]!;
      if (counter[d]! < outShape[d]!) break;
      cur -= strides[d]! * outShape[d]!;
      counter[d] = 0;
    }
  }
  return idx;
}

/** Whether `shape` broadcast to `outShape` is a suffix repeated over leading rows (e.g. a bias). */
export function isTrailing(shape: readonly number[], outShape: readonly number[]): boolean {
  const n = sizeOf(shape);
  let tail = 1;
  for (let i = outShape.length - 1; i >= 0 && tail < n; i--) tail *= outShape[i]!;
  if (tail !== n) return false;
  // the operand's own dims must equal the output's trailing dims (after dropping leading 1s)
  const trimmed = shape.slice(
    shape.findIndex((d) => d !== 1) === -1 ? shape.length : shape.findIndex((d) => d !== 1),
  );
  const outTail = outShape.slice(outShape.length - trimmed.length);
  return trimmed.every((d, i) => d === outTail[i]);
}

/** Sum a gradient of `outShape` down to `shape` (the adjoint of broadcasting). */
export function reduceToShape(
  g: FloatArray,
  outShape: readonly number[],
  shape: readonly number[],
  dtype: DType,
): FloatArray {
  const n = sizeOf(shape);
  if (n === g.length) return g.slice();
  const out = allocate(dtype, n);
  if (isTrailing(shape, outShape)) {
    for (let i = 0; i < g.length; i++) out[i % n]! += g[i]!;
    return out;
  }
  const idx = broadcastIndex(shape, outShape);
  for (let i = 0; i < g.length; i++) out[idx[i]!]! += g[i]!;
  return out;
}

/**
 * ONNX form of `reduceToShape`: sum a gradient of `outShape` down to `shape` (leading dimensions
 * dropped, broadcast dimensions of size 1 kept). Shapes are those of the probe batch.
 */
export function onnxReduceToShape(
  e: GraphEmitter,
  g: Value,
  outShape: readonly number[],
  shape: readonly number[],
): Value {
  const lead = outShape.length - shape.length;
  let v = g;
  if (lead > 0)
    v = e.node("ReduceSum", [v, e.ints(Array.from({ length: lead }, (_, i) => i))], { keepdims: 0 });
  const ones: number[] = [];
  shape.forEach((d, i) => {
    if (d === 1 && outShape[lead + i] !== 1) ones.push(i);
  });
  if (ones.length) v = e.node("ReduceSum", [v, e.ints(ones)], { keepdims: 1 });
  return v;
}
