/**
 * The `wasm` backend: the kernels of kernels/*.as compiled to WebAssembly SIMD, run on a team of
 * threads that share one WebAssembly memory. Tensors are ordinary Float32Arrays, so each call copies
 * its operands into the shared memory, runs, and copies the results back; the memory grows to the
 * largest call seen (up to a bound) and is reused. Resident arrays (`allocate`: model weights) live
 * in that memory already and are read in place. Calls too small to repay the copies, Float64 data,
 * and calls that would not fit run on the js reference backend instead.
 *
 * Memory map: [0, 64 KiB) unused (the kernels have no static data), the job descriptor at 1 KiB,
 * per-thread GEMM scratch from 64 KiB, then the resident heap, then the operands of the current call.
 */
import type {
  Backend,
  FloatArray,
  GemmArgs,
  GeluForm,
  LayerNormArgs,
  LayerNormBackwardArgs,
  RmsNormArgs,
  RmsNormBackwardArgs,
} from "../backend.js";
import { jsBackend } from "../js-backend.js";
import {
  DESC_BYTES,
  E_ALPHA,
  E_COLS,
  E_FORM,
  E_LEN,
  E_OUT,
  E_X,
  E_Y,
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
  G_TILE_M,
  G_TILE_N,
  G_TRANS_A,
  G_TRANS_B,
  GEMM_MR,
  GEMM_NR,
  GEMM_SCRATCH_BYTES,
  I_G,
  L_BIAS,
  L_DENOM,
  L_EPS,
  L_FLAGS,
  L_FORM,
  L_MEAN,
  L_WEIGHT,
  OP_ADD,
  OP_AXPY,
  R_SCALE,
  OP_GELU,
  OP_GELU_BACKWARD,
  OP_GEMM,
  OP_IDENTITY_BACKWARD,
  OP_LAYER_NORM,
  OP_LAYER_NORM_BACKWARD,
  OP_MUL,
  OP_RMS_NORM,
  OP_RMS_NORM_BACKWARD,
  OP_SOFTMAX,
  OP_SOFTMAX_BACKWARD,
} from "./layout.js";
import { ResidentHeap } from "./resident.js";
import { MAX_CHUNKS, type KernelRun, type Team } from "./team.js";

/** When a call is worth sending to wasm, and to more than one thread. */
export interface WasmThresholds {
  /** Multiply-adds (m·n·k·batch) below which GEMM runs on js. */
  gemm: number;
  /** Elements below which softmax and GELU (an exp or erf per element: dear in js) run on js. */
  heavy: number;
  /** Elements below which add, mul, axpy, softmax backward and layer norm run on js. */
  light: number;
  /** Multiply-adds below which a GEMM runs on the calling thread alone. */
  parallelGemm: number;
  /** Elements below which softmax and GELU run on the calling thread alone. */
  parallelHeavy: number;
  /** Elements below which the light kernels run on the calling thread alone (their copies cannot be shared). */
  parallelLight: number;
  /** Smallest chunk (elements) that element-wise and row-wise work is cut into for threads. */
  minChunk: number;
}

/**
 * Break-even points measured on a 2-core x64 machine (Node 20): wasm, copies included, beats js from
 * about 4k multiply-adds for GEMM, from ~200 elements for softmax and GELU, and from ~2–4k elements
 * for the cheap element-wise and row-wise kernels.
 */
export const DEFAULT_THRESHOLDS: WasmThresholds = {
  gemm: 4096,
  heavy: 256,
  light: 4096,
  parallelGemm: 1 << 21,
  parallelHeavy: 1 << 14,
  parallelLight: 1 << 18,
  minChunk: 8192,
};

/** Every Float32 call on wasm and, cut as finely as possible, on all threads: for tests. */
export const FORCE_WASM: WasmThresholds = {
  gemm: 0,
  heavy: 0,
  light: 0,
  parallelGemm: 0,
  parallelHeavy: 0,
  parallelLight: 0,
  minChunk: 1,
};

/** What a platform loader hands the backend. */
export interface WasmRuntime {
  memory: WebAssembly.Memory;
  /** Its maximum size in 64 KiB pages. */
  maxPages: number;
  /** The kernel entry point instantiated on this thread. */
  run: KernelRun;
  team: Team;
  relaxedSimd: boolean;
  /** End the helper threads. */
  terminate(): void;
}

