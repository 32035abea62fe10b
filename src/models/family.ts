/**
 * A model family: how its config.json is read, where its weights live, and how its blocks are
 * assembled from the shared building blocks (architecture.ts). Adding a family is one module under
 * families/ and one line in families/index.ts.
 */
import type { Architecture } from "./architecture.js";
import type { ConfigReader, ModelConfig } from "./config.js";

export interface Family {
  /** The `model_type` values this module reads. */
  readonly modelTypes: readonly string[];
  /** Read the family's config.json keys. */
  readConfig(r: ConfigReader, modelType: string): ModelConfig;
  /** The network a config describes. */
  architecture(cfg: ModelConfig): Architecture;
  /** config.json for a config (Hugging Face keys), written when a model is saved. */
  configJSON(cfg: ModelConfig): Record<string, unknown>;
  /** Other names under which a file may store a tensor (hub variants, legacy names), tried in order. */
  storedNames?(name: string): string[];
  /** Stored tensors that are known and not weights (buffers such as GPT-2's causal mask). */
  ignores?(name: string): boolean;
}

/** Legacy TensorFlow-era names that Hugging Face still accepts: LayerNorm.gamma / LayerNorm.beta. */
export function legacyLayerNormName(name: string): string[] {
  if (name.endsWith("LayerNorm.weight")) return [name.replace(/LayerNorm\.weight$/, "LayerNorm.gamma")];
  if (name.endsWith("LayerNorm.bias")) return [name.replace(/LayerNorm\.bias$/, "LayerNorm.beta")];
  return [];
}
