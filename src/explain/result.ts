/**
 * The one result type that flows from explain/ through evaluate/ to report/. It serialises to the
 * JSON printed by `xait explain --json`.
 */

/** One method's attribution of one prediction. */
export interface MethodExplanation {
  /** One signed score per token, in token order, special tokens included. */
  attributions: number[];
  /** Σ_t R_t — comparable with `logit` for relevance methods (lrp, lrp-ah, attnlrp, gi, ig, occlusion). */
  sum: number;
  /** The explained quantity: the target's logit f_c (minus the contrast's logit when one is given). */
  logit: number;
  /** True for methods whose scores are relevances meant to sum to the logit; false for attention maps, saliency, random. */
  conservative: boolean;
  /** For `lrp` (and the other rule sets): Σ relevance at the input of every block, embeddings first, then after each block. */
  layers?: number[];
  /** Wall time of this method for this input, in milliseconds. */
  ms?: number;
}

/** A token of a language model's vocabulary. */
export interface TokenRef {
  id: number;
  /** Its text (byte-level pieces decoded). */
  text: string;
}

export interface Explanation {
  /** The model folder (as given). */
  model: string;
  text: string;
  /** The second text of a text pair, if any. */
  pair?: string;
  tokens: string[];
  ids: number[];
  logits: number[];
  probabilities: number[];
  /** The explained class index. */
  target: number;
  /** The label of the target class. */
  label: string;
  /** The predicted class index and its label. */
  predicted: number;
  predictedLabel: string;
  /**
   * The outputs listed, in the order of `logits` and `probabilities`: a classifier's class labels in
   * index order; for a language model the most likely next tokens (then the target and the contrast
   * if they are not among them). `target` and `predicted` index this list.
   */
  labels: string[];
  /** Language model: the vocabulary ids of `labels`. */
  outputIds?: number[];
  /** Language model: the explained next token. */
  targetToken?: TokenRef;
  /** The contrast (class or token) whose logit is subtracted from the target's. */
  contrast?: TokenRef;
  explanations: Record<string, MethodExplanation>;
}
