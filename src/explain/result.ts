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
  /** The explained logit f_c of the target class. */
  logit: number;
  /** True for methods whose scores are relevances meant to sum to the logit; false for attention maps, saliency, random. */
  conservative: boolean;
  /** For `lrp` (and the other rule sets): Σ relevance at the input of every block, embeddings first, then after each block. */
  layers?: number[];
  /** Wall time of this method for this input, in milliseconds. */
  ms?: number;
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
  /** All class labels in index order. */
  labels: string[];
  explanations: Record<string, MethodExplanation>;
}
