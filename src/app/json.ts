/**
 * The JSON object of `xait explain --json` for one explanation, built without Node so that the page
 * can offer the same download (field names in snake_case where the CLI uses them).
 */
import type { Explanation } from "../explain/result.js";

export function explanationJSON(r: Explanation): Record<string, unknown> {
  return {
    model: r.model,
    text: r.text,
    ...(r.pair !== undefined ? { pair: r.pair } : {}),
    tokens: r.tokens,
    ids: r.ids,
    logits: r.logits,
    probabilities: r.probabilities,
    target: r.target,
    label: r.label,
    predicted: r.predicted,
    predicted_label: r.predictedLabel,
    explanations: Object.fromEntries(
      Object.entries(r.explanations).map(([id, e]) => [
        id,
        {
          attributions: e.attributions,
          sum: e.sum,
          logit: e.logit,
          ...(e.layers ? { layers: e.layers } : {}),
          ms: e.ms,
        },
      ]),
    ),
  };
}