const DESC = 1024;
const SCRATCH_BASE = 65536;
const ALIGN = 64;
const PAGE = 65536;

const align = (bytes: number): number => Math.ceil(bytes / ALIGN) * ALIGN;
const roundUp = (x: number, to: number): number => Math.ceil(x / to) * to;

/** Chunks per thread in a parallel job: spare chunks let whoever is free pick up a slow thread's work. */
const CHUNKS_PER_THREAD = 2;
/** Smallest GEMM tile a product is cut into for threads (rows, columns). */
const MIN_TILE_M = 16;
const MIN_TILE_N = 64;

/**
 * Tiles (rows × columns of C) that cut `batch` products into at least `want` chunks, if they can be.
 * Each tile packs its own slices of A and B, so cutting C's columns repacks A (packed 4× wide, every
 * value splatted) and cutting its rows repacks B: cut whichever repeats less packing.
 */
export function gemmTiles(m: number, n: number, batch: number, want: number): [number, number] {
  let tm = m;
  let tn = n;
  while (batch * Math.ceil(m / tm) * Math.ceil(n / tn) < want) {
    const canN = tn >= 2 * MIN_TILE_N;
    const canM = tm >= 2 * MIN_TILE_M;
    if (canN && (4 * m <= n || !canM)) tn = roundUp(Math.ceil(tn / 2), GEMM_NR);
    else if (canM) tm = roundUp(Math.ceil(tm / 2), GEMM_MR);
    else break;
  }
  return [tm, tn];
}

function allF32(...arrays: (FloatArray | null)[]): boolean {
  for (const a of arrays) if (a !== null && !(a instanceof Float32Array)) return false;
  return true;
}

export class WasmBackend implements Backend {
  readonly name = "wasm";
  readonly threads: number;
  readonly relaxedSimd: boolean;
  readonly thresholds: WasmThresholds;
  private rt: WasmRuntime | null;
  private readonly scratchStride: number;
  private readonly dataBase: number;
  private f32 = new Float32Array(0);
  private i32 = new Int32Array(0);
  private f64 = new Float64Array(0);
  /** Resident arrays; their blocks return to the heap when the arrays are collected. */
  private readonly heap: ResidentHeap;
  /** Whether resident arrays are handed out (the memory is shared, so growing it detaches nothing). */
  readonly residentWeights: boolean;
  /** Every buffer object the memory has had: views on them are resident. */
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  private readonly registry = new FinalizationRegistry<[number, number]>(([at, bytes]) => {
    if (this.rt) this.heap.release(at, bytes);
  });

  constructor(rt: WasmRuntime, thresholds: Partial<WasmThresholds> = {}) {
    this.rt = rt;
    this.threads = rt.team.size;
    this.relaxedSimd = rt.relaxedSimd;
    this.thresholds = { ...DEFAULT_THRESHOLDS, ...thresholds };
    this.scratchStride = align(GEMM_SCRATCH_BYTES);
    this.dataBase = align(SCRATCH_BASE + this.threads * this.scratchStride);
    if (DESC + DESC_BYTES > SCRATCH_BASE) throw new Error("wasm backend: descriptor overlaps scratch");
    this.heap = new ResidentHeap(this.dataBase, rt.maxPages * PAGE);
    // an unshared memory detaches its ArrayBuffer when it grows: resident views would go dead
    this.residentWeights =
      typeof SharedArrayBuffer !== "undefined" && rt.memory.buffer instanceof SharedArrayBuffer;
    this.reserve([]);
  }

  /** Bytes held by resident arrays. */
  get residentBytes(): number {
    return this.heap.bytesInUse;
  }

  /**
   * A zeroed Float32Array of n values in the kernels' memory, read in place by every kernel; null
   * when the memory is not shared or would exceed its bound. Its block returns to the heap when the
   * array is garbage-collected — a view cut from it must not outlive it.
   */
  allocate(n: number): Float32Array | null {
    if (!this.rt || !this.residentWeights || !(n > 0)) return null;
    const bytes = n * 4;
    const at = this.heap.alloc(bytes);
    if (at === null) return null;
    if (!this.grow(this.heap.top)) {
      this.heap.release(at, bytes);
      return null;
    }
    const view = new Float32Array(this.rt.memory.buffer, at, n);
    view.fill(0); // a reused block holds old values
    this.registry.register(view, [at, bytes]);
    return view;
  }

