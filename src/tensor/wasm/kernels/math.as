import { high64, low64, pack32 } from "./simd";

// Vector float32 exp and the Gaussian CDF that the GELU kernels need, accurate to a few float32 ulp.
//
// exp: e^x = 2^n · e^r with n = round(x·log₂e) and r = x − n·ln2 reduced in two steps (ln2 = hi + lo,
// hi exact in 9 bits so that n·hi is exact); e^r by its Taylor series to r⁷ (|r| ≤ ln2/2, truncation
// error < 6e-9).
//
// Φ: the erf of special.ts (W. J. Cody's rational approximations) evaluated in float32 — three
// regions of |x|/√2 (< 0.5, < 4, ≥ 4). The factor exp(−x²/2) is formed from an exact x² (x split into
// its top 12 mantissa bits and the rest) so that no rounding of x² is magnified by the exponential.

const LOG2E: f32 = 1.4426950408889634;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.1219444005469057e-4;
/** ln(smallest normal float32): below it the result is flushed to 0. */
const EXP_MIN: f32 = -87.33654475;
/** e^88 ≈ 1.65e38 < FLT_MAX; larger arguments are clamped (callers only need "huge"). */
const EXP_MAX: f32 = 88;
const INV_SQRT2: f32 = 0.7071067811865476;
const INV_SQRT_PI: f32 = 0.5641895835477563;

@inline function splat(v: f32): v128 {
  return f32x4.splat(v);
}

/** 1.5·2²³: adding it rounds a float32 below 2²² in magnitude to an integer in the low mantissa bits. */
const ROUNDER: f32 = 12582912;

/**
 * e^(hi + lo) for |lo| ≪ 1, without rounding hi + lo: r = (hi − n·ln2_hi) + lo − n·ln2_lo. Lanes with
 * hi below ln(FLT_MIN) (−∞ included, whatever lo is) give 0; hi above 88 gives e^88 ≈ 1.65e38 (finite,
 * so that callers may form E/(1 + E) safely).
 * pmin/pmax (one instruction each) rather than min/max, whose NaN rules cost V8 several.
 */
@inline export function expSplit(hi: v128, lo: v128): v128 {
  const under = f32x4.lt(hi, splat(EXP_MIN));
  const x = f32x4.pmin(f32x4.pmax(f32x4.add(hi, lo), splat(EXP_MIN)), splat(EXP_MAX));
  // t = n + 1.5·2²³ exactly, n = round(x·log₂e); its bit pattern shifted left by 23 is n·2²³
  const t = f32x4.add(f32x4.mul(x, splat(LOG2E)), splat(ROUNDER));
  const n = f32x4.sub(t, splat(ROUNDER));
  const h = f32x4.pmin(hi, splat(EXP_MAX));
  const r = f32x4.sub(f32x4.add(f32x4.sub(h, f32x4.mul(n, splat(LN2_HI))), lo), f32x4.mul(n, splat(LN2_LO)));
  let p = splat(1.0 / 5040.0);
  p = f32x4.add(f32x4.mul(p, r), splat(1.0 / 720.0));
  p = f32x4.add(f32x4.mul(p, r), splat(1.0 / 120.0));
  p = f32x4.add(f32x4.mul(p, r), splat(1.0 / 24.0));
  p = f32x4.add(f32x4.mul(p, r), splat(1.0 / 6.0));
  p = f32x4.add(f32x4.mul(p, r), splat(0.5));
  p = f32x4.add(f32x4.mul(p, r), splat(1));
  p = f32x4.add(f32x4.mul(p, r), splat(1));
  const scale = i32x4.add(i32x4.shl(t, 23), i32x4.splat(127 << 23));
  return v128.andnot(f32x4.mul(p, scale), under);
}

@inline export function expv(x: v128): v128 {
  return expSplit(x, f32x4.splat(0));
}

/** a − b as an unevaluated sum hi + lo (Knuth's TwoSum), for an exp whose argument is a difference. */
@inline export function expDiff(a: v128, b: v128): v128 {
  const nb = f32x4.neg(b);
  const s = f32x4.add(a, nb);
  const bb = f32x4.sub(s, a);
  const err = f32x4.add(f32x4.sub(a, f32x4.sub(s, bb)), f32x4.sub(nb, bb));
  return expSplit(s, err);
}

/** exp(−x²/2), with x² formed exactly as xh² + (x − xh)(x + xh), xh = x rounded down to 12 bits. */
@inline export function expHalfSquare(x: v128): v128 {
  const xh = v128.and(x, i32x4.splat(0xfffff000));
  const hi = f32x4.mul(f32x4.mul(xh, xh), splat(-0.5));
  const lo = f32x4.mul(f32x4.mul(f32x4.sub(x, xh), f32x4.add(x, xh)), splat(-0.5));
  return expSplit(hi, lo);
}

