/**
 * Platform-neutral pieces of loading the kernels: which build to use, the shared memory, and turning a
 * compiled module into the `run` entry point. Fetching bytes and starting threads is the platform's
 * job (wasm-node.ts for Node, browser.ts for pages).
 */
import type { KernelRun } from "./team.js";

/** File name of a build, beside this module once compiled (see build.mjs). */
export function kernelFile(relaxedSimd: boolean, sharedMemory: boolean): string {
  return `kernels${relaxedSimd ? "-relaxed" : ""}${sharedMemory ? "" : "-unshared"}.wasm`;
}

/** (func (param v128) (result v128) local.get 0 ×3 f32x4.relaxed_madd): valid iff relaxed SIMD is on. */
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60, 0x01, 0x7b, 0x01, 0x7b, 0x03, 0x02,
  0x01, 0x00, 0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x00, 0x20, 0x00, 0xfd, 0x85, 0x02, 0x0b,
]);

/** (func (param v128) (result v128) local.get 0): valid iff SIMD128 is on. */
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60, 0x01, 0x7b, 0x01, 0x7b, 0x03, 0x02,
  0x01, 0x00, 0x0a, 0x06, 0x01, 0x04, 0x00, 0x20, 0x00, 0x0b,
]);

export function simdSupported(): boolean {
  return typeof WebAssembly === "object" && WebAssembly.validate(SIMD_PROBE);
}

/** Relaxed SIMD (fused multiply-add); on Node 20 behind --experimental-wasm-relaxed-simd. */
export function relaxedSimdSupported(): boolean {
  return simdSupported() && WebAssembly.validate(RELAXED_PROBE);
}

/**
 * 64 KiB pages the memory starts with and may grow to: 1 GiB in pages, 4 GiB (all that wasm32 can
 * address) in Node; resident weights that would not fit stay ordinary arrays, and calls whose
 * operands would not fit run on the js backend.
 */
export const INITIAL_PAGES = 256;
export const MAX_PAGES = 16384;
export const NODE_MAX_PAGES = 65536;

/** The kernels' memory: shared for a team of threads (needs SharedArrayBuffer), unshared otherwise. */
export function createMemory(shared: boolean, maxPages = MAX_PAGES): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: Math.min(INITIAL_PAGES, maxPages), maximum: maxPages, shared });
}

/** Instantiate the kernel module on its memory; returns the `run` entry point. */
export async function instantiateKernels(
  module: WebAssembly.Module,
  memory: WebAssembly.Memory,
): Promise<KernelRun> {
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const run = instance.exports["run"];
  if (typeof run !== "function") throw new Error("xait kernels: module has no `run` export");
  return run as KernelRun;
}
