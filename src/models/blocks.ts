/**
 * The shared building blocks every family is assembled from — linear layers, norms, attention,
 * MLPs, heads — each computing its forward pass and asking the rule map at its sites (sites.ts) how
 * its backward pass is to be modified.
 */
import {
  Tensor,
  add,
  causalMask,
  dropout,
  gammaLinear,
  gelu,
  identityRule,
  layerNorm,
  linear,
  matmul,
  mul,
  permute,
  relu,
  repeatHeads,
  reshape,
  rmsNorm,
  rotary,
  scale,
  silu,
  slice,
  softmax,
  tanh,
  transpose,
  uniform,
  type Random,
} from "../tensor/index.js";
import { symbolic } from "../tensor/trace.js";
import type { Activation } from "./config.js";
import type { AttentionSpec, LinearSpec, MlpSpec, NormSpec } from "./architecture.js";
import { gammaOf, type RuleMap } from "./sites.js";

/** What the blocks of one forward pass share. */
export interface BlockContext {
  param(name: string): Tensor;
  rules: RuleMap;
  /** Training: dropout probability and its generator. */
  train?: { dropout: number; rng: Random };
}

export function drop(ctx: BlockContext, x: Tensor): Tensor {
  return ctx.train ? dropout(x, ctx.train.dropout, ctx.train.rng) : x;
}

/**
 * A linear layer. Inside the blocks (`site` true) the `linear` site's rule applies: LRP-γ when
 * γ > 0; the heads always take the plain gradient (LRP-0).
 */
export function applyLinear(ctx: BlockContext, x: Tensor, spec: LinearSpec, site = true): Tensor {
  const w = ctx.param(spec.weight);
  const b = spec.bias ? ctx.param(spec.bias) : null;
  const gamma = site ? gammaOf(ctx.rules) : 0;
  if (gamma > 0) return gammaLinear(x, spec.layout === "out-in" ? w : transposed(w), b, gamma);
  if (spec.layout === "out-in") return linear(x, w, b);
  const y = matmul(x, w);
  return b ? add(y, b) : y;
}

/** [in, out] → [out, in] as a constant (LRP-γ needs no gradient for weights). */
function transposed(w: Tensor): Tensor {
  return transpose(w.detach(), 0, 1).detach();
}

/** A norm under the `norm.scale` site's rule (`detach`: the LN-rule). */
export function applyNorm(ctx: BlockContext, x: Tensor, spec: NormSpec): Tensor {
  const constant = ctx.rules["norm.scale"] === "detach";
  const w = spec.weight ? ctx.param(spec.weight) : null;
  switch (spec.kind) {
    case "layer":
      return layerNorm(x, w, spec.bias ? ctx.param(spec.bias) : null, {
        eps: spec.eps,
        form: "bert",
        constantStd: constant,
      });
    case "paper":
      return layerNorm(x, null, null, { eps: spec.eps, form: "paper", constantStd: constant });
    case "rms":
      return rmsNorm(x, w, { eps: spec.eps, constantScale: constant });
  }
}

/** An element-wise activation and its value of act(z)/z at z = 0 (for the identity rule). */
function activationFn(act: Activation): [(t: Tensor) => Tensor, number] {
  switch (act) {
    case "relu":
      return [relu, 0];
    case "silu":
      return [silu, 0.5];
    case "gelu":
      return [(t) => gelu(t, "erf"), 0.5];
    case "gelu_new":
      return [(t) => gelu(t, "tanh"), 0.5];
  }
}

/** act(z) under a rule: `identity` passes relevance unchanged (backward × act(z)/z). */
export function activate(z: Tensor, act: Activation, rule: string): Tensor {
  const [f, atZero] = activationFn(act);
  return rule === "identity" ? identityRule(z, f, atZero) : f(z);
}

/** Where the attention of one block may look and where its tokens sit. */
export interface AttentionInput {
  batch: number;
  seq: number;
  /** Additive mask [batch, 1, 1 or seq, seq], or null when every position sees every other. */
  mask: Tensor | null;
  /** Position of every token (batch · seq) for rotary embeddings. */
  positions: Int32Array;
}