/** P(y)/Q(y) of Cody's erfc for 0.5 ≤ y < 4, on two float64 lanes. */
@inline function midRatio(y: v128): v128 {
  let num = f64x2.splat(2.15311535474403846e-8);
  num = f64x2.add(f64x2.mul(num, y), f64x2.splat(0.564188496988670089));
  num = f64x2.add(f64x2.mul(num, y), f64x2.splat(8.88314979438837594));
  num = f64x2.add(f64x2.mul(num, y), f64x2.splat(66.1191906371416295));
  num = f64x2.add(f64x2.mul(num, y), f64x2.splat(298.635138197400131));
  num = f64x2.add(f64x2.mul(num, y), f64x2.splat(881.95222124176909));
  num = f64x2.add(f64x2.mul(num, y), f64x2.splat(1712.04761263407058));
  num = f64x2.add(f64x2.mul(num, y), f64x2.splat(2051.07837782607147));
  num = f64x2.add(f64x2.mul(num, y), f64x2.splat(1230.33935479799725));
  let den = f64x2.add(y, f64x2.splat(15.7449261107098347));
  den = f64x2.add(f64x2.mul(den, y), f64x2.splat(117.693950891312499));
  den = f64x2.add(f64x2.mul(den, y), f64x2.splat(537.181101862009858));
  den = f64x2.add(f64x2.mul(den, y), f64x2.splat(1621.38957456669019));
  den = f64x2.add(f64x2.mul(den, y), f64x2.splat(3290.79923573345963));
  den = f64x2.add(f64x2.mul(den, y), f64x2.splat(4362.61909014324716));
  den = f64x2.add(f64x2.mul(den, y), f64x2.splat(3439.36767414372164));
  den = f64x2.add(f64x2.mul(den, y), f64x2.splat(1230.33935480374942));
  return f64x2.div(num, den);
}

/**
 * 2·Φ(x) = 1 + erf(x/√2), given e = exp(−x²/2). The two common regions are both evaluated and blended
 * (a branch per vector mispredicts on mixed data); the far tail only when some lane needs it.
 */
@inline export function twoPhi(x: v128, e: v128): v128 {
  const y = f32x4.mul(f32x4.abs(x), splat(INV_SQRT2));
  // 0.5 ≤ |y| < 4: erfc(|y|) = exp(−y²) · P(|y|)/Q(|y|), the rational in float64 (in float32 its
  // 16 Horner steps alone cost up to 4e-7)
  const erfc = f32x4.mul(e, pack32(midRatio(low64(y)), midRatio(high64(y))));
  let c = erfc;
  const large = f32x4.ge(y, splat(4));
  if (v128.any_true(large)) {
    // |y| ≥ 4: erfc(|y|) = exp(−y²)/|y| · (1/√π − z·P(z)/Q(z)), z = 1/y² = 2/x²
    const z = f32x4.div(splat(2), f32x4.mul(x, x));
    let pn = splat(0.0163153871373020978);
    pn = f32x4.add(f32x4.mul(pn, z), splat(0.305326634961232344));
    pn = f32x4.add(f32x4.mul(pn, z), splat(0.360344899949804439));
    pn = f32x4.add(f32x4.mul(pn, z), splat(0.125781726111229246));
    pn = f32x4.add(f32x4.mul(pn, z), splat(0.0160837851487422766));
    pn = f32x4.add(f32x4.mul(pn, z), splat(6.58749161529837803e-4));
    let pd = f32x4.add(z, splat(2.56852019228982242));
    pd = f32x4.add(f32x4.mul(pd, z), splat(1.87295284992346725));
    pd = f32x4.add(f32x4.mul(pd, z), splat(0.527905102951428412));
    pd = f32x4.add(f32x4.mul(pd, z), splat(0.0605183413124413191));
    pd = f32x4.add(f32x4.mul(pd, z), splat(2.33520497626869185e-3));
    const tail = f32x4.sub(splat(INV_SQRT_PI), f32x4.div(f32x4.mul(z, pn), pd));
    c = v128.bitselect(f32x4.mul(f32x4.div(e, y), tail), erfc, large);
  }
  // 1 + erf(y) = 2 − erfc(y) for y ≥ 0, erfc(|y|) for y < 0
  const wide = v128.bitselect(f32x4.sub(splat(2), c), c, f32x4.ge(x, splat(0)));
  // |y| < 0.5: erf(y) = y · P(y²)/Q(y²)
  const ys = f32x4.mul(x, splat(INV_SQRT2));
  const t = f32x4.mul(ys, ys);
  let sn = splat(0.185777706184603153);
  sn = f32x4.add(f32x4.mul(sn, t), splat(3.1611237438705656));
  sn = f32x4.add(f32x4.mul(sn, t), splat(113.864154151050156));
  sn = f32x4.add(f32x4.mul(sn, t), splat(377.485237685302021));
  sn = f32x4.add(f32x4.mul(sn, t), splat(3209.37758913846947));
  let sd = f32x4.add(t, splat(23.6012909523441209));
  sd = f32x4.add(f32x4.mul(sd, t), splat(244.024637934444173));
  sd = f32x4.add(f32x4.mul(sd, t), splat(1282.61652607737228));
  sd = f32x4.add(f32x4.mul(sd, t), splat(2844.23683343917062));
  const near = f32x4.add(splat(1), f32x4.div(f32x4.mul(ys, sn), sd));
  return v128.bitselect(near, wide, f32x4.lt(y, splat(0.5)));
}
