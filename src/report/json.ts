/**
 * The JSON object of `xait explain --json` for one explanation (field names in snake_case), shared by
 * the command line and the page. Browser-safe.
 */
import type { Generation } from "../explain/generate.js";
import type { Explanation } from "../explain/result.js";

/** A generation as printed by `xait explain --generate N --json`: the steps' explanations in order. */
export function generationJSON(g: Generation): Record<string, unknown> {
  return {
    text: g.text,
    generated: g.generatedText,
    generated_tokens: g.generated,
    steps: g.steps.map(explanationJSON),
  };
}

/** One explanation as printed by `xait explain --json`. */
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
    ...(r.targetToken ? { target_token: r.targetToken, output_ids: r.outputIds, outputs: r.labels } : {}),
    ...(r.contrast ? { contrast: r.contrast } : {}),
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
