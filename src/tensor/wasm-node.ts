/**
 * Node loader of the wasm backend: reads the compiled kernels from beside this module and starts the
 * helper threads with worker_threads. The helpers never keep the process alive (unref) and end with
 * the backend's dispose().
 */
import { readFile } from "node:fs/promises";
import os from "node:os";
import { Worker } from "node:worker_threads";
import {
  NODE_MAX_PAGES,
  createMemory,
  kernelFile,
  instantiateKernels,
  relaxedSimdSupported,
  simdSupported,
} from "./wasm/load.js";
import { Team, createControl } from "./wasm/team.js";
import { WasmBackend, type WasmThresholds } from "./wasm/wasm-backend.js";

export interface NodeWasmOptions {
  /** Threads including the caller's (default: all cores). */
  threads?: number;
  /** Use the relaxed-SIMD build when the engine supports it (default true). */
  relaxedSimd?: boolean;
  thresholds?: Partial<WasmThresholds>;
  /** Bound of the shared memory in 64 KiB pages (default 4 GiB). */
  maxPages?: number;
}

export function defaultThreads(): number {
  return typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
}

export async function createNodeWasmBackend(opts: NodeWasmOptions = {}): Promise<WasmBackend> {
  if (!simdSupported())
    throw new Error("this JavaScript engine has no WebAssembly SIMD: use XAIT_BACKEND=js");
  const threads = Math.max(1, Math.floor(opts.threads ?? defaultThreads()));
  const relaxed = (opts.relaxedSimd ?? true) && relaxedSimdSupported();
  const file = new URL(`./wasm/${kernelFile(relaxed, true)}`, import.meta.url);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    throw new Error(`${file.pathname}: kernels not built; run \`npm run build\` (or use XAIT_BACKEND=js)`);
  }
  const module = await WebAssembly.compile(new Uint8Array(bytes));
  const maxPages = opts.maxPages ?? NODE_MAX_PAGES;
  const memory = createMemory(true, maxPages);
  const run = await instantiateKernels(module, memory);
  const control = createControl();
  const started = await Promise.allSettled(
    Array.from({ length: threads - 1 }, (_, i) => startHelper(module, memory, control, i + 1)),
  );
  const workers = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const terminate = (): void => {
    for (const w of workers) void w.terminate();
  };
  const failed = started.find((s) => s.status === "rejected");
  if (failed) {
    terminate();
    throw new Error(`wasm backend: a helper thread failed to start: ${String(failed.reason)}`);
  }
  const team = new Team(control, workers.length, run);
  return new WasmBackend({ memory, maxPages, run, team, relaxedSimd: relaxed, terminate }, opts.thresholds);
}

function startHelper(
  module: WebAssembly.Module,
  memory: WebAssembly.Memory,
  control: Int32Array,
  id: number,
): Promise<Worker> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./wasm/node-worker.js", import.meta.url), {
      workerData: { module, memory, control, id },
    });
    worker.once("error", reject);
    worker.once("message", () => {
      worker.off("error", reject);
      worker.unref();
      resolve(worker);
    });
  });
}
