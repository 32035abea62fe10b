// Row-wise kernels: softmax, its backward, layer norm. Chunk c of C is the c-th of C contiguous shares
// of rows. Sums run in float64 (as in the reference), so only the final rounding differs.
import {
  E_COLS,
  E_LEN,
  E_OUT,
  E_X,
  E_Y,
  L_BIAS,
  L_DENOM,
  L_EPS,
  L_FLAGS,
  L_FORM,
  L_MEAN,
  L_WEIGHT,
  R_SCALE,
} from "../layout";
import { expDiff } from "./math";
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
  sum64,
} from "./simd";

/** out = exp(x − max)/Σ exp(x − max) per row; a row of −∞ becomes uniform. */
export function softmax(desc: usize, chunk: i32, chunks: i32): void {
  const x = pointer(desc, E_X);
  const out = pointer(desc, E_OUT);
  const rows = field(desc, E_LEN);
  const cols = field(desc, E_COLS);
  const n4 = cols & ~3;
  const rest = cols - n4;
  const rowBytes = <usize>cols << 2;
  const last = shareEnd(rows, chunk, chunks, 1);
  for (let r = shareStart(rows, chunk, chunks, 1); r < last; r++) {
    const xr = x + <usize>r * rowBytes;
    const or = out + <usize>r * rowBytes;
    // pmax(m, v) = m < v ? v : m skips NaN like the reference's `x > max`
    let mv = f32x4.splat(-Infinity);
    for (let j = 0; j < n4; j += 4) mv = f32x4.pmax(mv, v128.load(xr + (<usize>j << 2)));
    if (rest) mv = f32x4.pmax(mv, loadPartial(xr + (<usize>n4 << 2), rest, -Infinity));
    let max = f32x4.extract_lane(mv, 0);
    if (f32x4.extract_lane(mv, 1) > max) max = f32x4.extract_lane(mv, 1);
    if (f32x4.extract_lane(mv, 2) > max) max = f32x4.extract_lane(mv, 2);
    if (f32x4.extract_lane(mv, 3) > max) max = f32x4.extract_lane(mv, 3);
    if (max == -Infinity) {
      const u: f32 = <f32>(1.0 / <f64>cols);
      for (let j = 0; j < cols; j++) store<f32>(or + (<usize>j << 2), u);
      continue;
    }
    const m = f32x4.splat(max);
    let s0 = f64x2.splat(0);
    let s1 = f64x2.splat(0);
    for (let j = 0; j < n4; j += 4) {
      const o = <usize>j << 2;
      const e = expDiff(v128.load(xr + o), m);
      v128.store(or + o, e);
      s0 = f64x2.add(s0, low64(e));
      s1 = f64x2.add(s1, high64(e));
    }
    if (rest) {
      const o = <usize>n4 << 2;
      const e = expDiff(loadPartial(xr + o, rest, -Infinity), m);
      storePartial(or + o, e, rest);
      s0 = f64x2.add(s0, low64(e));
      s1 = f64x2.add(s1, high64(e));
    }
    const inv = f32x4.splat(<f32>(1.0 / sum64(f64x2.add(s0, s1))));
    for (let j = 0; j < n4; j += 4) {
      const o = or + (<usize>j << 2);
      v128.store(o, f32x4.mul(v128.load(o), inv));
    }
    if (rest) {
      const o = or + (<usize>n4 << 2);
      storePartial(o, f32x4.mul(loadPartial(o, rest, 0), inv), rest);
    }
  }
}

