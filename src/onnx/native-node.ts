/**
 * The `native` backend for Node: compiled explanation graphs (compile.ts) run in onnxruntime-node,
 * one InferenceSession per model × graph (rule map, reading) × dtype, cached; one call per batch.
 * onnxruntime-node is an optional peer dependency, loaded only here (Node-only).
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type {
  Accelerator,
  AcceleratedExplanation,
  Batch,
  Reading,
  RuleMap,
  TransformerModel,
} from "../models/index.js";
import { compileGraph, NotCompilable, type CompiledGraph, type GraphKind } from "./compile.js";

/** The one command that adds the accelerator. */
export const INSTALL_HINT =
  "ONNXRUNTIME_NODE_INSTALL=skip npm install --no-save --save-peer onnxruntime-node@1.31.1";

interface OrtTensor {
  data: Float32Array;
  dims: readonly number[];
}
interface OrtSession {
  loadModel(buffer: ArrayBuffer, offset: number, length: number, options: object): Promise<void>;
  readonly inputMetadata: { name: string }[];
  run(
    feeds: Record<string, unknown>,
    fetches: Record<string, null>,
    options: object,
  ): Record<string, OrtTensor>;
  dispose(): void;
}
export interface OrtRuntime {
  version: string;
  Tensor: new (type: string, data: unknown, dims: readonly number[]) => unknown;
  binding: { InferenceSession: new () => OrtSession };
}

/** Why onnxruntime-node cannot be used: not installed, or installed and broken. */
export class OrtUnavailable extends Error {
  constructor(
    message: string,
    readonly missing: boolean,
  ) {
    super(message);
  }
}

/**
 * Load onnxruntime-node (`specifier`: the package name or a folder; XAIT_ORT_MODULE overrides it,
 * for tests of a broken installation). Throws OrtUnavailable.
 */
export function loadOrt(specifier = process.env["XAIT_ORT_MODULE"] || "onnxruntime-node"): OrtRuntime {
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    dir = dirname(require.resolve(join(specifier, "package.json")));
  } catch {
    throw new OrtUnavailable(`onnxruntime-node is not installed (add it with: ${INSTALL_HINT})`, true);
  }
  try {
    const pkg = require(join(dir, "package.json")) as { version?: string };
    const version = pkg.version ?? "?";
    const major = Number(version.split(".")[0]);
    const minor = Number(version.split(".")[1]);
    if (!(major === 1 && minor >= 20))
      throw new Error(`version ${version} is not supported (xait wants 1.20 or later; ${INSTALL_HINT})`);
    const ort = require(dir) as { Tensor?: OrtRuntime["Tensor"]; env?: { logLevel?: string } };
    // onnxruntime's own warnings (e.g. about constants it folds away) would break one-line stderr
    if (ort.env) ort.env.logLevel = "error";
    const b = require(join(dir, "dist", "binding.js")) as {
      binding?: OrtRuntime["binding"];
      initOrt?: () => void;
    };
    if (!ort.Tensor || !b.binding?.InferenceSession || !b.initOrt)
      throw new Error(`version ${version} does not have the expected binding (${INSTALL_HINT})`);
    b.initOrt();
    return { version, Tensor: ort.Tensor, binding: b.binding };
  } catch (e) {
    const why = e instanceof Error ? e.message.split("\n")[0]! : String(e);
    throw new OrtUnavailable(`onnxruntime-node at ${dir} cannot be used: ${why}`, false);
  }
}

export interface NativeOptions {
  threads?: number;
  /** Prepack the weights (faster products, a second copy of the weights); default XAIT_NATIVE_PREPACK=1. */
  prepack?: boolean;
  /** Smallest batch (rows × tokens) that compiles the forward graph (default MIN_FORWARD_TOKENS). */
  minForwardTokens?: number;
  /** Called once per graph that does not compile (the method then runs on the engine). */
  onNotCompilable?: (what: string, why: string) => void;
}

interface CachedSession {
  session: OrtSession;
  graph: CompiledGraph;
}

/** Tokens in a batch from which inference compiles its graph (smaller batches stay on the engine). */
export const MIN_FORWARD_TOKENS = 256;

function graphKey(what: GraphKind): string {
  return what.kind === "forward" ? "forward" : `${what.reading}:${JSON.stringify(what.rules)}`;
}

/** The native accelerator over a loaded onnxruntime-node. */
export class NativeAccelerator implements Accelerator {
  readonly name = "native";
  readonly threads: number;
  readonly prepack: boolean;
  private readonly sessions = new WeakMap<TransformerModel, Map<string, CachedSession | string>>();

