/** Element-wise arithmetic with broadcasting, and the element-wise activations. */
import { kernelsFor, type FloatArray, type GeluForm } from "../backend.js";
import { addGrad, allocate, commonDType, result, sizeOf, Tensor } from "../tensor.js";
import { record, type GraphEmitter, type OpEmitter, type Value } from "../trace.js";
import {
  broadcastIndex,
  broadcastShapes,
  isTrailing,
  onnxReduceToShape,
  reduceToShape,
} from "./broadcast.js";

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
  const y = result(out, shape, [a, b], (g) => {
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
  return record(kind, [a, b], y);
}

const ONNX_BINARY = { add: "Add", sub: "Sub", mul: "Mul", div: "Div" } as const;

/** ONNX forward and backward of the binary ops (gradients summed back over broadcast dimensions). */
export const binaryEmitters: Record<string, OpEmitter> = Object.fromEntries(
  (["add", "sub", "mul", "div"] as const).map((kind) => [
    kind,
    {
      forward: (e, [a, b]) => e.node(ONNX_BINARY[kind], [a!, b!]),
      backward(e, g, [a, b], _out, op) {
        const shape = op.output.shape;
        const [ta, tb] = op.inputs as [Tensor, Tensor];
        let ga: string | null = null;
        let gb: string | null = null;
        if (op.needsGrad[0]) {
          const v =
            kind === "add" || kind === "sub"
              ? g
              : kind === "mul"
                ? e.node("Mul", [g, b!])
                : e.node("Div", [g, b!]);
          ga = onnxReduceToShape(e, v, shape, ta.shape);
        }
        if (op.needsGrad[1]) {
          const v =
            kind === "add"
              ? g
              : kind === "sub"
                ? e.node("Neg", [g])
                : kind === "mul"
                  ? e.node("Mul", [g, a!])
                  : e.node("Neg", [e.node("Div", [e.node("Mul", [g, a!]), e.node("Mul", [b!, b!])])]);
          gb = onnxReduceToShape(e, v, shape, tb.shape);
        }
        return [ga, gb];
      },
    } satisfies OpEmitter,
  ]),
);

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
  const y = result(out, x.shape, [x], (g) => {
    const gx = allocate(x.dtype, g.length);
    for (let i = 0; i < g.length; i++) gx[i] = g[i]! * s;
    addGrad(x, gx);
  });
  return record("scale", [x], y, { s });
}

export const scaleEmitter: OpEmitter = {
  forward: (e, [x], op) => e.node("Mul", [x!, e.floats([op.attrs["s"] as number])]),
  backward: (e, g, _in, _out, op) => [e.node("Mul", [g, e.floats([op.attrs["s"] as number])])],
};

/** The element-wise functions with an ONNX form (the `kind` of `unary`). */
export type UnaryKind = "tanh" | "relu" | "exp" | "sigmoid" | "silu";

/**
 * An element-wise function y = f(x) with derivative f′ computed from (x, y). The building block of
 * the activations, and of the identity rule (rules.ts) which swaps f′ for y/x.
 */
export function unary(
  x: Tensor,
  f: (v: number) => number,
  df: (v: number, y: number) => number,
  kind?: UnaryKind,
): Tensor {
  const out = allocate(x.dtype, x.size);
  for (let i = 0; i < out.length; i++) out[i] = f(x.data[i]!);
  const y = result(out, x.shape, [x], (g) => {
    const gx = allocate(x.dtype, g.length);
    for (let i = 0; i < g.length; i++) gx[i] = g[i]! * df(x.data[i]!, out[i]!);
    addGrad(x, gx);
  });
  return record(kind ? `unary:${kind}` : "unary", [x], y);
}

/** ONNX forward and f′ of each unary kind (f′ from the input x and the output y). */
const UNARY_ONNX: Record<
  UnaryKind,
  { f: (e: GraphEmitter, x: Value) => Value; df: (e: GraphEmitter, x: Value, y: Value) => Value }
> = {
  tanh: {
    f: (e, x) => e.node("Tanh", [x]),
    df: (e, _x, y) => e.node("Sub", [e.floats([1]), e.node("Mul", [y, y])]),
  },
  relu: {
    f: (e, x) => e.node("Relu", [x]),
    df: (e, x) => e.node("Cast", [e.node("Greater", [x, e.floats([0])])], { to: 1 }),
  },
  exp: { f: (e, x) => e.node("Exp", [x]), df: (_e, _x, y) => y },
  sigmoid: {
    f: (e, x) => e.node("Sigmoid", [x]),
    df: (e, _x, y) => e.node("Mul", [y, e.node("Sub", [e.floats([1]), y])]),
  },
  silu: {
    f: (e, x) => e.node("Mul", [x, e.node("Sigmoid", [x])]),
    df: (e, x, y) => {
      const s = e.node("Sigmoid", [x]);
      return e.node("Add", [s, e.node("Mul", [y, e.node("Sub", [e.floats([1]), s])])]);
    },
  },
};

