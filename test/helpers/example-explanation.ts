/** A hand-made explanation for the report tests: a relevance method (lrp) and a non-conservative one. */
import type { Explanation } from "../../src/explain/result.js";

export function exampleExplanation(
  over: Partial<Explanation> = {},
  attentionMethod = "attention-last",
): Explanation {
  return {
    model: "models/tiny-sst2",
    text: "the movie was unbelievably good",
    tokens: ["[CLS]", "the", "movie", "was", "un", "##believ", "##ably", "good", "[SEP]"],
    ids: [101, 1996, 3185, 2001, 4895, 2571, 8231, 2204, 102],
    logits: [-1.2, 2.3],
    probabilities: [0.03, 0.97],
    target: 1,
    label: "positive",
    predicted: 1,
    predictedLabel: "positive",
    labels: ["negative", "positive"],
    explanations: {
      lrp: {
        attributions: [0.01, -0.2, 0.1, -0.05, 0.3, 0.4, 0.2, 1.5, 0.02],
        sum: 2.28,
        logit: 2.3,
        conservative: true,
        layers: [2.28, 2.285, 2.29, 2.3],
        ms: 12,
      },
      [attentionMethod]: {
        attributions: [1, 0.5, 0.2, 0.3, 0.1, 0.1, 0.1, 0.4, 0.9],
        sum: 3.6,
        logit: 2.3,
        conservative: false,
      },
    },
    ...over,
  };
}
