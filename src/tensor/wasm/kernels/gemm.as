// GEMM: C[m×n] (+)= op(A)[m×k] · op(B)[k×n], batched, on WebAssembly SIMD.
//
// The classic blocked scheme (Goto & van de Geijn): a KC×NC block of op(B) is packed into column
// panels NR wide, an MC×KC block of op(A) into row panels MR tall; a register-tiled micro-kernel then
// computes each MR×NR tile of C from one A panel and one B panel with unit-stride loads. Packing
// absorbs the transposes, so all four transpose cases run the same micro-kernel.
import {
  G_A,
  G_ACCUMULATE,
  G_B,
  G_BIAS,
  G_C,
  G_K,
  G_M,
  G_N,
  G_SCRATCH,
  G_SCRATCH_STRIDE,
  G_STRIDE_A,
  G_STRIDE_B,
  G_STRIDE_C,
  G_TRANS_A,
  G_TILE_M,
  G_TILE_N,
  G_TRANS_B,
  GEMM_KC,
  GEMM_MC,
  GEMM_MR,
  GEMM_NC,
  GEMM_NR,
} from "../layout";
import { field, madd, transpose4 } from "./simd";

const MR = GEMM_MR;
const NR = GEMM_NR;
const MC = GEMM_MC;
const KC = GEMM_KC;
const NC = GEMM_NC;

/**
 * The 4×8 micro-kernel: C tile (rows ldc bytes apart) (+)= Ap[kc×4] · Bp[kc×8]. Ap holds every value of
 * A already splatted across a vector, so the loop has only full-vector loads: measured faster on V8
 * than load32_splat (whose address V8 computes with an extra instruction per load). Eight accumulators,
 * two B vectors, one A vector and one product fill the 15 vector registers V8 allocates on x64; larger
 * tiles (4×12, 5×8, 6×8) spilled and ran at half speed (see the backend notes).
 */
function kernel4x8(kc: i32, ap: usize, bp: usize, c: usize, ldc: usize, add: bool): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let a = v128.load(ap);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load(ap, 16);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load(ap, 32);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load(ap, 48);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    ap += 64;
    bp += 32;
  }
  const c1 = c + ldc;
  const c2 = c1 + ldc;
  const c3 = c2 + ldc;
  if (add) {
    c00 = f32x4.add(c00, v128.load(c));
    c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c1));
    c11 = f32x4.add(c11, v128.load(c1, 16));
    c20 = f32x4.add(c20, v128.load(c2));
    c21 = f32x4.add(c21, v128.load(c2, 16));
    c30 = f32x4.add(c30, v128.load(c3));
    c31 = f32x4.add(c31, v128.load(c3, 16));
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c1, c10);
  v128.store(c1, c11, 16);
  v128.store(c2, c20);
  v128.store(c2, c21, 16);
  v128.store(c3, c30);
  v128.store(c3, c31, 16);
}

/** A partial tile (rows < MR or cols < NR): compute the full tile into `tile`, then merge what exists. */
function edgeTile(
  kc: i32,
  ap: usize,
  bp: usize,
  c: usize,
  ldc: usize,
  rows: i32,
  cols: i32,
  add: bool,
  tile: usize,
): void {
  kernel4x8(kc, ap, bp, tile, NR << 2, false);
  for (let r = 0; r < rows; r++) {
    const src = tile + (<usize>(r * NR) << 2);
    const dst = c + <usize>r * ldc;
    for (let j = 0; j < cols; j++) {
      const o = <usize>j << 2;
      const v = load<f32>(src + o);
      store<f32>(dst + o, add ? load<f32>(dst + o) + v : v);
    }
  }
}

/**
 * Pack rows [i0, i0+mb) × columns [p0, p0+kb) of op(A) into panels of MR rows: panel r holds, for each
 * p, its MR values, each splatted over a vector (zero beyond the last row). A is [m, lda] or, transposed,
 * [k, lda].
 */