/** The ONNX form of an element-wise function: y = f(x), backward g ⊙ f′. */
export function unaryOnnx(kind: UnaryKind): {
  f: (e: GraphEmitter, x: Value) => Value;
  df: (e: GraphEmitter, x: Value, y: Value) => Value;
} {
  return UNARY_ONNX[kind];
}

export const unaryEmitters: Record<string, OpEmitter> = Object.fromEntries(
  (Object.keys(UNARY_ONNX) as UnaryKind[]).map((kind) => [
    `unary:${kind}`,
    {
      forward: (e, [x]) => UNARY_ONNX[kind].f(e, x!),
      backward: (e, g, [x], y) => [e.node("Mul", [g, UNARY_ONNX[kind].df(e, x!, y)])],
    } satisfies OpEmitter,
  ]),
);

export function tanh(x: Tensor): Tensor {
  return unary(x, Math.tanh, (_v, y) => 1 - y * y, "tanh");
}

export function relu(x: Tensor): Tensor {
  return unary(
    x,
    (v) => (v > 0 ? v : 0),
    (v) => (v > 0 ? 1 : 0),
    "relu",
  );
}

export function exp(x: Tensor): Tensor {
  return unary(x, Math.exp, (_v, y) => y, "exp");
}

/** GELU, erf form (BERT's "gelu") or tanh form ("gelu_new"). */
export function gelu(x: Tensor, form: GeluForm = "erf"): Tensor {
  const out = allocate(x.dtype, x.size);
  kernelsFor(x.data, out).gelu(x.data, out, form);
  const y = result(out, x.shape, [x], (g) => {
    const gx = allocate(x.dtype, g.length);
    kernelsFor(x.data, g, gx).geluBackward(x.data, g, gx, form);
    addGrad(x, gx);
  });
  return record("gelu", [x], y, { form });
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** GELU's ONNX form: erf: ½x(1 + erf(x/√2)); tanh: ½x(1 + tanh(√(2/π)(x + 0.044715x³))). */
export function geluOnnx(e: GraphEmitter, x: Value, form: GeluForm): Value {
  const half = e.node("Mul", [x, e.floats([0.5])]);
  if (form === "erf")
    return e.node("Mul", [
      half,
      e.node("Add", [e.floats([1]), e.node("Erf", [e.node("Mul", [x, e.floats([Math.SQRT1_2])])])]),
    ]);
  return e.node("Mul", [half, e.node("Add", [e.floats([1]), e.node("Tanh", [geluTanhArg(e, x)])])]);
}

function geluTanhArg(e: GraphEmitter, x: Value): Value {
  const x3 = e.node("Mul", [e.node("Mul", [x, x]), x]);
  return e.node("Mul", [
    e.floats([SQRT_2_OVER_PI]),
    e.node("Add", [x, e.node("Mul", [x3, e.floats([0.044715])])]),
  ]);
}

/** gelu′(x): erf: Φ(x) + x·φ(x); tanh: ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²). */
export function geluDerivativeOnnx(e: GraphEmitter, x: Value, form: GeluForm): Value {
  if (form === "erf") {
    const cdf = e.node("Mul", [
      e.floats([0.5]),
      e.node("Add", [e.floats([1]), e.node("Erf", [e.node("Mul", [x, e.floats([Math.SQRT1_2])])])]),
    ]);
    const pdf = e.node("Mul", [
      e.node("Exp", [e.node("Mul", [e.node("Mul", [x, x]), e.floats([-0.5])])]),
      e.floats([1 / Math.sqrt(2 * Math.PI)]),
    ]);
    return e.node("Add", [cdf, e.node("Mul", [x, pdf])]);
  }
  const t = e.node("Tanh", [geluTanhArg(e, x)]);
  const du = e.node("Mul", [
    e.floats([SQRT_2_OVER_PI]),
    e.node("Add", [e.floats([1]), e.node("Mul", [e.node("Mul", [x, x]), e.floats([3 * 0.044715])])]),
  ]);
  const a = e.node("Mul", [e.floats([0.5]), e.node("Add", [e.floats([1]), t])]);
  const b = e.node("Mul", [
    e.node("Mul", [
      e.node("Mul", [x, e.floats([0.5])]),
      e.node("Sub", [e.floats([1]), e.node("Mul", [t, t])]),
    ]),
    du,
  ]);
  return e.node("Add", [a, b]);
}

export const geluEmitter: OpEmitter = {
  forward: (e, [x], op) => geluOnnx(e, x!, op.attrs["form"] as GeluForm),
  backward: (e, g, [x], _y, op) => [
    e.node("Mul", [g, geluDerivativeOnnx(e, x!, op.attrs["form"] as GeluForm)]),
  ],
};
