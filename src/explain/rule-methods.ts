/**
 * The rule-set methods (SPEC §2): one forward pass under a rule set, one backward pass from the
 * target logit, Gradient × Input at the embeddings E. `lrp`, `lrp-ah`, `attnlrp` and `gi` differ only
 * in the rule set; `saliency` reads |∂f/∂E| on the unmodified model.
 */
import { GRADIENT_RULES, Tensor, noGrad, type RuleSet } from "../tensor/index.js";
import type { Trace } from "../models/index.js";
import { targetSeed, type BatchInput, type Method, type MethodInput, type MethodOutput } from "./context.js";

/** LRP (AH+LN), the paper's method: attention probabilities and LayerNorm std constant, identity rule on activations. */
export function lrpRules(gamma = 0): RuleSet {
  return {
    attention: "constant",
    attentionProducts: "gradient",
    layerNorm: "constant-std",
    activation: "identity",
    headActivation: "gradient",
    gamma,
  };
}

/** LRP (AH): as `lrp`, but LayerNorm unmodified. */
export function lrpAhRules(gamma = 0): RuleSet {
  return { ...lrpRules(gamma), layerNorm: "gradient" };
}

/** AttnLRP in Gradient × Input form: std constant, softmax gradient kept, both attention products halved, identity everywhere. */
export function attnLrpRules(gamma = 0): RuleSet {
  return {
    attention: "gradient",
    attentionProducts: "uniform",
    layerNorm: "constant-std",
    activation: "identity",
    headActivation: "identity",
    gamma,
  };
}

/** Σ_d of x ⊙ g per token over rows [batch, seq, hidden]. */
export function tokenSums(
  x: ArrayLike<number>,
  g: ArrayLike<number>,
  seq: number,
  hidden: number,
  row = 0,
  abs = false,
): number[] {
  const out = new Array<number>(seq).fill(0);
  const base = row * seq * hidden;
  for (let t = 0; t < seq; t++) {
    let s = 0;
    for (let d = 0; d < hidden; d++) {
      const i = base + t * hidden + d;
      s += abs ? Math.abs(g[i]!) : x[i]! * g[i]!;
    }
    out[t] = s;
  }
  return out;
}

/**
 * Gradient of the target logit(s) w.r.t. the embeddings E under `rules`; returns E, its gradient and,
 * when asked, the relevance sum at every block input per row (Σ x_l ⊙ ∂f/∂x_l).
 */
export function embeddingGradient(
  input: MethodInput | BatchInput,
  rules: RuleSet,
  perLayer: boolean,
): { E: Tensor; grad: Float32Array | Float64Array; layers?: number[][] } {
  const { model, batch } = input;
  const targets = "targets" in input ? input.targets : input.target;
  const E = noGrad(() => model.embed(batch)).requireGrad();
  const trace: Trace | undefined = perLayer
    ? { attention: [], blockInputs: [], retainBlockGrads: true }
    : undefined;
  const logits = model.encode(E, batch, { rules, trace });
  logits.backward(targetSeed(batch.batch, model.numLabels, targets));
  const layers = trace?.blockInputs.map((x) => {
    const per = x.size / batch.batch;
    return Array.from({ length: batch.batch }, (_, r) => {
      let s = 0;
      for (let i = r * per; i < (r + 1) * per; i++) s += x.data[i]! * x.grad![i]!;
      return s;
    });
  });
  // transpose to [row][layer]
  const byRow = layers && Array.from({ length: batch.batch }, (_, r) => layers.map((l) => l[r]!));
  return { E, grad: E.grad!, layers: byRow };
}

/** Per-row outputs of a batched gradient: token sums trimmed to each row's real length. */
function rowsOf(
  input: BatchInput,
  E: Tensor,
  grad: ArrayLike<number>,
  abs: boolean,
  layers?: number[][],
): MethodOutput[] {
  const { batch } = input;
  return Array.from({ length: batch.batch }, (_, r) => {
    let len = 0;
    for (let t = 0; t < batch.seq; t++) len += batch.mask[r * batch.seq + t]!;
    const attributions = tokenSums(E.data, grad, batch.seq, E.dim(-1), r, abs).slice(0, len);
    return layers ? { attributions, layers: layers[r] } : { attributions };
  });
}

function ruleMethod(id: string, title: string, rules: (gamma: number) => RuleSet): Method {
  return {
    id,
    title,
    conservative: true,
    run(input): MethodOutput {
      const { E, grad, layers } = embeddingGradient(input, rules(input.options.gamma), true);
      return { attributions: tokenSums(E.data, grad, input.batch.seq, E.dim(-1)), layers: layers![0] };
    },
    runBatch(input) {
      const { E, grad, layers } = embeddingGradient(input, rules(input.options.gamma), true);
      return rowsOf(input, E, grad, false, layers);
    },
  };
}

export const lrp = ruleMethod("lrp", "LRP (AH+LN)", lrpRules);
export const lrpAh = ruleMethod("lrp-ah", "LRP (AH)", lrpAhRules);
export const attnLrp = ruleMethod("attnlrp", "AttnLRP", attnLrpRules);
export const gi = ruleMethod("gi", "GI", () => GRADIENT_RULES);

export const saliency: Method = {
  id: "saliency",
  title: "Saliency",
  conservative: false,
  run(input) {
    const { E, grad } = embeddingGradient(input, GRADIENT_RULES, false);
    return { attributions: tokenSums(E.data, grad, input.batch.seq, E.dim(-1), 0, true) };
  },
  runBatch(input) {
    const { E, grad } = embeddingGradient(input, GRADIENT_RULES, false);
    return rowsOf(input, E, grad, true);
  },
};