function packA(a: usize, lda: i32, transA: bool, i0: i32, mb: i32, p0: i32, kb: i32, dst: usize): void {
  const ldaBytes = <usize>lda << 2;
  for (let ir = 0; ir < mb; ir += MR) {
    const rows = min(MR, mb - ir);
    let d = dst + (<usize>(ir * kb) << 4);
    if (transA) {
      // op(A)[i][p] = A[p·lda + i]: the MR values of one p are contiguous
      let src = a + ((<usize>p0 * lda + i0 + ir) << 2);
      for (let p = 0; p < kb; p++) {
        if (rows == MR) {
          const v = v128.load(src);
          v128.store(d, v128.shuffle<f32>(v, v, 0, 0, 0, 0));
          v128.store(d, v128.shuffle<f32>(v, v, 1, 1, 1, 1), 16);
          v128.store(d, v128.shuffle<f32>(v, v, 2, 2, 2, 2), 32);
          v128.store(d, v128.shuffle<f32>(v, v, 3, 3, 3, 3), 48);
        } else {
          for (let r = 0; r < MR; r++) {
            const v = r < rows ? v128.load32_splat(src + (<usize>r << 2)) : f32x4.splat(0);
            v128.store(d + (<usize>r << 4), v);
          }
        }
        d += MR << 4;
        src += ldaBytes;
      }
    } else {
      // op(A)[i][p] = A[i·lda + p]: each row is contiguous in p
      for (let r = 0; r < MR; r++) {
        const o = d + (<usize>r << 4);
        if (r >= rows) {
          for (let p = 0; p < kb; p++) v128.store(o + (<usize>p << 6), f32x4.splat(0));
          continue;
        }
        const src = a + ((<usize>(i0 + ir + r) * lda + p0) << 2);
        let p = 0;
        for (; p + 4 <= kb; p += 4) {
          const v = v128.load(src + (<usize>p << 2));
          const q = o + (<usize>p << 6);
          v128.store(q, v128.shuffle<f32>(v, v, 0, 0, 0, 0));
          v128.store(q, v128.shuffle<f32>(v, v, 1, 1, 1, 1), 64);
          v128.store(q, v128.shuffle<f32>(v, v, 2, 2, 2, 2), 128);
          v128.store(q, v128.shuffle<f32>(v, v, 3, 3, 3, 3), 192);
        }
        for (; p < kb; p++) v128.store(o + (<usize>p << 6), v128.load32_splat(src + (<usize>p << 2)));
      }
    }
  }
}

/**
 * Pack rows [p0, p0+kb) × columns [j0, j0+nb) of op(B) into panels of NR columns: panel j holds, for
 * each p, its NR values contiguously (zero beyond the last column). B is [k, ldb] or, transposed, [n, ldb].
 */
function packB(b: usize, ldb: i32, transB: bool, p0: i32, kb: i32, j0: i32, nb: i32, dst: usize): void {
  const ldbBytes = <usize>ldb << 2;
  for (let jr = 0; jr < nb; jr += NR) {
    const cols = min(NR, nb - jr);
    let d = dst + (<usize>(jr * kb) << 2);
    if (!transB) {
      // op(B)[p][j] = B[p·ldb + j]: copy NR-wide row pieces
      let src = b + ((<usize>p0 * ldb + j0 + jr) << 2);
      if (cols == NR) {
        for (let p = 0; p < kb; p++) {
          v128.store(d, v128.load(src));
          v128.store(d, v128.load(src, 16), 16);
          d += NR << 2;
          src += ldbBytes;
        }
      } else {
        for (let p = 0; p < kb; p++) {
          for (let j = 0; j < NR; j++) {
            store<f32>(d + (<usize>j << 2), j < cols ? load<f32>(src + (<usize>j << 2)) : 0);
          }
          d += NR << 2;
          src += ldbBytes;
        }
      }
    } else {
      // op(B)[p][j] = B[j·ldb + p]: NR rows of B, four p at a time through two 4×4 transposes
      const src = b + ((<usize>(j0 + jr) * ldb + p0) << 2);
      let p = 0;
      if (cols == NR) {
        for (; p + 4 <= kb; p += 4) {
          const s = src + (<usize>p << 2);
          const o = d + (<usize>p << 5);
          transpose4(
            v128.load(s),
            v128.load(s + ldbBytes),
            v128.load(s + 2 * ldbBytes),
            v128.load(s + 3 * ldbBytes),
            o,
            32,
          );
          const s4 = s + 4 * ldbBytes;
          transpose4(
            v128.load(s4),
            v128.load(s4 + ldbBytes),
            v128.load(s4 + 2 * ldbBytes),
            v128.load(s4 + 3 * ldbBytes),
            o + 16,
            32,
          );
        }
      }
      for (; p < kb; p++) {
        const s = src + (<usize>p << 2);
        const o = d + (<usize>(p * NR) << 2);
        for (let j = 0; j < NR; j++) {
          store<f32>(o + (<usize>j << 2), j < cols ? load<f32>(s + <usize>j * ldbBytes) : 0);
        }
      }
    }
  }
}

