/**
 * The accelerator hook: an optional runner of whole compiled graphs (the `native` backend: ONNX
 * graphs in onnxruntime-node) that the rule-set methods and inference ask first. It answers null
 * for what it cannot run (a method that does not compile, float64 weights), and the engine's own
 * path runs instead. Nothing here imports a runtime: a Node-only entry point installs it.
 */
import type { Batch, TransformerModel } from "./model.js";
import type { RuleMap } from "./sites.js";

/** What the backward pass reads at the embeddings: Σ_d E·∂f/∂E (Gradient × Input) or Σ_d |∂f/∂E|. */
export type Reading = "input-times-gradient" | "saliency";

export interface AcceleratedExplanation {
  /** Relevance per token, [batch, seq] row-major (padding included). */
  relevance: Float32Array;
  /** Relevance sums at every block input and the last block's output, per row. */
  layers: number[][];
  /** Logits [batch, outputs]. */
  logits: Float32Array;
}

export interface Accelerator {
  readonly name: string;
  /** Explain a batch under a rule map from the backward seed [batch, outputs], or null. */
  explain(
    model: TransformerModel,
    batch: Batch,
    rules: RuleMap,
    reading: Reading,
    seed: Float32Array,
  ): AcceleratedExplanation | null;
  /** Logits [batch, outputs] of a batch, or null. */
  forward(model: TransformerModel, batch: Batch): Float32Array | null;
}

let installed: Accelerator | null = null;

/** Install (or with null remove) the accelerator. */
export function setAccelerator(a: Accelerator | null): void {
  installed = a;
}

export function getAccelerator(): Accelerator | null {
  return installed;
}
