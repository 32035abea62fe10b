/**
 * Browser loader of the wasm backend (designed in, not yet exercised by tests): fetches the kernels
 * from beside this module; with cross-origin isolation (SharedArrayBuffer) it starts Web Workers on a
 * shared memory, otherwise it runs single-threaded on an unshared memory. A page's main thread may not
 * Atomics.wait, so there the caller spins while helpers work; running the engine itself in a worker
 * avoids that.
 */
import {
  MAX_PAGES,
  createMemory,
  instantiateKernels,
  kernelFile,
  relaxedSimdSupported,
  simdSupported,
} from "./load.js";
import { Team, createControl } from "./team.js";
import { WasmBackend, type WasmThresholds } from "./wasm-backend.js";

export interface BrowserWasmOptions {
  /** Threads including the caller's (default: navigator.hardwareConcurrency when isolated, else 1). */
  threads?: number;
  thresholds?: Partial<WasmThresholds>;
  maxPages?: number;
}

interface BrowserGlobals {
  crossOriginIsolated?: boolean;
  navigator?: { hardwareConcurrency?: number };
  document?: unknown;
}

export async function createBrowserWasmBackend(opts: BrowserWasmOptions = {}): Promise<WasmBackend> {
  if (!simdSupported()) throw new Error("this browser has no WebAssembly SIMD");
  const g = globalThis as BrowserGlobals;
  const isolated = g.crossOriginIsolated === true && typeof SharedArrayBuffer === "function";
  const threads = isolated
    ? Math.max(1, Math.floor(opts.threads ?? g.navigator?.hardwareConcurrency ?? 1))
    : 1;
  const shared = threads > 1;
  const relaxed = relaxedSimdSupported();
  const response = await fetch(new URL(kernelFile(relaxed, shared), import.meta.url));
  if (!response.ok) throw new Error(`${response.url}: ${response.status} ${response.statusText}`);
  const module = await WebAssembly.compile(await response.arrayBuffer());
  const maxPages = opts.maxPages ?? MAX_PAGES;
  const memory = createMemory(shared, maxPages);
  const run = await instantiateKernels(module, memory);
  const control = createControl(shared);
  const workers: Worker[] = [];
  for (let id = 1; id < threads; id++) workers.push(await startHelper(module, memory, control, id));
  const terminate = (): void => workers.forEach((w) => w.terminate());
  // a window's main thread may not block; a worker running the engine may
  const canBlock = g.document === undefined;
  const team = new Team(control, workers.length, run, canBlock);
  return new WasmBackend({ memory, maxPages, run, team, relaxedSimd: relaxed, terminate }, opts.thresholds);
}

function startHelper(
  module: WebAssembly.Module,
  memory: WebAssembly.Memory,
  control: Int32Array,
  id: number,
): Promise<Worker> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./browser-worker.js", import.meta.url), { type: "module" });
    worker.onerror = (e) => reject(new Error(`wasm helper ${id}: ${e.message}`));
    worker.onmessage = () => resolve(worker);
    worker.postMessage({ module, memory, control, id });
  });
}
