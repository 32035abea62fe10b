/** Element-wise arithmetic with broadcasting, and the element-wise activations. */
import { kernelsFor, type FloatArray, type GeluForm } from "../backend.js";
import { addGrad, allocate, commonDType, result, sizeOf, Tensor } from "../tensor.js";
import { broadcastIndex, broadcastShapes, isTrailing, reduceToShape } from "./broadcast.js";

type Kind = "add" | "sub" | "mul" | "div";

function apply(kind: Kind, x: number, y: number): number {
  switch (kind) {
    case "add":
      return x + y;
    case "sub":
      return x - y;
    case "mul":
      return x * y;
    case "div":
      return x / y;
  }
}

/** Values of `t` laid out over `outShape` (a copy when broadcasting is needed). */
function expand(t: Tensor, outShape: readonly number[]): FloatArray {
  const n = sizeOf(outShape);
  if (t.size === n) return t.data;
  const out = allocate(t.dtype, n);
  if (isTrailing(t.shape, outShape)) {
    for (let i = 0; i < n; i += t.size) out.set(t.data, i);
    return out;
  }
  const idx = broadcastIndex(t.shape, outShape);
  for (let i = 0; i < n; i++) out[i] = t.data[idx[i]!]!;
  return out;
}

function binary(kind: Kind, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShapes(a.shape, b.shape, kind);
  const dtype = commonDType(a, b);
  const n = sizeOf(shape);
  const av = expand(a, shape);
  const bv = expand(b, shape);
  const out = allocate(dtype, n);
  const k = kernelsFor(av, bv, out);
  if (kind === "add" && av.constructor === bv.constructor) k.add(av, bv, out);
  else if (kind === "mul" && av.constructor === bv.constructor) k.mul(av, bv, out);
  else for (let i = 0; i < n; i++) out[i] = apply(kind, av[i]!, bv[i]!);
  return result(out, shape, [a, b], (g) => {
    if (a.requiresGrad) {
      let ga: FloatArray;
      if (kind === "add" || kind === "sub") ga = g;
      else if (kind === "mul") ga = mulArrays(g, bv, dtype);
      else ga = mapArrays(g, bv, dtype, (gi, bi) => gi / bi);
      addGrad(a, reduceToShape(ga, shape, a.shape, a.dtype), false);
    }
    if (b.requiresGrad) {
      let gb: FloatArray;
      if (kind === "add") gb = g;
      else if (kind === "sub") gb = mapArrays(g, g, dtype, (gi) => -gi);
      else if (kind === "mul") gb = mulArrays(g, av, dtype);
      else {
        gb = allocate(dtype, n);
        for (let i = 0; i < n; i++) gb[i] = (-g[i]! * av[i]!) / (bv[i]! * bv[i]!);
      }
      addGrad(b, reduceToShape(gb, shape, b.shape, b.dtype), false);
    }
  });
}

function mulArrays(x: FloatArray, y: FloatArray, dtype: Tensor["dtype"]): FloatArray {
  const out = allocate(dtype, x.length);
  if (x.constructor === y.constructor) kernelsFor(x, y, out).mul(x, y, out);
  else for (let i = 0; i < x.length; i++) out[i] = x[i]! * y[i]!;
  return out;
}

function mapArrays(
  x: FloatArray,
  y: FloatArray,
  dtype: Tensor["dtype"],
  f: (a: number, b: number) => number,
): FloatArray {
  const out = allocate(dtype, x.length);
  for (let i = 0; i < x.length; i++) out[i] = f(x[i]!, y[i]!);
  return out;
}

export const add = (a: Tensor, b: Tensor): Tensor => binary("add", a, b);
export const sub = (a: Tensor, b: Tensor): Tensor => binary("sub", a, b);
export const mul = (a: Tensor, b: Tensor): Tensor => binary("mul", a, b);
export const div = (a: Tensor, b: Tensor): Tensor => binary("div", a, b);

/** x · s for a constant s. */
export function scale(x: Tensor, s: number): Tensor {
  const out = allocate(x.dtype, x.size);
  for (let i = 0; i < out.length; i++) out[i] = x.data[i]! * s;
  return result(out, x.shape, [x], (g) => {
    const gx = allocate(x.dtype, g.length);
    for (let i = 0; i < g.length; i++) gx[i] = g[i]! * s;
    addGrad(x, gx);
  });
}

/**
 * An element-wise function y = f(x) with derivative f′ computed from (x, y). The building block of
 * the activations, and of the identity rule (rules.ts) which swaps f′ for y/x.
 */
export function unary(x: Tensor, f: (v: number) => number, df: (v: number, y: number) => number): Tensor {
  const out = allocate(x.dtype, x.size);
  for (let i = 0; i < out.length; i++) out[i] = f(x.data[i]!);
  return result(out, x.shape, [x], (g) => {
    const gx = allocate(x.dtype, g.length);
    for (let i = 0; i < g.length; i++) gx[i] = g[i]! * df(x.data[i]!, out[i]!);
    addGrad(x, gx);
  });
}

export function tanh(x: Tensor): Tensor {
  return unary(x, Math.tanh, (_v, y) => 1 - y * y);
}

export function relu(x: Tensor): Tensor {
  return unary(
    x,
    (v) => (v > 0 ? v : 0),
    (v) => (v > 0 ? 1 : 0),
  );
}

export function exp(x: Tensor): Tensor {
  return unary(x, Math.exp, (_v, y) => y);
}

/** GELU, erf form (BERT's "gelu") or tanh form ("gelu_new"). */
export function gelu(x: Tensor, form: GeluForm = "erf"): Tensor {
  const out = allocate(x.dtype, x.size);
  kernelsFor(x.data, out).gelu(x.data, out, form);
  return result(out, x.shape, [x], (g) => {
    const gx = allocate(x.dtype, g.length);
    kernelsFor(x.data, g, gx).geluBackward(x.data, g, gx, form);
    addGrad(x, gx);
  });
}
