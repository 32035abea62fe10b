/**
 * Choosing the native accelerator in Node (XAIT_BACKEND=native|wasm|js; default: native when
 * onnxruntime-node is installed and works, else wasm without a word). A broken or mismatched
 * onnxruntime-node falls back with one warning; XAIT_BACKEND=native without it is an error that
 * says how to install it.
 */
import { XaitError } from "../errors.js";
import { getAccelerator, setAccelerator } from "../models/index.js";
import { loadOrt, NativeAccelerator, OrtUnavailable } from "./native-node.js";

export interface NativeSetup {
  threads?: number;
  /** One-line warnings (default: stderr). */
  warn?: (message: string) => void;
  /** Overrides XAIT_BACKEND. */
  backend?: string;
  /** Smallest batch (rows × tokens) whose inference compiles the forward graph. */
  minForwardTokens?: number;
}

/**
 * Install the native accelerator when chosen and available; returns it or null (engine only). Its
 * graphs are compiled once per model and hold the weights as they were: do not train a model
 * while it is installed.
 */
export function setupNative(opts: NativeSetup = {}): NativeAccelerator | null {
  const warn = opts.warn ?? ((m: string) => process.stderr.write(`warning: ${m}\n`));
  const choice = opts.backend ?? process.env["XAIT_BACKEND"] ?? "";
  const envThreads = Number(process.env["XAIT_THREADS"]);
  const threads = opts.threads ?? (Number.isInteger(envThreads) && envThreads >= 1 ? envThreads : undefined);
  setAccelerator(null);
  if (choice === "js" || choice === "wasm") return null;
  const explicit = choice === "native";
  let acc: NativeAccelerator;
  try {
    acc = new NativeAccelerator(loadOrt(), {
      ...(threads !== undefined ? { threads } : {}),
      ...(opts.minForwardTokens !== undefined ? { minForwardTokens: opts.minForwardTokens } : {}),
      onNotCompilable: (what, why) => {
        if (explicit) warn(`${what} does not compile to an ONNX graph (${why}); it runs on wasm`);
      },
    });
  } catch (e) {
    if (!(e instanceof OrtUnavailable)) throw e;
    if (explicit) throw new XaitError(`XAIT_BACKEND=native: ${e.message}`);
    if (!e.missing) warn(`${e.message}; using wasm`);
    return null;
  }
  setAccelerator(acc);
  return acc;
}

/** The methods that compile to one graph (rule-set methods; the others run on the engine). */
export const COMPILED_METHODS: readonly string[] = ["lrp", "lrp-ah", "attnlrp", "gi", "saliency"];

/** Under XAIT_BACKEND=native: one line naming the chosen methods that do not compile. */
export function warnNotCompiled(
  methods: readonly string[],
  warn: (m: string) => void,
  kernels = "wasm",
): void {
  if (!getAccelerator() || process.env["XAIT_BACKEND"] !== "native") return;
  const rest = methods.filter((m) => !COMPILED_METHODS.includes(m));
  if (rest.length)
    warn(
      `${rest.join(", ")} ${rest.length === 1 ? "does" : "do"} not compile to an ONNX graph; ${rest.length === 1 ? "it runs" : "they run"} on ${kernels}`,
    );
}

/** The name of the backend that runs explanations: native, or the kernel backend's. */
export function runningBackend(kernels: string): string {
  return getAccelerator()?.name ?? kernels;
}
