/** Reductions over one axis: sum, mean, max. */
import { XaitError } from "../../errors.js";
import { addGrad, allocate, result, shapeString, sizeOf, Tensor } from "../tensor.js";

function split(
  x: Tensor,
  axis: number,
  op: string,
): { a: number; outer: number; len: number; inner: number } {
  const a = axis < 0 ? x.rank + axis : axis;
  if (a < 0 || a >= x.rank)
    throw new XaitError(`${op}: axis ${axis} out of range for shape ${shapeString(x.shape)}`);
  return { a, outer: sizeOf(x.shape.slice(0, a)), len: x.shape[a]!, inner: sizeOf(x.shape.slice(a + 1)) };
}

function reducedShape(x: Tensor, a: number, keepDim: boolean): number[] {
  const s = x.shape.slice();
  if (keepDim) s[a] = 1;
  else s.splice(a, 1);
  return s;
}

/** Σ over `axis`; with no axis, the sum of every element (a scalar). */
export function sum(x: Tensor, axis?: number, keepDim = false): Tensor {
  if (axis === undefined) {
    let s = 0;
    for (let i = 0; i < x.size; i++) s += x.data[i]!;
    const out = allocate(x.dtype, 1);
    out[0] = s;
    return result(out, [], [x], (g) => addGrad(x, allocate(x.dtype, x.size).fill(g[0]!)));
  }
  const { a, outer, len, inner } = split(x, axis, "sum");
  const out = allocate(x.dtype, outer * inner);
  for (let o = 0; o < outer; o++)
    for (let l = 0; l < len; l++) {
      const base = (o * len + l) * inner;
      for (let i = 0; i < inner; i++) out[o * inner + i]! += x.data[base + i]!;
    }
  return result(out, reducedShape(x, a, keepDim), [x], (g) => {
    const gx = allocate(x.dtype, x.size);
    for (let o = 0; o < outer; o++)
      for (let l = 0; l < len; l++) gx.set(g.subarray(o * inner, (o + 1) * inner), (o * len + l) * inner);
    addGrad(x, gx);
  });
}

/** Mean over `axis` (or of every element). */
export function mean(x: Tensor, axis?: number, keepDim = false): Tensor {
  const n = axis === undefined ? x.size : x.dim(axis);
  const s = sum(x, axis, keepDim);
  const out = allocate(x.dtype, s.size);
  for (let i = 0; i < out.length; i++) out[i] = s.data[i]! / n;
  return result(out, s.shape, [s], (g) => {
    const gs = allocate(x.dtype, g.length);
    for (let i = 0; i < g.length; i++) gs[i] = g[i]! / n;
    addGrad(s, gs);
  });
}

/** Max over `axis`; the gradient goes to the (first) arg-max. */
export function max(x: Tensor, axis: number, keepDim = false): Tensor {
  const { a, outer, len, inner } = split(x, axis, "max");
  const out = allocate(x.dtype, outer * inner);
  const arg = new Int32Array(outer * inner);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      let best = -Infinity;
      let bi = 0;
      for (let l = 0; l < len; l++) {
        const v = x.data[(o * len + l) * inner + i]!;
        if (v > best) {
          best = v;
          bi = l;
        }
      }
      out[o * inner + i] = best;
      arg[o * inner + i] = (o * len + bi) * inner + i;
    }
  return result(out, reducedShape(x, a, keepDim), [x], (g) => {
    const gx = allocate(x.dtype, x.size);
    for (let j = 0; j < g.length; j++) gx[arg[j]!]! += g[j]!;
    addGrad(x, gx);
  });
}
