// Element-wise kernels: add, mul, axpy, GELU and its derivative.
// Chunk c of C is the c-th of C contiguous shares of the elements.
import { E_ALPHA, E_FORM, E_LEN, E_OUT, E_X, E_Y, I_G } from "../layout";
import { expHalfSquare, expv, twoPhi } from "./math";
import {
  field,
  field64,
  high64,
  loadPartial,
  low64,
  pack32,
  pointer,
  shareEnd,
  shareStart,
  storePartial,
} from "./simd";

const SQRT_2_OVER_PI: f32 = 0.7978845608028654;
const INV_SQRT_2PI: f32 = 0.3989422804014327;
const GELU_C: f32 = 0.044715;

export function add(desc: usize, chunk: i32, chunks: i32): void {
  const x = pointer(desc, E_X);
  const y = pointer(desc, E_Y);
  const out = pointer(desc, E_OUT);
  const len = field(desc, E_LEN);
  const end = shareEnd(len, chunk, chunks, 4);
  let i = shareStart(len, chunk, chunks, 4);
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.add(v128.load(x + o), v128.load(y + o)));
  }
  for (; i < end; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(x + o) + load<f32>(y + o));
  }
}

export function mul(desc: usize, chunk: i32, chunks: i32): void {
  const x = pointer(desc, E_X);
  const y = pointer(desc, E_Y);
  const out = pointer(desc, E_OUT);
  const len = field(desc, E_LEN);
  const end = shareEnd(len, chunk, chunks, 4);
  let i = shareStart(len, chunk, chunks, 4);
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.mul(v128.load(x + o), v128.load(y + o)));
  }
  for (; i < end; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(x + o) * load<f32>(y + o));
  }
}

/** y += alpha·x, in float64 like the reference (alpha is a float64), rounded once. */
export function axpy(desc: usize, chunk: i32, chunks: i32): void {
  const x = pointer(desc, E_X);
  const y = pointer(desc, E_Y);
  const len = field(desc, E_LEN);
  const alpha = field64(desc, E_ALPHA);
  const a = f64x2.splat(alpha);
  const end = shareEnd(len, chunk, chunks, 4);
  let i = shareStart(len, chunk, chunks, 4);
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    const xv = v128.load(x + o);
    const yv = v128.load(y + o);
    const lo = f64x2.add(low64(yv), f64x2.mul(a, low64(xv)));
    const hi = f64x2.add(high64(yv), f64x2.mul(a, high64(xv)));
    v128.store(y + o, pack32(lo, hi));
  }
  for (; i < end; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, <f32>(<f64>load<f32>(y + o) + alpha * <f64>load<f32>(x + o)));
  }
}

/**
 * GELU of one vector: erf form 0.5·x·2Φ(x); tanh form x·σ(2u) = 0.5·x·(1 + tanh u) with
 * u = √(2/π)(x + 0.044715x³).
 */
@inline function geluVector(x: v128, tanhForm: bool): v128 {
  if (tanhForm) {
    const u2 = f32x4.mul(
      f32x4.mul(x, f32x4.splat(2 * SQRT_2_OVER_PI)),
      f32x4.add(f32x4.splat(1), f32x4.mul(f32x4.splat(GELU_C), f32x4.mul(x, x))),
    );
    return f32x4.div(x, f32x4.add(f32x4.splat(1), expv(f32x4.neg(u2))));
  }
  return f32x4.mul(f32x4.mul(x, f32x4.splat(0.5)), twoPhi(x, expHalfSquare(x)));
}

/**
 * GELU′ of one vector. erf form: Φ(x) + x·φ(x). tanh form with s = σ(2u), E = e^(−2u):
 * 0.5(1 + tanh u) + 0.5x(1 − tanh²u)u′ = s + 2x·s·(E·s)·u′.
 */
