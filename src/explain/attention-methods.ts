/**
 * Attention-based methods on the model's own attention: `attention-last`, `rollout`,
 * `attention-flow` (probabilities only) and `gae`, `grad-rollout` (probabilities weighted by the
 * gradient of the target logit on the unmodified model).
 */
import { noGrad, type Tensor } from "../tensor/index.js";
import { GRADIENT_RULES, type Trace } from "../models/index.js";
import { targetSeed, type Method, type MethodInput } from "./context.js";
import * as maps from "./attention-maps.js";
import { attentionFlow as flow } from "./max-flow.js";

/**
 * The attention of every layer (and with `withGrad` its gradient from the target logit). `row`: for
 * a model that reads its last position (a decoder) the scores are that position's row of each map;
 * for an encoder reading [CLS], undefined (the maps' own conventions apply).
 */
function attentionOf(
  input: MethodInput,
  withGrad: boolean,
): { P: Tensor[]; heads: number; T: number; row?: number } {
  const { model, batch, target, contrast } = input;
  const trace: Trace = { attention: [], blockInputs: [], retainAttentionGrad: withGrad };
  if (withGrad) {
    const E = noGrad(() => model.embed(batch)).requireGrad();
    model
      .encode(E, batch, { rules: GRADIENT_RULES, trace })
      .backward(targetSeed(1, model.numLabels, target, contrast));
  } else noGrad(() => model.forward(batch, { trace }));
  const row =
    model.capabilities.explainedPosition === "last" ? model.explainedPositions(batch)[0]! : undefined;
  return {
    P: trace.attention,
    heads: model.config.numHeads,
    T: batch.seq,
    ...(row !== undefined ? { row } : {}),
  };
}

export const attentionLast: Method = {
  id: "attention-last",
  title: "A-Last",
  conservative: false,
  run(input) {
    const { P, heads, T, row } = attentionOf(input, false);
    return { attributions: maps.attentionLast(P[P.length - 1]!.data, heads, T, row) };
  },
};

export const rollout: Method = {
  id: "rollout",
  title: "Rollout",
  conservative: false,
  run(input) {
    const { P, heads, T, row } = attentionOf(input, false);
    return {
      attributions: maps.rollout(
        P.map((p) => p.data),
        heads,
        T,
        row,
      ),
    };
  },
};

export const attentionFlow: Method = {
  id: "attention-flow",
  title: "A-Flow",
  conservative: false,
  run(input) {
    const { P, heads, T, row } = attentionOf(input, false);
    return {
      attributions: flow(
        P.map((p) => maps.withResidual(maps.meanHeads(p.data, heads, T), T)),
        T,
        row,
      ),
    };
  },
};

export const gae: Method = {
  id: "gae",
  title: "GAE",
  conservative: false,
  run(input) {
    const { P, heads, T, row } = attentionOf(input, true);
    return {
      attributions: maps.gae(
        P.map((p) => p.data),
        P.map((p) => p.grad!),
        heads,
        T,
        row,
      ),
    };
  },
};

export const gradRollout: Method = {
  id: "grad-rollout",
  title: "Grad-Rollout",
  conservative: false,
  run(input) {
    const { P, heads, T, row } = attentionOf(input, true);
    return {
      attributions: maps.gradRollout(
        P.map((p) => p.data),
        P.map((p) => p.grad!),
        heads,
        T,
        row,
      ),
    };
  },
};