/** gx = p ⊙ (gp − Σ_j gp_j p_j) per row. */
export function softmaxBackward(desc: usize, chunk: i32, chunks: i32): void {
  const p = pointer(desc, E_X);
  const gp = pointer(desc, E_Y);
  const gx = pointer(desc, E_OUT);
  const rows = field(desc, E_LEN);
  const cols = field(desc, E_COLS);
  const n4 = cols & ~3;
  const rest = cols - n4;
  const rowBytes = <usize>cols << 2;
  const last = shareEnd(rows, chunk, chunks, 1);
  for (let r = shareStart(rows, chunk, chunks, 1); r < last; r++) {
    const o = <usize>r * rowBytes;
    let d0 = f64x2.splat(0);
    let d1 = f64x2.splat(0);
    for (let j = 0; j < n4; j += 4) {
      const q = o + (<usize>j << 2);
      const pv = v128.load(p + q);
      const gv = v128.load(gp + q);
      d0 = f64x2.add(d0, f64x2.mul(low64(pv), low64(gv)));
      d1 = f64x2.add(d1, f64x2.mul(high64(pv), high64(gv)));
    }
    const tail = o + (<usize>n4 << 2);
    const pt = loadPartial(p + tail, rest, 0);
    const gt = loadPartial(gp + tail, rest, 0);
    d0 = f64x2.add(d0, f64x2.mul(low64(pt), low64(gt)));
    d1 = f64x2.add(d1, f64x2.mul(high64(pt), high64(gt)));
    const dot = f64x2.splat(sum64(f64x2.add(d0, d1)));
    for (let j = 0; j < n4; j += 4) {
      const q = o + (<usize>j << 2);
      const pv = v128.load(p + q);
      const gv = v128.load(gp + q);
      const lo = f64x2.mul(low64(pv), f64x2.sub(low64(gv), dot));
      const hi = f64x2.mul(high64(pv), f64x2.sub(high64(gv), dot));
      v128.store(gx + q, pack32(lo, hi));
    }
    if (rest) {
      const lo = f64x2.mul(low64(pt), f64x2.sub(low64(gt), dot));
      const hi = f64x2.mul(high64(pt), f64x2.sub(high64(gt), dot));
      storePartial(gx + tail, pack32(lo, hi), rest);
    }
  }
}

/**
 * Layer norm per row: y = (x − mean)/denom · weight + bias, denom = √(biased var + eps) ("bert") or
 * unbiased std + eps ("paper"); statistics and the normalisation in float64.
 */
export function layerNorm(desc: usize, chunk: i32, chunks: i32): void {
  const x = pointer(desc, E_X);
  const out = pointer(desc, E_OUT);
  const rows = field(desc, E_LEN);
  const cols = field(desc, E_COLS);
  const weight = pointer(desc, L_WEIGHT);
  const bias = pointer(desc, L_BIAS);
  const mean = pointer(desc, L_MEAN);
  const denomOut = pointer(desc, L_DENOM);
  const paper = field(desc, L_FORM) != 0;
  const eps = field64(desc, L_EPS);
  const n4 = cols & ~3;
  const rest = cols - n4;
  const rowBytes = <usize>cols << 2;
  const last = shareEnd(rows, chunk, chunks, 1);
  for (let r = shareStart(rows, chunk, chunks, 1); r < last; r++) {
    const xr = x + <usize>r * rowBytes;
    const or = out + <usize>r * rowBytes;
    let s0 = f64x2.splat(0);
    let s1 = f64x2.splat(0);
    for (let j = 0; j < n4; j += 4) {
      const v = v128.load(xr + (<usize>j << 2));
      s0 = f64x2.add(s0, low64(v));
      s1 = f64x2.add(s1, high64(v));
    }
    const xt = loadPartial(xr + (<usize>n4 << 2), rest, 0);
    const mu = sum64(f64x2.add(f64x2.add(s0, s1), f64x2.add(low64(xt), high64(xt)))) / <f64>cols;
    const m = f64x2.splat(mu);
    s0 = f64x2.splat(0);
    s1 = f64x2.splat(0);
    for (let j = 0; j < n4; j += 4) {
      const v = v128.load(xr + (<usize>j << 2));
      const d0 = f64x2.sub(low64(v), m);
      const d1 = f64x2.sub(high64(v), m);
      s0 = f64x2.add(s0, f64x2.mul(d0, d0));
      s1 = f64x2.add(s1, f64x2.mul(d1, d1));
    }
    let ss = sum64(f64x2.add(s0, s1));
    for (let j = n4; j < cols; j++) {
      const d = <f64>load<f32>(xr + (<usize>j << 2)) - mu;
      ss += d * d;
    }
    const denom = paper ? Math.sqrt(ss / <f64>max(cols - 1, 1)) + eps : Math.sqrt(ss / <f64>cols + eps);
    store<f32>(mean + (<usize>r << 2), <f32>mu);
    store<f32>(denomOut + (<usize>r << 2), <f32>denom);
    const inv = f64x2.splat(1 / denom);
    for (let j = 0; j < cols; j += 4) {
      const o = <usize>j << 2;
      const count = min(4, cols - j);
      const v = count == 4 ? v128.load(xr + o) : loadPartial(xr + o, count, 0);
      let lo = f64x2.mul(f64x2.sub(low64(v), m), inv);
      let hi = f64x2.mul(f64x2.sub(high64(v), m), inv);
      if (weight) {
        const w = count == 4 ? v128.load(weight + o) : loadPartial(weight + o, count, 0);
        lo = f64x2.mul(lo, low64(w));
        hi = f64x2.mul(hi, high64(w));
      }
      if (bias) {
        const b = count == 4 ? v128.load(bias + o) : loadPartial(bias + o, count, 0);
        lo = f64x2.add(lo, low64(b));
        hi = f64x2.add(hi, high64(b));
      }
      const y = pack32(lo, hi);
      if (count == 4) v128.store(or + o, y);
      else storePartial(or + o, y, count);
    }
  }
}