/** Rows [i0, i1) × columns [j0, j1) of one product C[m×n] (+)= op(A)·op(B). */
function gemmBlock(
  a: usize,
  b: usize,
  c: usize,
  m: i32,
  n: i32,
  k: i32,
  transA: bool,
  transB: bool,
  accumulate: bool,
  i0: i32,
  i1: i32,
  j0: i32,
  j1: i32,
  scratch: usize,
  bias: usize,
): void {
  const ldc = <usize>n << 2;
  if (bias && !accumulate) {
    // C starts as the bias in every row; the products then add to it
    const width = <usize>(j1 - j0) << 2;
    const from = bias + (<usize>j0 << 2);
    for (let i = i0; i < i1; i++) memory.copy(c + <usize>i * ldc + (<usize>j0 << 2), from, width);
    accumulate = true;
  }
  if (k == 0) {
    if (accumulate) return;
    const width = <usize>(j1 - j0) << 2;
    for (let i = i0; i < i1; i++) memory.fill(c + <usize>i * ldc + (<usize>j0 << 2), 0, width);
    return;
  }
  const lda = transA ? m : k;
  const ldb = transB ? k : n;
  const packedA = scratch;
  const packedB = packedA + ((<usize>MC * KC) << 4);
  const tile = packedB + ((<usize>KC * NC) << 2);
  for (let jc = j0; jc < j1; jc += NC) {
    const nb = min(NC, j1 - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kb = min(KC, k - pc);
      const add = accumulate || pc > 0;
      packB(b, ldb, transB, pc, kb, jc, nb, packedB);
      for (let ic = i0; ic < i1; ic += MC) {
        const mb = min(MC, i1 - ic);
        packA(a, lda, transA, ic, mb, pc, kb, packedA);
        for (let jr = 0; jr < nb; jr += NR) {
          const cols = min(NR, nb - jr);
          const bp = packedB + (<usize>(jr * kb) << 2);
          let cp = c + <usize>ic * ldc + (<usize>(jc + jr) << 2);
          for (let ir = 0; ir < mb; ir += MR) {
            const rows = min(MR, mb - ir);
            const ap = packedA + (<usize>(ir * kb) << 4);
            if (rows == MR && cols == NR) kernel4x8(kb, ap, bp, cp, ldc, add);
            else edgeTile(kb, ap, bp, cp, ldc, rows, cols, add, tile);
            cp += ldc * MR;
          }
        }
      }
    }
  }
}

/**
 * Chunk `chunk` of the GEMM described at `desc`, on thread `t`'s scratch: the chunks are the tiles of
 * C — tileM rows × tileN columns — of every product in turn (product = chunk / tiles per product).
 * The caller runs chunks in parallel only when the products' C operands do not overlap.
 */
export function gemm(desc: usize, t: i32, chunk: i32): void {
  const m = field(desc, G_M);
  const n = field(desc, G_N);
  const tileM = field(desc, G_TILE_M);
  const tileN = field(desc, G_TILE_N);
  const tilesN = (n + tileN - 1) / tileN;
  const tiles = ((m + tileM - 1) / tileM) * tilesN;
  const product = chunk / tiles;
  const tile = chunk % tiles;
  const i0 = (tile / tilesN) * tileM;
  const j0 = (tile % tilesN) * tileN;
  const o = <usize>product;
  gemmBlock(
    <usize>field(desc, G_A) + o * (<usize>field(desc, G_STRIDE_A) << 2),
    <usize>field(desc, G_B) + o * (<usize>field(desc, G_STRIDE_B) << 2),
    <usize>field(desc, G_C) + o * (<usize>field(desc, G_STRIDE_C) << 2),
    m,
    n,
    field(desc, G_K),
    field(desc, G_TRANS_A) != 0,
    field(desc, G_TRANS_B) != 0,
    field(desc, G_ACCUMULATE) != 0,
    i0,
    min(m, i0 + tileM),
    j0,
    min(n, j0 + tileN),
    <usize>field(desc, G_SCRATCH) + <usize>t * <usize>field(desc, G_SCRATCH_STRIDE),
    <usize>field(desc, G_BIAS),
  );
}