  constructor(
    readonly ort: OrtRuntime,
    private readonly options: NativeOptions = {},
  ) {
    this.threads = options.threads ?? 2;
    this.prepack = options.prepack ?? process.env["XAIT_NATIVE_PREPACK"] === "1";
  }

  /** The session of a graph, made on first use; a string says why there is none. */
  session(model: TransformerModel, what: GraphKind): CachedSession | string {
    let byKey = this.sessions.get(model);
    if (!byKey) this.sessions.set(model, (byKey = new Map()));
    const key = graphKey(what);
    const have = byKey.get(key);
    if (have !== undefined) return have;
    let made: CachedSession | string;
    try {
      made = this.create(compileGraph(model, what));
    } catch (e) {
      if (!(e instanceof NotCompilable)) throw e;
      made = e.message;
      this.options.onNotCompilable?.(what.kind === "forward" ? "the forward pass" : "the method", made);
    }
    byKey.set(key, made);
    return made;
  }

  /** An InferenceSession of compiled bytes (onnxruntime-node initialises it synchronously). */
  create(graph: CompiledGraph): CachedSession {
    const session = new this.ort.binding.InferenceSession();
    const bytes = graph.bytes;
    let failure: unknown = null;
    session
      .loadModel(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, {
        intraOpNumThreads: this.threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: "all",
        executionMode: "sequential",
        executionProviders: [{ name: "cpu" }],
        logSeverityLevel: 3,
        // prepacked weights are a second copy of every weight per session; without them the
        // products pack on the fly (a few per cent slower, half the memory) — XAIT_NATIVE_PREPACK=1
        // threads that spin while waiting for work steal the CPU on a shared machine (measured
        // 10–20 % slower with training jobs beside it) — XAIT_NATIVE_SPIN=1 lets them spin
        extra: {
          session: {
            ...(this.prepack ? {} : { disable_prepacking: "1" }),
            intra_op: { allow_spinning: process.env["XAIT_NATIVE_SPIN"] === "1" ? "1" : "0" },
          },
        },
      })
      .catch((e: unknown) => {
        failure = e;
      });
    try {
      void session.inputMetadata;
    } catch {
      throw new NotCompilable(`onnxruntime could not load the graph${failure ? `: ${String(failure)}` : ""}`);
    }
    return { session, graph: { ...graph, bytes: new Uint8Array(0) } };
  }

  private feeds(batch: Batch, seed?: Float32Array, outputs?: number): Record<string, unknown> {
    const dims = [batch.batch, batch.seq];
    const i64 = (a: ArrayLike<number>) => {
      const out = new BigInt64Array(a.length);
      for (let i = 0; i < a.length; i++) out[i] = BigInt(a[i]!);
      return new this.ort.Tensor("int64", out, dims);
    };
    const f: Record<string, unknown> = {
      input_ids: i64(batch.ids),
      attention_mask: i64(batch.mask),
      token_type_ids: i64(batch.typeIds),
    };
    if (seed) f["seed"] = new this.ort.Tensor("float32", seed, [batch.batch, outputs!]);
    return f;
  }

  explain(
    model: TransformerModel,
    batch: Batch,
    rules: RuleMap,
    reading: Reading,
    seed: Float32Array,
  ): AcceleratedExplanation | null {
    const s = this.session(model, { kind: "explain", rules, reading });
    if (typeof s === "string") return null;
    const out = s.session.run(
      this.feeds(batch, seed, model.numLabels),
      { logits: null, relevance: null, block_relevance: null },
      {},
    );
    const blocks = out["block_relevance"]!.data;
    const L = s.graph.layers;
    return {
      relevance: out["relevance"]!.data,
      logits: out["logits"]!.data,
      layers: Array.from({ length: batch.batch }, (_, r) => Array.from(blocks.subarray(r * L, (r + 1) * L))),
    };
  }

  /**
   * Logits by the compiled forward pass. A small batch before the forward graph exists stays on the
   * engine: compiling and loading a graph costs more than a few hundred tokens of inference (the
   * first prediction of `explain` on one sentence).
   */
  forward(model: TransformerModel, batch: Batch): Float32Array | null {
    const have = this.sessions.get(model)?.has(graphKey({ kind: "forward" }));
    if (!have && batch.batch * batch.seq < (this.options.minForwardTokens ?? MIN_FORWARD_TOKENS)) return null;
    const s = this.session(model, { kind: "forward" });
    if (typeof s === "string") return null;
    return s.session.run(this.feeds(batch), { logits: null }, {})["logits"]!.data;
  }
}