/**
 * Layer norm's input gradient per row, in float64 like the reference: with g = gy ⊙ weight,
 * gx = (g − mean(g))/d − (x − μ)·Σ g(x − μ)/(k·s·d²), d the denominator, s the std without eps,
 * k = cols ("bert") or cols − 1 ("paper"); flags drop the mean term and the std term.
 */
export function layerNormBackward(desc: usize, chunk: i32, chunks: i32): void {
  const x = pointer(desc, E_X);
  const gy = pointer(desc, E_Y);
  const gx = pointer(desc, E_OUT);
  const rows = field(desc, E_LEN);
  const cols = field(desc, E_COLS);
  const weight = pointer(desc, L_WEIGHT);
  const mean = pointer(desc, L_MEAN);
  const denomIn = pointer(desc, L_DENOM);
  const paper = field(desc, L_FORM) != 0;
  const eps = field64(desc, L_EPS);
  const flags = field(desc, L_FLAGS);
  const constantStd = (flags & 1) != 0;
  const constantMean = (flags & 2) != 0;
  const k = paper ? <f64>max(cols - 1, 1) : <f64>cols;
  const n4 = cols & ~3;
  const rowBytes = <usize>cols << 2;
  const one = f32x4.splat(1);
  const last = shareEnd(rows, chunk, chunks, 1);
  for (let r = shareStart(rows, chunk, chunks, 1); r < last; r++) {
    const xr = x + <usize>r * rowBytes;
    const gr = gy + <usize>r * rowBytes;
    const or = gx + <usize>r * rowBytes;
    const mu = <f64>load<f32>(mean + (<usize>r << 2));
    const d = <f64>load<f32>(denomIn + (<usize>r << 2));
    const s = paper ? d - eps : d;
    const m = f64x2.splat(mu);
    let sm0 = f64x2.splat(0);
    let sm1 = f64x2.splat(0);
    let sd0 = f64x2.splat(0);
    let sd1 = f64x2.splat(0);
    for (let j = 0; j < n4; j += 4) {
      const o = <usize>j << 2;
      const w = weight ? v128.load(weight + o) : one;
      const gv = v128.load(gr + o);
      const xv = v128.load(xr + o);
      const g0 = f64x2.mul(low64(gv), low64(w));
      const g1 = f64x2.mul(high64(gv), high64(w));
      sm0 = f64x2.add(sm0, g0);
      sm1 = f64x2.add(sm1, g1);
      sd0 = f64x2.add(sd0, f64x2.mul(g0, f64x2.sub(low64(xv), m)));
      sd1 = f64x2.add(sd1, f64x2.mul(g1, f64x2.sub(high64(xv), m)));
    }
    let gSum = sum64(f64x2.add(sm0, sm1));
    let gDot = sum64(f64x2.add(sd0, sd1));
    for (let j = n4; j < cols; j++) {
      const o = <usize>j << 2;
      const g = <f64>load<f32>(gr + o) * (weight ? <f64>load<f32>(weight + o) : 1.0);
      gSum += g;
      gDot += g * (<f64>load<f32>(xr + o) - mu);
    }
    const meanTerm = f64x2.splat(constantMean ? 0 : gSum / <f64>cols);
    const stdCoef = f64x2.splat(constantStd || s == 0 ? 0 : gDot / (k * s * d * d));
    const dv = f64x2.splat(d);
    for (let j = 0; j < cols; j += 4) {
      const o = <usize>j << 2;
      const count = min(4, cols - j);
      const w = weight ? (count == 4 ? v128.load(weight + o) : loadPartial(weight + o, count, 0)) : one;
      const gv = count == 4 ? v128.load(gr + o) : loadPartial(gr + o, count, 0);
      const xv = count == 4 ? v128.load(xr + o) : loadPartial(xr + o, count, 0);
      const lo = f64x2.sub(
        f64x2.div(f64x2.sub(f64x2.mul(low64(gv), low64(w)), meanTerm), dv),
        f64x2.mul(f64x2.sub(low64(xv), m), stdCoef),
      );
      const hi = f64x2.sub(
        f64x2.div(f64x2.sub(f64x2.mul(high64(gv), high64(w)), meanTerm), dv),
        f64x2.mul(f64x2.sub(high64(xv), m), stdCoef),
      );
      const y = pack32(lo, hi);
      if (count == 4) v128.store(or + o, y);
      else storePartial(or + o, y, count);
    }
  }
}

