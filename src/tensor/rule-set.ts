/**
 * A rule set says how the backward pass of each kind of layer is modified (SPEC §2). A model's
 * forward is written once and consults the rule set where a rule may apply; an explanation method
 * is mostly a rule set plus Gradient × Input at the embeddings.
 */
export interface RuleSet {
  /** "constant": softmax attention probabilities detached (AH-rule). */
  attention: "gradient" | "constant";
  /** "uniform": the gradient leaving Q·Kᵀ and P·V is halved (AttnLRP's uniform rule). */
  attentionProducts: "gradient" | "uniform";
  /** "constant-std": LayerNorm's std detached, mean kept (LN-rule). */
  layerNorm: "gradient" | "constant-std";
  /** Element-wise activations inside the encoder (GELU, ReLU): "identity" rule or plain gradient. */
  activation: "gradient" | "identity";
  /** The classifier head's activation (BERT pooler tanh, RoBERTa head tanh, DistilBERT pre-classifier ReLU). */
  headActivation: "gradient" | "identity";
  /** LRP-γ on the encoder's linear layers (0 = LRP-0, the plain gradient). */
  gamma: number;
}

/** The unmodified model: plain gradients everywhere. */
export const GRADIENT_RULES: RuleSet = Object.freeze({
  attention: "gradient",
  attentionProducts: "gradient",
  layerNorm: "gradient",
  activation: "gradient",
  headActivation: "gradient",
  gamma: 0,
});
