// Small SIMD helpers shared by the kernels.

/** a·b + c: fused (relaxed SIMD) when the build enables it, a multiply then an add otherwise. */
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/** Transpose the 4×4 block whose rows are r0…r3 and store its rows at dst, dst+stride, … (bytes). */
@inline export function transpose4(r0: v128, r1: v128, r2: v128, r3: v128, dst: usize, stride: usize): void {
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(dst + stride, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(dst + 2 * stride, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * stride, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
}

/** The first `count` (0…3) floats at p in lanes 0…count−1, `fill` in the others. */
@inline export function loadPartial(p: usize, count: i32, fill: f32): v128 {
  let v = f32x4.splat(fill);
  if (count > 0) v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (count > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (count > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

/** Store lanes 0…count−1 (count 0…3) of v at p. */
@inline export function storePartial(p: usize, v: v128, count: i32): void {
  if (count > 0) store<f32>(p, f32x4.extract_lane(v, 0));
  if (count > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (count > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/** Lanes 0–1 of a float32 vector as float64. */
@inline export function low64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

/** Lanes 2–3 of a float32 vector as float64. */
@inline export function high64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
}

/** Two float64 vectors rounded into one float32 vector (lo → lanes 0–1, hi → lanes 2–3). */
@inline export function pack32(lo: v128, hi: v128): v128 {
  return v128.shuffle<i64>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 2);
}

/** Sum of the two float64 lanes. */
@inline export function sum64(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

/** Start of share `part` of [0, len) cut into `parts`, on a multiple of `align`. */
@inline export function shareStart(len: i32, part: i32, parts: i32, align: i32): i32 {
  if (part == 0) return 0;
  if (part >= parts) return len;
  const s = <i32>((<i64>len * part) / parts);
  return min(len, s - (s % align));
}

/** End of share `part` (the start of the next). */
@inline export function shareEnd(len: i32, part: i32, parts: i32, align: i32): i32 {
  return shareStart(len, part + 1, parts, align);
}

@inline export function field(desc: usize, slot: i32): i32 {
  return load<i32>(desc + (<usize>slot << 2));
}

@inline export function pointer(desc: usize, slot: i32): usize {
  return <usize>load<i32>(desc + (<usize>slot << 2));
}

@inline export function field64(desc: usize, slot: i32): f64 {
  return load<f64>(desc + (<usize>slot << 2));
}
