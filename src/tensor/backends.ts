/**
 * Choosing the kernel backend: `initBackend` installs `wasm` (SIMD, all cores; the default) or `js`,
 * honouring XAIT_BACKEND=js|wasm and XAIT_THREADS=n; `backendInfo` says what runs; `benchGemm` measures
 * it. Browser-safe: the Node loader is imported only under Node.
 */
import { getBackend, setBackend, type Backend } from "./backend.js";
import { jsBackend } from "./js-backend.js";
import type { WasmBackend, WasmThresholds } from "./wasm/wasm-backend.js";

export type BackendName = "js" | "wasm";

export interface InitBackendOptions {
  /** Overrides XAIT_BACKEND; default wasm. */
  backend?: BackendName;
  /** Threads including the caller's; overrides XAIT_THREADS; default all cores. */
  threads?: number;
  /** When calls go to wasm and to several threads (wasm only). */
  thresholds?: Partial<WasmThresholds>;
}

export interface BackendInfo {
  name: string;
  threads: number;
  relaxedSimd: boolean;
  /** Why the default wasm backend was not used, if it was not. */
  fallback?: string;
}

let owned: WasmBackend | null = null;
let fallback: string | undefined;

interface ProcessLike {
  env?: Record<string, string | undefined>;
  versions?: { node?: string };
}

function nodeProcess(): ProcessLike | undefined {
  return (globalThis as { process?: ProcessLike }).process;
}

function envBackend(): BackendName | undefined {
  const v = nodeProcess()?.env?.["XAIT_BACKEND"];
  if (v === undefined || v === "") return undefined;
  if (v === "js" || v === "wasm") return v;
  // native: whole graphs in onnxruntime-node (Node only, src/onnx/); the kernels stay wasm
  if (v === "native") return undefined;
  throw new Error(`XAIT_BACKEND=${v}: expected native, wasm or js`);
}

function envThreads(): number | undefined {
  const v = nodeProcess()?.env?.["XAIT_THREADS"];
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`XAIT_THREADS=${v}: expected a whole number ≥ 1`);
  return n;
}

async function loadWasm(
  threads: number | undefined,
  thresholds?: Partial<WasmThresholds>,
): Promise<WasmBackend> {
  if (typeof nodeProcess()?.versions?.node === "string") {
    const { createNodeWasmBackend } = await import("./wasm-node.js");
    return createNodeWasmBackend({ threads, thresholds });
  }
  const { createBrowserWasmBackend } = await import("./wasm/browser.js");
  return createBrowserWasmBackend({ threads, thresholds });
}

/**
 * Install and return the kernel backend. An explicit request for wasm (option or XAIT_BACKEND) that
 * cannot be met is an error; the default falls back to js and says why in `backendInfo().fallback`.
 * Calling it again replaces (and disposes) the wasm backend it installed before.
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<Backend> {
  const requested = opts.backend ?? envBackend();
  const threads = opts.threads ?? envThreads();
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1))
    throw new Error(`threads=${threads}: expected a whole number ≥ 1`);
  disposeBackend();
  fallback = undefined;
  if (requested === "js") {
    setBackend(jsBackend);
    return jsBackend;
  }
  try {
    owned = await loadWasm(threads, opts.thresholds);
  } catch (e) {
    if (requested === "wasm") throw e;
    fallback = e instanceof Error ? e.message : String(e);
    setBackend(jsBackend);
    return jsBackend;
  }
  setBackend(owned);
  return owned;
}

/** Dispose the wasm backend installed by initBackend (its threads end); js becomes active. */
export function disposeBackend(): void {
  if (!owned) return;
  if (getBackend() === owned) setBackend(jsBackend);
  owned.dispose();
  owned = null;
}

/** What the active backend is. */
export function backendInfo(): BackendInfo {
  const b = getBackend() as Backend & { threads?: number; relaxedSimd?: boolean };
  const info: BackendInfo = { name: b.name, threads: b.threads ?? 1, relaxedSimd: b.relaxedSimd ?? false };
  if (fallback !== undefined && b === jsBackend) info.fallback = fallback;
  return info;
}

export interface GemmBenchOptions {
  /** B stored [n, k] (the linear layer's case). */
  transB?: boolean;
  /** Timed repetitions after warm-up (default 10). */
  reps?: number;
}

export interface GemmBench {
  /** 2·m·k·n / median time. */
  gflops: number;
  /** Median milliseconds per product. */
  ms: number;
  backend: string;
  threads: number;
}

/** Time C[m×n] = A[m×k]·B[k×n] on the active backend: the median of `reps` runs after warm-up. */
export function benchGemm(m: number, k: number, n: number, opts: GemmBenchOptions = {}): GemmBench {
  const reps = Math.max(1, Math.floor(opts.reps ?? 10));
  const backend = getBackend();
  const fill = (len: number): Float32Array => {
    const x = new Float32Array(len);
    for (let i = 0; i < len; i++) x[i] = Math.random() - 0.5;
    return x;
  };
  const args = {
    m,
    n,
    k,
    a: fill(m * k),
    b: fill(k * n),
    c: new Float32Array(m * n),
    transA: false,
    transB: opts.transB ?? false,
    accumulate: false,
    batch: 1,
    strideA: 0,
    strideB: 0,
    strideC: 0,
  };
  // warm-up, so that the engine has tiered the kernels up: three runs, or one if that took 100 ms
  const warmEnd = performance.now() + 100;
  for (let i = 0; i < 3 && (i === 0 || performance.now() < warmEnd); i++) backend.gemm(args);
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    backend.gemm(args);
    times.push(performance.now() - t0);
  }
  times.sort((x, y) => x - y);
  const mid = times.length >> 1;
  const ms = times.length % 2 ? times[mid]! : (times[mid - 1]! + times[mid]!) / 2;
  const info = backendInfo();
  return { gflops: (2 * m * n * k) / (ms * 1e6), ms, backend: backend.name, threads: info.threads };
}