/** RMS norm per row, in float64 like the reference: r = 1/√(Σx²/cols + eps) (kept), y = x·r·weight. */
export function rmsNorm(desc: usize, chunk: i32, chunks: i32): void {
  const x = pointer(desc, E_X);
  const out = pointer(desc, E_OUT);
  const rows = field(desc, E_LEN);
  const cols = field(desc, E_COLS);
  const weight = pointer(desc, L_WEIGHT);
  const scale = pointer(desc, R_SCALE);
  const eps = field64(desc, L_EPS);
  const n4 = cols & ~3;
  const rowBytes = <usize>cols << 2;
  const last = shareEnd(rows, chunk, chunks, 1);
  for (let row = shareStart(rows, chunk, chunks, 1); row < last; row++) {
    const xr = x + <usize>row * rowBytes;
    const or = out + <usize>row * rowBytes;
    let s0 = f64x2.splat(0);
    let s1 = f64x2.splat(0);
    for (let j = 0; j < n4; j += 4) {
      const v = v128.load(xr + (<usize>j << 2));
      const lo = low64(v);
      const hi = high64(v);
      s0 = f64x2.add(s0, f64x2.mul(lo, lo));
      s1 = f64x2.add(s1, f64x2.mul(hi, hi));
    }
    let ss = sum64(f64x2.add(s0, s1));
    for (let j = n4; j < cols; j++) {
      const v = <f64>load<f32>(xr + (<usize>j << 2));
      ss += v * v;
    }
    const r = 1 / Math.sqrt(ss / <f64>cols + eps);
    store<f64>(scale + (<usize>row << 3), r);
    const rv = f64x2.splat(r);
    for (let j = 0; j < cols; j += 4) {
      const o = <usize>j << 2;
      const count = min(4, cols - j);
      const v = count == 4 ? v128.load(xr + o) : loadPartial(xr + o, count, 0);
      let lo = f64x2.mul(low64(v), rv);
      let hi = f64x2.mul(high64(v), rv);
      if (weight) {
        const w = count == 4 ? v128.load(weight + o) : loadPartial(weight + o, count, 0);
        lo = f64x2.mul(lo, low64(w));
        hi = f64x2.mul(hi, high64(w));
      }
      const y = pack32(lo, hi);
      if (count == 4) v128.store(or + o, y);
      else storePartial(or + o, y, count);
    }
  }
}