  /** The byte address of a[offset] if a is resident in this backend's memory, else −1. */
  private residentAddress(a: FloatArray | null, offset = 0): number {
    if (a === null || !(a instanceof Float32Array) || !this.buffers.has(a.buffer)) return -1;
    return a.byteOffset + offset * 4;
  }

  /** Grow the memory to at least `end` bytes; false if that passes its bound. */
  private grow(end: number): boolean {
    const rt = this.rt!;
    const have = rt.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      if (have / PAGE + pages > rt.maxPages) return false;
      try {
        rt.memory.grow(pages);
      } catch {
        return false;
      }
    }
    const buffer = rt.memory.buffer;
    if (this.f32.length * 4 !== buffer.byteLength) {
      this.buffers.add(buffer);
      this.f32 = new Float32Array(buffer);
      this.i32 = new Int32Array(buffer);
      this.f64 = new Float64Array(buffer);
    }
    return true;
  }

  /** Bytes of WebAssembly memory currently held. */
  get memoryBytes(): number {
    return this.rt ? this.rt.memory.buffer.byteLength : 0;
  }

  dispose(): void {
    const rt = this.rt;
    if (!rt) return;
    this.rt = null;
    rt.team.stop();
    rt.terminate();
    this.f32 = new Float32Array(0);
    this.i32 = new Int32Array(0);
    this.f64 = new Float64Array(0);
  }

  /**
   * Lay out operands of the given element counts after the scratch area, growing the memory if
   * needed; their byte addresses, or null if they cannot fit (or the backend is disposed).
   */
  private reserve(counts: number[]): number[] | null {
    const rt = this.rt;
    if (!rt) return null;
    const addresses: number[] = [];
    let end = align(this.heap.top);
    for (const count of counts) {
      addresses.push(end);
      end += align(count * 4);
    }
    return this.grow(end) ? addresses : null;
  }

  /**
   * Addresses for operands: a resident array's own place, else room in the operand area (with
   * `copyIn`, its values copied there). Null if they do not fit.
   */
  private place(
    operands: { a: FloatArray | null; offset: number; count: number; copyIn: boolean }[],
  ): number[] | null {
    const resident = operands.map((o) => this.residentAddress(o.a, o.offset));
    const at = this.reserve(operands.map((o, i) => (resident[i]! >= 0 ? 0 : o.count)));
    if (!at) return null;
    return operands.map((o, i) => {
      if (resident[i]! >= 0) return resident[i]!;
      if (o.copyIn && o.a) this.put(o.a, o.offset, o.count, at[i]!);
      return at[i]!;
    });
  }

  private put(src: FloatArray, from: number, count: number, address: number): void {
    this.f32.set(src.subarray(from, from + count), address >>> 2);
  }

  private get(dst: FloatArray, to: number, count: number, address: number): void {
    const at = address >>> 2;
    dst.set(this.f32.subarray(at, at + count), to);
  }

  private put64(src: Float64Array, count: number, address: number): void {
    this.f64.set(src.subarray(0, count), address >>> 3);
  }

  private get64(dst: Float64Array, count: number, address: number): void {
    const at = address >>> 3;
    dst.set(this.f64.subarray(at, at + count));
  }

  private desc(slot: number, value: number): void {
    this.i32[(DESC >>> 2) + slot] = value;
  }

  private desc64(slot: number, value: number): void {
    this.f64[(DESC + slot * 4) >>> 3] = value;
  }

  /** Whether work of this size goes to all threads. */
  private parallel(work: number, from: number): boolean {
    return this.threads > 1 && work >= from;
  }

  /**
   * Run an element-wise or row-wise kernel over `parts` independent parts (elements or rows) of
   * `work` elements in all: in chunks on all threads when large enough, else in one piece here.
   */
  private execShares(op: number, work: number, parts: number, heavy: boolean): void {
    const team = this.rt!.team;
    const from = heavy ? this.thresholds.parallelHeavy : this.thresholds.parallelLight;
    if (!this.parallel(work, from)) return team.serial(op, DESC, 1);
    const chunks = Math.min(
      CHUNKS_PER_THREAD * this.threads,
      Math.ceil(work / this.thresholds.minChunk),
      parts,
      MAX_CHUNKS,
    );
    team.dispatch(op, DESC, Math.max(1, chunks));
  }

  gemm(p: GemmArgs): void {
    const { m, n, k, a, b, c, batch } = p;
    if (!this.rt || !allF32(a, b, c)) return jsBackend.gemm(p);
    if (m <= 0 || n <= 0 || batch <= 0) return;
    const work = m * n * k * batch;
    const { strideA, strideB, strideC } = p;
    const oa = p.offsetA ?? 0;
    const ob = p.offsetB ?? 0;
    const oc = p.offsetC ?? 0;
    const sizeC = m * n;
    const spanA = (batch - 1) * strideA + m * k;
    const spanB = (batch - 1) * strideB + k * n;
    const spanC = (batch - 1) * strideC + sizeC;
    if (
      work < this.thresholds.gemm ||
      strideA < 0 ||
      strideB < 0 ||
      strideC < 0 ||
      oa + spanA > a.length ||
      ob + spanB > b.length ||
      oc + spanC > c.length
    )
      return jsBackend.gemm(p);
    // products whose C regions are apart are copied one by one (the gaps are not ours to write);
    // products that share C must run in order, on one thread
    const cApart = batch > 1 && strideC > sizeC;
    const cShared = batch > 1 && strideC < sizeC;
    const bias = p.accumulate ? null : (p.bias ?? null);
    if (bias !== null && (!(bias instanceof Float32Array) || bias.length < n)) return jsBackend.gemm(p);
    const at = this.place([
      { a, offset: oa, count: spanA, copyIn: true },
      { a: b, offset: ob, count: spanB, copyIn: true },
      { a: null, offset: 0, count: spanC, copyIn: false },
      { a: bias, offset: 0, count: bias ? n : 0, copyIn: true },
    ]);
    if (!at) return jsBackend.gemm(p);
    const [pa, pb, pc, pbias] = at as [number, number, number, number];
    if (p.accumulate) {
      if (cApart) for (let i = 0; i < batch; i++) this.put(c, oc + i * strideC, sizeC, pc + i * strideC * 4);
      else this.put(c, oc, spanC, pc);
    }
    this.desc(G_M, m);
    this.desc(G_N, n);
    this.desc(G_K, k);
    this.desc(G_A, pa);
    this.desc(G_B, pb);
    this.desc(G_C, pc);
    this.desc(G_TRANS_A, p.transA ? 1 : 0);
    this.desc(G_TRANS_B, p.transB ? 1 : 0);
    this.desc(G_ACCUMULATE, p.accumulate ? 1 : 0);
    this.desc(G_STRIDE_A, strideA);
    this.desc(G_STRIDE_B, strideB);
    this.desc(G_STRIDE_C, strideC);
    this.desc(G_SCRATCH, SCRATCH_BASE);
    this.desc(G_SCRATCH_STRIDE, this.scratchStride);
    this.desc(G_BIAS, bias ? pbias : 0);
    const team = this.rt!.team;
    if (cShared || !this.parallel(work, this.thresholds.parallelGemm)) {
      this.desc(G_TILE_M, m);
      this.desc(G_TILE_N, n);
      team.serial(OP_GEMM, DESC, batch);
    } else {
      const [tm, tn] = gemmTiles(m, n, batch, CHUNKS_PER_THREAD * this.threads);
      this.desc(G_TILE_M, tm);
      this.desc(G_TILE_N, tn);
      const chunks = batch * Math.ceil(m / tm) * Math.ceil(n / tn);
      if (chunks > MAX_CHUNKS) team.serial(OP_GEMM, DESC, chunks);
      else team.dispatch(OP_GEMM, DESC, chunks);
    }
    if (cApart) for (let i = 0; i < batch; i++) this.get(c, oc + i * strideC, sizeC, pc + i * strideC * 4);
    else this.get(c, oc, spanC, pc);
  }

  softmax(x: FloatArray, out: FloatArray, rows: number, cols: number): void {
    const len = rows * cols;
    if (!this.rt || !allF32(x, out) || len < this.thresholds.heavy || x.length < len || out.length < len)
      return jsBackend.softmax(x, out, rows, cols);
    const at = this.reserve([len, len]);
    if (!at) return jsBackend.softmax(x, out, rows, cols);
    const [px, po] = at as [number, number];
    this.put(x, 0, len, px);
    this.desc(E_X, px);
    this.desc(E_OUT, po);
    this.desc(E_LEN, rows);
    this.desc(E_COLS, cols);
    this.execShares(OP_SOFTMAX, len, rows, true);
    this.get(out, 0, len, po);
  }

  softmaxBackward(p: FloatArray, gp: FloatArray, gx: FloatArray, rows: number, cols: number): void {
    const len = rows * cols;
    if (
      !this.rt ||
      !allF32(p, gp, gx) ||
      len < this.thresholds.light ||
      p.length < len ||
      gp.length < len ||
      gx.length < len
    )
      return jsBackend.softmaxBackward(p, gp, gx, rows, cols);
    const at = this.reserve([len, len, len]);
    if (!at) return jsBackend.softmaxBackward(p, gp, gx, rows, cols);
    const [pp, pg, po] = at as [number, number, number];
    this.put(p, 0, len, pp);
    this.put(gp, 0, len, pg);
    this.desc(E_X, pp);
    this.desc(E_Y, pg);
    this.desc(E_OUT, po);
    this.desc(E_LEN, rows);
    this.desc(E_COLS, cols);
    this.execShares(OP_SOFTMAX_BACKWARD, len, rows, false);
    this.get(gx, 0, len, po);
  }

  layerNorm(q: LayerNormArgs): void {
    const { x, out, rows, cols, weight, bias, mean, denom } = q;
    const len = rows * cols;
    if (
      !this.rt ||
      !allF32(x, out, weight, bias, mean, denom) ||
      len < this.thresholds.light ||
      x.length < len ||
      out.length < len ||
      (weight !== null && weight.length < cols) ||
      (bias !== null && bias.length < cols) ||
      mean.length < rows ||
      denom.length < rows
    )
      return jsBackend.layerNorm(q);
    const at = this.place([
      { a: x, offset: 0, count: len, copyIn: true },
      { a: null, offset: 0, count: len, copyIn: false },
      { a: weight, offset: 0, count: weight ? cols : 0, copyIn: true },
      { a: bias, offset: 0, count: bias ? cols : 0, copyIn: true },
      { a: null, offset: 0, count: rows, copyIn: false },
      { a: null, offset: 0, count: rows, copyIn: false },
    ]);
    if (!at) return jsBackend.layerNorm(q);
    const [px, po, pw, pb, pm, pd] = at as [number, number, number, number, number, number];
    this.desc(E_X, px);
    this.desc(E_OUT, po);
    this.desc(E_LEN, rows);
    this.desc(E_COLS, cols);
    this.desc(L_WEIGHT, weight ? pw : 0);
    this.desc(L_BIAS, bias ? pb : 0);
    this.desc(L_MEAN, pm);
    this.desc(L_DENOM, pd);
    this.desc(L_FORM, q.form === "paper" ? 1 : 0);
    this.desc64(L_EPS, q.eps);
    this.execShares(OP_LAYER_NORM, len, rows, false);
    this.get(out, 0, len, po);
    this.get(mean, 0, rows, pm);
    this.get(denom, 0, rows, pd);
  }

  layerNormBackward(q: LayerNormBackwardArgs): void {
    const { x, gy, gx, rows, cols, weight, mean, denom } = q;
    const len = rows * cols;
    if (
      !this.rt ||
      !allF32(x, gy, gx, weight, mean, denom) ||
      len < this.thresholds.light ||
      x.length < len ||
      gy.length < len ||
      gx.length < len ||
      (weight !== null && weight.length < cols) ||
      mean.length < rows ||
      denom.length < rows
    )
      return jsBackend.layerNormBackward(q);
    const at = this.place([
      { a: x, offset: 0, count: len, copyIn: true },
      { a: gy, offset: 0, count: len, copyIn: true },
      { a: null, offset: 0, count: len, copyIn: false },
      { a: weight, offset: 0, count: weight ? cols : 0, copyIn: true },
      { a: mean, offset: 0, count: rows, copyIn: true },
      { a: denom, offset: 0, count: rows, copyIn: true },
    ]);
    if (!at) return jsBackend.layerNormBackward(q);
    const [px, pg, po, pw, pm, pd] = at as [number, number, number, number, number, number];
    this.desc(E_X, px);
    this.desc(E_Y, pg);
    this.desc(E_OUT, po);
    this.desc(E_LEN, rows);
    this.desc(E_COLS, cols);
    this.desc(L_WEIGHT, weight ? pw : 0);
    this.desc(L_MEAN, pm);
    this.desc(L_DENOM, pd);
    this.desc(L_FORM, q.form === "paper" ? 1 : 0);
    this.desc64(L_EPS, q.eps);
    this.desc(L_FLAGS, (q.constantStd ? 1 : 0) | (q.constantMean ? 2 : 0));
    this.execShares(OP_LAYER_NORM_BACKWARD, len, rows, false);
    this.get(gx, 0, len, po);
  }

  rmsNorm(q: RmsNormArgs): void {
    const { x, out, rows, cols, weight, scale } = q;
    const len = rows * cols;
    if (
      !this.rt ||
      !allF32(x, out, weight) ||
      len < this.thresholds.light ||
      x.length < len ||
      out.length < len ||
      (weight !== null && weight.length < cols) ||
      scale.length < rows
    )
      return jsBackend.rmsNorm(q);
    const at = this.place([
      { a: x, offset: 0, count: len, copyIn: true },
      { a: null, offset: 0, count: len, copyIn: false },
      { a: weight, offset: 0, count: weight ? cols : 0, copyIn: true },
      { a: null, offset: 0, count: 2 * rows, copyIn: false },
    ]);
    if (!at) return jsBackend.rmsNorm(q);
    const [px, po, pw, ps] = at as [number, number, number, number];
    this.desc(E_X, px);
    this.desc(E_OUT, po);
    this.desc(E_LEN, rows);
    this.desc(E_COLS, cols);
    this.desc(L_WEIGHT, weight ? pw : 0);
    this.desc(R_SCALE, ps);
    this.desc64(L_EPS, q.eps);
    this.execShares(OP_RMS_NORM, len, rows, false);
    this.get(out, 0, len, po);
    this.get64(scale, rows, ps);
  }

  rmsNormBackward(q: RmsNormBackwardArgs): void {
    const { x, gy, gx, rows, cols, weight, scale } = q;
    const len = rows * cols;
    if (
      !this.rt ||
      !allF32(x, gy, gx, weight) ||
      len < this.thresholds.light ||
      x.length < len ||
      gy.length < len ||
      gx.length < len ||
      (weight !== null && weight.length < cols) ||
      scale.length < rows
    )
      return jsBackend.rmsNormBackward(q);
    const at = this.place([
      { a: x, offset: 0, count: len, copyIn: true },
      { a: gy, offset: 0, count: len, copyIn: true },
      { a: null, offset: 0, count: len, copyIn: false },
      { a: weight, offset: 0, count: weight ? cols : 0, copyIn: true },
      { a: null, offset: 0, count: 2 * rows, copyIn: false },
    ]);
    if (!at) return jsBackend.rmsNormBackward(q);
    const [px, pg, po, pw, ps] = at as [number, number, number, number, number];
    this.put64(scale, rows, ps);
    this.desc(E_X, px);
    this.desc(E_Y, pg);
    this.desc(E_OUT, po);
    this.desc(E_LEN, rows);
    this.desc(E_COLS, cols);
    this.desc(L_WEIGHT, weight ? pw : 0);
    this.desc(R_SCALE, ps);
    this.desc(L_FLAGS, q.constantScale ? 1 : 0);
    this.execShares(OP_RMS_NORM_BACKWARD, len, rows, false);
    this.get(gx, 0, len, po);
  }

  identityBackward(z: FloatArray, y: FloatArray, g: FloatArray, gz: FloatArray, atZero: number): void {
    const len = gz.length;
    if (
      !this.rt ||
      !allF32(z, y, g, gz) ||
      len < this.thresholds.light ||
      z.length < len ||
      y.length < len ||
      g.length < len
    )
      return jsBackend.identityBackward(z, y, g, gz, atZero);
    const at = this.place([
      { a: z, offset: 0, count: len, copyIn: true },
      { a: y, offset: 0, count: len, copyIn: true },
      { a: g, offset: 0, count: len, copyIn: true },
      { a: null, offset: 0, count: len, copyIn: false },
    ]);
    if (!at) return jsBackend.identityBackward(z, y, g, gz, atZero);
    const [pz, py, pg, po] = at as [number, number, number, number];
    this.desc(E_X, pz);
    this.desc(E_Y, py);
    this.desc(I_G, pg);
    this.desc(E_OUT, po);
    this.desc(E_LEN, len);
    this.desc64(E_ALPHA, atZero);
    this.execShares(OP_IDENTITY_BACKWARD, len, len, false);
    this.get(gz, 0, len, po);
  }

  gelu(x: FloatArray, out: FloatArray, form: GeluForm): void {
    const len = x.length;
    if (!this.rt || !allF32(x, out) || len < this.thresholds.heavy || out.length < len)
      return jsBackend.gelu(x, out, form);
    const at = this.reserve([len, len]);
    if (!at) return jsBackend.gelu(x, out, form);
    const [px, po] = at as [number, number];
    this.put(x, 0, len, px);
    this.desc(E_X, px);
    this.desc(E_OUT, po);
    this.desc(E_LEN, len);
    this.desc(E_FORM, form === "tanh" ? 1 : 0);
    this.execShares(OP_GELU, len, len, true);
    this.get(out, 0, len, po);
  }

  geluBackward(x: FloatArray, g: FloatArray, gx: FloatArray, form: GeluForm): void {
    const len = x.length;
    if (!this.rt || !allF32(x, g, gx) || len < this.thresholds.heavy || g.length < len || gx.length < len)
      return jsBackend.geluBackward(x, g, gx, form);
    const at = this.reserve([len, len, len]);
    if (!at) return jsBackend.geluBackward(x, g, gx, form);
    const [px, pg, po] = at as [number, number, number];
    this.put(x, 0, len, px);
    this.put(g, 0, len, pg);
    this.desc(E_X, px);
    this.desc(E_Y, pg);
    this.desc(E_OUT, po);
    this.desc(E_LEN, len);
    this.desc(E_FORM, form === "tanh" ? 1 : 0);
    this.execShares(OP_GELU_BACKWARD, len, len, true);
    this.get(gx, 0, len, po);
  }

  add(a: FloatArray, b: FloatArray, out: FloatArray): void {
    if (!this.binary(OP_ADD, a, b, out)) jsBackend.add(a, b, out);
  }

  mul(a: FloatArray, b: FloatArray, out: FloatArray): void {
    if (!this.binary(OP_MUL, a, b, out)) jsBackend.mul(a, b, out);
  }

  /** out = a ∘ b on wasm; false if the call should run on js instead. */
  private binary(op: number, a: FloatArray, b: FloatArray, out: FloatArray): boolean {
    const len = out.length;
    if (!this.rt || !allF32(a, b, out) || len < this.thresholds.light || a.length < len || b.length < len)
      return false;
    const at = this.reserve([len, len, len]);
    if (!at) return false;
    const [pa, pb, po] = at as [number, number, number];
    this.put(a, 0, len, pa);
    this.put(b, 0, len, pb);
    this.desc(E_X, pa);
    this.desc(E_Y, pb);
    this.desc(E_OUT, po);
    this.desc(E_LEN, len);
    this.execShares(op, len, len, false);
    this.get(out, 0, len, po);
    return true;
  }

  axpy(alpha: number, x: FloatArray, y: FloatArray): void {
    const len = y.length;
    if (!this.rt || !allF32(x, y) || len < this.thresholds.light || x.length < len)
      return jsBackend.axpy(alpha, x, y);
    const at = this.reserve([len, len]);
    if (!at) return jsBackend.axpy(alpha, x, y);
    const [px, py] = at as [number, number];
    this.put(x, 0, len, px);
    this.put(y, 0, len, py);
    this.desc(E_X, px);
    this.desc(E_Y, py);
    this.desc(E_LEN, len);
    this.desc64(E_ALPHA, alpha);
    this.execShares(OP_AXPY, len, len, false);
    this.get(y, 0, len, py);
  }
}
