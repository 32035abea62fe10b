/**
 * The rule-set methods: one forward pass under a rule map (a rule per site, models/sites.ts), one
 * backward pass from the target logit, Gradient × Input at the embeddings E. `lrp`, `lrp-ah`,
 * `attnlrp` and `gi` differ only in the map; `saliency` reads |∂f/∂E| on the unmodified model.
 */
import { Tensor, noGrad } from "../tensor/index.js";
import {
  GRADIENT_RULES,
  getAccelerator,
  linearRule,
  withRules,
  type Reading,
  type RuleMap,
  type Trace,
} from "../models/index.js";
import {
  targetSeed,
  type BatchInput,
  type Method,
  type MethodInput,
  type MethodOptions,
  type MethodOutput,
} from "./context.js";

/**
 * LRP (AH+LN), the paper's method (CP-LRP): attention probabilities and the norms' scale held
 * constant, the identity rule on MLP activations, a gated MLP's gate held constant; the head's
 * activation takes the plain gradient, as in the paper's code.
 */
export const LRP_RULES: RuleMap = Object.freeze({
  "attention.probs": "detach",
  "attention.products": "gradient",
  "norm.scale": "detach",
  "mlp.activation": "identity",
  "mlp.gate": "detach",
  "head.activation": "gradient",
  linear: "gradient",
});

/** LRP (AH): as `lrp`, but the norms unmodified. */
export const LRP_AH_RULES: RuleMap = Object.freeze({ ...LRP_RULES, "norm.scale": "gradient" });

/**
 * AttnLRP in Gradient × Input form: the norms' scale held constant; the gradient through the softmax
 * kept; the gradient leaving each attention product (Q·Kᵀ, P·V) and a gated MLP's product halved; the
 * identity rule on every element-wise activation, the head's included.
 */
export const ATTNLRP_RULES: RuleMap = Object.freeze({
  "attention.probs": "gradient",
  "attention.products": "uniform",
  "norm.scale": "detach",
  "mlp.activation": "identity",
  "mlp.gate": "uniform",
  "head.activation": "identity",
  linear: "gradient",
});

/** A method's rule map with the options applied: γ on the linear layers, then the per-site overrides. */
export function rulesFor(
  base: RuleMap,
  options: Pick<MethodOptions, "gamma" | "rules">,
  takesGamma = true,
): RuleMap {
  const gamma = takesGamma && options.gamma > 0 ? { linear: linearRule(options.gamma) } : {};
  return withRules(base, { ...gamma, ...(options.rules ?? {}) });
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
  rules: RuleMap,
  perLayer: boolean,
): { E: Tensor; grad: Float32Array | Float64Array; layers?: number[][] } {
  const { model, batch } = input;
  const E = noGrad(() => model.embed(batch)).requireGrad();
  const trace: Trace | undefined = perLayer
    ? { attention: [], blockInputs: [], retainBlockGrads: true }
    : undefined;
  const logits = model.encode(E, batch, { rules, trace });
  logits.backward(seedOf(input));
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

/** The backward seed of an input: one-hot on each row's target (minus one-hot on its contrast). */
export function seedOf(input: MethodInput | BatchInput): Float32Array {
  const { model, batch } = input;
  if ("targets" in input) return targetSeed(batch.batch, model.numLabels, input.targets, input.contrasts);
  return targetSeed(batch.batch, model.numLabels, input.target, input.contrast);
}

/**
 * The same explanation by the installed accelerator (one compiled graph per rule map), or null when
 * there is none or it cannot run this one. Rows trimmed to their real length.
 */
function accelerated(
  input: MethodInput | BatchInput,
  rules: RuleMap,
  reading: Reading,
): MethodOutput[] | null {
  const acc = getAccelerator();
  if (!acc) return null;
  const { model, batch } = input;
  const out = acc.explain(model, batch, rules, reading, seedOf(input));
  if (!out) return null;
  return Array.from({ length: batch.batch }, (_, r) => {
    let len = 0;
    for (let t = 0; t < batch.seq; t++) len += batch.mask[r * batch.seq + t]!;
    const attributions = Array.from(out.relevance.subarray(r * batch.seq, r * batch.seq + len));
    return reading === "saliency" ? { attributions } : { attributions, layers: out.layers[r]! };
  });
}

function ruleMethod(id: string, title: string, base: RuleMap, takesGamma: boolean): Method {
  return {
    id,
    title,
    conservative: true,
    rules: base,
    run(input): MethodOutput {
      const rules = rulesFor(base, input.options, takesGamma);
      const fast = accelerated(input, rules, "input-times-gradient");
      if (fast) return fast[0]!;
      const { E, grad, layers } = embeddingGradient(input, rules, true);
      return { attributions: tokenSums(E.data, grad, input.batch.seq, E.dim(-1)), layers: layers![0] };
    },
    runBatch(input) {
      const rules = rulesFor(base, input.options, takesGamma);
      const fast = accelerated(input, rules, "input-times-gradient");
      if (fast) return fast;
      const { E, grad, layers } = embeddingGradient(input, rules, true);
      return rowsOf(input, E, grad, false, layers);
    },
  };
}

export const lrp = ruleMethod("lrp", "LRP (AH+LN)", LRP_RULES, true);
export const lrpAh = ruleMethod("lrp-ah", "LRP (AH)", LRP_AH_RULES, true);
export const attnLrp = ruleMethod("attnlrp", "AttnLRP", ATTNLRP_RULES, true);
export const gi = ruleMethod("gi", "GI", GRADIENT_RULES, false);
export const saliency: Method = {
  id: "saliency",
  title: "Saliency",
  conservative: false,
  run(input) {
    const fast = accelerated(input, GRADIENT_RULES, "saliency");
    if (fast) return fast[0]!;
    const { E, grad } = embeddingGradient(input, GRADIENT_RULES, false);
    return { attributions: tokenSums(E.data, grad, input.batch.seq, E.dim(-1), 0, true) };
  },
  runBatch(input) {
    const fast = accelerated(input, GRADIENT_RULES, "saliency");
    if (fast) return fast;
    const { E, grad } = embeddingGradient(input, GRADIENT_RULES, false);
    return rowsOf(input, E, grad, true);
  },
};