@inline function geluDerivativeVector(x: v128, tanhForm: bool): v128 {
  const x2 = f32x4.mul(x, x);
  if (tanhForm) {
    const u2 = f32x4.mul(
      f32x4.mul(x, f32x4.splat(2 * SQRT_2_OVER_PI)),
      f32x4.add(f32x4.splat(1), f32x4.mul(f32x4.splat(GELU_C), x2)),
    );
    const e = expv(f32x4.neg(u2));
    const s = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), e));
    const du = f32x4.mul(
      f32x4.splat(SQRT_2_OVER_PI),
      f32x4.add(f32x4.splat(1), f32x4.mul(f32x4.splat(3 * GELU_C), x2)),
    );
    return f32x4.add(s, f32x4.mul(f32x4.mul(f32x4.add(x, x), s), f32x4.mul(f32x4.mul(e, s), du)));
  }
  const e = expHalfSquare(x);
  const phi = f32x4.mul(twoPhi(x, e), f32x4.splat(0.5));
  return f32x4.add(phi, f32x4.mul(x, f32x4.mul(e, f32x4.splat(INV_SQRT_2PI))));
}

export function gelu(desc: usize, chunk: i32, chunks: i32): void {
  const x = pointer(desc, E_X);
  const out = pointer(desc, E_OUT);
  const len = field(desc, E_LEN);
  const tanhForm = field(desc, E_FORM) != 0;
  const end = shareEnd(len, chunk, chunks, 4);
  let i = shareStart(len, chunk, chunks, 4);
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, geluVector(v128.load(x + o), tanhForm));
  }
  if (i < end) {
    const o = <usize>i << 2;
    storePartial(out + o, geluVector(loadPartial(x + o, end - i, 0), tanhForm), end - i);
  }
}

export function geluBackward(desc: usize, chunk: i32, chunks: i32): void {
  const x = pointer(desc, E_X);
  const g = pointer(desc, E_Y);
  const out = pointer(desc, E_OUT);
  const len = field(desc, E_LEN);
  const tanhForm = field(desc, E_FORM) != 0;
  const end = shareEnd(len, chunk, chunks, 4);
  let i = shareStart(len, chunk, chunks, 4);
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.mul(v128.load(g + o), geluDerivativeVector(v128.load(x + o), tanhForm)));
  }
  if (i < end) {
    const o = <usize>i << 2;
    const d = geluDerivativeVector(loadPartial(x + o, end - i, 0), tanhForm);
    storePartial(out + o, f32x4.mul(loadPartial(g + o, end - i, 0), d), end - i);
  }
}

/** gz = g · y/z (g · atZero where z = 0), in float64 like the reference, rounded once. */
export function identityBackward(desc: usize, chunk: i32, chunks: i32): void {
  const z = pointer(desc, E_X);
  const y = pointer(desc, E_Y);
  const gz = pointer(desc, E_OUT);
  const g = pointer(desc, I_G);
  const len = field(desc, E_LEN);
  const atZero = field64(desc, E_ALPHA);
  const a = f64x2.splat(atZero);
  const zero = f64x2.splat(0);
  const end = shareEnd(len, chunk, chunks, 4);
  let i = shareStart(len, chunk, chunks, 4);
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    const zv = v128.load(z + o);
    const yv = v128.load(y + o);
    const gv = v128.load(g + o);
    const z0 = low64(zv);
    const z1 = high64(zv);
    const r0 = v128.bitselect(a, f64x2.div(low64(yv), z0), f64x2.eq(z0, zero));
    const r1 = v128.bitselect(a, f64x2.div(high64(yv), z1), f64x2.eq(z1, zero));
    v128.store(gz + o, pack32(f64x2.mul(low64(gv), r0), f64x2.mul(high64(gv), r1)));
  }
  for (; i < end; i++) {
    const o = <usize>i << 2;
    const zi = <f64>load<f32>(z + o);
    const r = zi == 0 ? atZero : <f64>load<f32>(y + o) / zi;
    store<f32>(gz + o, <f32>(<f64>load<f32>(g + o) * r));
  }
}