/** The additive attention mask of a batch: causal and/or padding, or null when nothing is masked. */
export function attentionMask(
  batch: number,
  seq: number,
  mask: Uint8Array,
  causal: boolean,
  masksPadding: boolean,
): Tensor | null {
  if (causal) {
    const m = causalMask(batch, seq, masksPadding ? mask : undefined);
    symbolic(m.data, { kind: "attention-mask", causal, padding: masksPadding });
    return m;
  }
  if (!masksPadding || mask.every((m) => m === 1)) return null;
  const m = Tensor.zeros([batch, 1, 1, seq]);
  for (let i = 0; i < mask.length; i++) if (!mask[i]) m.data[i] = -1e9;
  symbolic(m.data, { kind: "attention-mask", causal, padding: true });
  return m;
}

/**
 * Multi-head attention: q, k, v projections (rotary on q and k, k/v heads repeated over their query
 * groups), P = softmax(q·kᵀ [/√d] + mask) under `attention.probs`, both products under
 * `attention.products`, then the output projection. `onProbs` sees the probabilities (traces).
 */
export function applyAttention(
  ctx: BlockContext,
  x: Tensor,
  spec: AttentionSpec,
  at: AttentionInput,
  onProbs?: (p: Tensor) => void,
): Tensor {
  const { batch: B, seq: T } = at;
  const dh = spec.headDim;
  const heads = (t: Tensor, n: number) => permute(reshape(t, [B, T, n, dh]), [0, 2, 1, 3]);
  let q: Tensor, k: Tensor, v: Tensor;
  const p = spec.projections;
  if ("fused" in p) {
    const qkv = applyLinear(ctx, x, p.fused);
    const width = spec.heads * dh;
    q = slice(qkv, -1, 0, width);
    k = slice(qkv, -1, width, 2 * width);
    v = slice(qkv, -1, 2 * width, 3 * width);
  } else {
    q = applyLinear(ctx, x, p.q);
    k = applyLinear(ctx, x, p.k);
    v = applyLinear(ctx, x, p.v);
  }
  q = heads(q, spec.heads);
  k = heads(k, spec.kvHeads);
  v = heads(v, spec.kvHeads);
  if (spec.rotary) {
    q = rotary(q, at.positions, spec.rotary.theta);
    k = rotary(k, at.positions, spec.rotary.theta);
  }
  if (spec.kvHeads !== spec.heads) {
    k = repeatHeads(k, spec.heads / spec.kvHeads);
    v = repeatHeads(v, spec.heads / spec.kvHeads);
  }
  const halve = ctx.rules["attention.products"] === "uniform";
  let scores = matmul(q, k, { transB: true });
  if (halve) scores = uniform(scores, 2);
  if (spec.scaled) scores = scale(scores, 1 / Math.sqrt(dh));
  const probs = softmax(scores, { mask: at.mask, constant: ctx.rules["attention.probs"] === "detach" });
  onProbs?.(probs);
  let c = matmul(drop(ctx, probs), v);
  if (halve) c = uniform(c, 2);
  const merged = reshape(permute(c, [0, 2, 1, 3]), [B, T, spec.heads * dh]);
  return applyLinear(ctx, merged, spec.output);
}

/**
 * A block's MLP. Dense: down(act(up(x))), the activation under `mlp.activation`. Gated:
 * down(act(gate(x)) ⊙ up(x)) — the activation under `mlp.activation`, the gate under `mlp.gate`
 * (`detach`: the gate held constant; `uniform`: the gradient leaving the product halved).
 */
export function applyMlp(ctx: BlockContext, x: Tensor, spec: MlpSpec): Tensor {
  const actRule = ctx.rules["mlp.activation"];
  if (spec.kind === "dense")
    return applyLinear(ctx, activate(applyLinear(ctx, x, spec.up), spec.activation, actRule), spec.down);
  const gateRule = ctx.rules["mlp.gate"];
  let g = activate(applyLinear(ctx, x, spec.gate), spec.activation, actRule);
  if (gateRule === "detach") g = g.detach();
  let h = mul(g, applyLinear(ctx, x, spec.up));
  if (gateRule === "uniform") h = uniform(h, 2);
  return applyLinear(ctx, h, spec.down);
}

/** The head's activation under `head.activation`. */
export function headActivation(z: Tensor, act: "tanh" | "relu", rule: string): Tensor {
  const f = act === "tanh" ? tanh : relu;
  return rule === "identity" ? identityRule(z, f, act === "tanh" ? 1 : 0) : f(z);
}