/** RMS norm's input gradient per row: gx = r·(gy⊙w) − x·r³/cols·Σ(gy⊙w)x (the last term dropped with r held constant). */
export function rmsNormBackward(desc: usize, chunk: i32, chunks: i32): void {
  const x = pointer(desc, E_X);
  const gy = pointer(desc, E_Y);
  const gx = pointer(desc, E_OUT);
  const rows = field(desc, E_LEN);
  const cols = field(desc, E_COLS);
  const weight = pointer(desc, L_WEIGHT);
  const scale = pointer(desc, R_SCALE);
  const constant = (field(desc, L_FLAGS) & 1) != 0;
  const n4 = cols & ~3;
  const rowBytes = <usize>cols << 2;
  const one = f32x4.splat(1);
  const last = shareEnd(rows, chunk, chunks, 1);
  for (let row = shareStart(rows, chunk, chunks, 1); row < last; row++) {
    const xr = x + <usize>row * rowBytes;
    const gr = gy + <usize>row * rowBytes;
    const or = gx + <usize>row * rowBytes;
    const r = load<f64>(scale + (<usize>row << 3));
    let coef: f64 = 0;
    if (!constant) {
      let d0 = f64x2.splat(0);
      let d1 = f64x2.splat(0);
      for (let j = 0; j < n4; j += 4) {
        const o = <usize>j << 2;
        const w = weight ? v128.load(weight + o) : one;
        const gv = v128.load(gr + o);
        const xv = v128.load(xr + o);
        d0 = f64x2.add(d0, f64x2.mul(f64x2.mul(low64(gv), low64(w)), low64(xv)));
        d1 = f64x2.add(d1, f64x2.mul(f64x2.mul(high64(gv), high64(w)), high64(xv)));
      }
      let dot = sum64(f64x2.add(d0, d1));
      for (let j = n4; j < cols; j++) {
        const o = <usize>j << 2;
        const g = <f64>load<f32>(gr + o) * (weight ? <f64>load<f32>(weight + o) : 1.0);
        dot += g * <f64>load<f32>(xr + o);
      }
      coef = (dot * r * r * r) / <f64>cols;
    }
    const rv = f64x2.splat(r);
    const cv = f64x2.splat(coef);
    for (let j = 0; j < cols; j += 4) {
      const o = <usize>j << 2;
      const count = min(4, cols - j);
      const w = weight ? (count == 4 ? v128.load(weight + o) : loadPartial(weight + o, count, 0)) : one;
      const gv = count == 4 ? v128.load(gr + o) : loadPartial(gr + o, count, 0);
      const xv = count == 4 ? v128.load(xr + o) : loadPartial(xr + o, count, 0);
      const lo = f64x2.sub(f64x2.mul(f64x2.mul(low64(gv), low64(w)), rv), f64x2.mul(low64(xv), cv));
      const hi = f64x2.sub(f64x2.mul(f64x2.mul(high64(gv), high64(w)), rv), f64x2.mul(high64(xv), cv));
      const y = pack32(lo, hi);
      if (count == 4) v128.store(or + o, y);
      else storePartial(or + o, y, count);
    }
  }
}
