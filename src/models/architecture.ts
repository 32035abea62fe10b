/**
 * The shape of a Transformer as data: which shared building blocks a family assembles and where their
 * weights live (Hugging Face tensor names). A family module (families/*.ts) builds an Architecture
 * from its config; model.ts runs any Architecture, and the tensors a model file must hold are derived
 * from it here.
 */
import type { Activation, ModelConfig } from "./config.js";

/** A linear layer. `out-in`: weight stored [out, in] as in PyTorch; `in-out`: [in, out] (GPT-2's Conv1D). */
export interface LinearSpec {
  weight: string;
  bias: string | null;
  layout: "out-in" | "in-out";
  in: number;
  out: number;
}

/**
 * A normalisation over the hidden axis. `layer`: (x − μ)/√(var + ε)·w + b; `rms`: x/√(mean(x²) + ε)·w;
 * `paper`: the paper's affine-free (x − μ)/(std + ε) with the unbiased std.
 */
export interface NormSpec {
  kind: "layer" | "rms" | "paper";
  weight: string | null;
  bias: string | null;
  size: number;
  eps: number;
}

export interface AttentionSpec {
  /** Separate q, k, v projections, or one fused projection whose output is split into q, k, v. */
  projections: { q: LinearSpec; k: LinearSpec; v: LinearSpec } | { fused: LinearSpec };
  output: LinearSpec;
  heads: number;
  /** Key/value heads; each is shared by heads / kvHeads query heads (grouped-query attention). */
  kvHeads: number;
  headDim: number;
  /** Scores scaled by 1/√headDim (all but the paper's model). */
  scaled: boolean;
  /** Rotary position embedding of q and k with this base, or none. */
  rotary: { theta: number } | null;
}

export type MlpSpec =
  | { kind: "dense"; up: LinearSpec; down: LinearSpec; activation: Activation }
  | { kind: "gated"; gate: LinearSpec; up: LinearSpec; down: LinearSpec; activation: Activation };

/**
 * One block. `post`: x ← norm(x + attn(x)); x ← norm(x + mlp(x)) (BERT). `pre`: x ← x + attn(norm(x));
 * x ← x + mlp(norm(x)) (GPT-2, Llama).
 */
export interface BlockSpec {
  placement: "pre" | "post";
  attention: AttentionSpec;
  attentionNorm: NormSpec;
  mlp: MlpSpec | null;
  mlpNorm: NormSpec | null;
}

export interface EmbeddingSpec {
  word: string;
  /** Learned positions: `zero` numbers tokens from 0; `roberta` from pad_token_id + 1, padding kept at pad_token_id. */
  position: { table: string; numbering: "zero" | "roberta" } | null;
  tokenType: string | null;
  norm: NormSpec | null;
}

/** The head on the hidden state of the explained position. */
export type HeadSpec =
  /** dense → tanh/ReLU → classifier (BERT's pooler, RoBERTa's classification head, DistilBERT's pre-classifier). */
  | { kind: "pooler"; dense: LinearSpec; activation: "tanh" | "relu"; classifier: LinearSpec }
  /** One projection: a decoder classifier's `score` or a language model's `lm_head` (possibly tied to the embeddings). */
  | { kind: "projection"; projection: LinearSpec };

/** What other layers may ask of a model, instead of its family name. */
export interface Capabilities {
  /** Each position attends only to itself and earlier positions. */
  causal: boolean;
  /** Padding is masked out of attention, so inputs of different lengths batch together. */
  masksPadding: boolean;
  /** The position the head reads: the first token ([CLS]) or the last real token. */
  explainedPosition: "first" | "last";
  /** The longest input the model takes, special tokens included. */
  maxTokens: number;
}

export interface Architecture {
  embeddings: EmbeddingSpec;
  blocks: BlockSpec[];
  /** The norm after the last block (pre-norm models). */
  finalNorm: NormSpec | null;
  head: HeadSpec;
  capabilities: Capabilities;
  /** Width of the hidden state. */
  hidden: number;
  /** Sizes of the embedding tables. */
  vocabSize: number;
  maxPositions: number;
  typeVocabSize: number;
  /** Tensors a model file holds but the forward pass does not use (written on save, ignored on load). */
  unused: ParamSpec[];
}

export interface ParamSpec {
  name: string;
  shape: number[];
  init: "normal" | "zeros" | "ones";
  /** Stored in the file for compatibility but not used by the forward pass. */
  unused?: boolean;
}

/** Every tensor a model file holds, with its shape and initialisation, each name once (tied weights). */
export function parameterSpecs(a: Architecture): ParamSpec[] {
  const specs = new Map<string, ParamSpec>();
  const put = (s: ParamSpec) => {
    if (!specs.has(s.name)) specs.set(s.name, s);
  };
  const linear = (l: LinearSpec) => {
    put({ name: l.weight, shape: l.layout === "out-in" ? [l.out, l.in] : [l.in, l.out], init: "normal" });
    if (l.bias) put({ name: l.bias, shape: [l.out], init: "zeros" });
  };
  const norm = (n: NormSpec | null) => {
    if (n?.weight) put({ name: n.weight, shape: [n.size], init: "ones" });
    if (n?.bias) put({ name: n.bias, shape: [n.size], init: "zeros" });
  };
  const e = a.embeddings;
  put({ name: e.word, shape: [a.vocabSize, a.hidden], init: "normal" });
  if (e.position) put({ name: e.position.table, shape: [a.maxPositions, a.hidden], init: "normal" });
  if (e.tokenType) put({ name: e.tokenType, shape: [a.typeVocabSize, a.hidden], init: "normal" });
  norm(e.norm);
  for (const b of a.blocks) {
    const p = b.attention.projections;
    if ("fused" in p) linear(p.fused);
    else for (const l of [p.q, p.k, p.v]) linear(l);
    linear(b.attention.output);
    norm(b.attentionNorm);
    if (b.mlp) {
      if (b.mlp.kind === "gated") linear(b.mlp.gate);
      linear(b.mlp.up);
      linear(b.mlp.down);
    }
    norm(b.mlpNorm);
  }
  norm(a.finalNorm);
  if (a.head.kind === "pooler") {
    linear(a.head.dense);
    linear(a.head.classifier);
  } else linear(a.head.projection);
  for (const u of a.unused) put({ ...u, unused: true });
  return [...specs.values()];
}

/** A linear layer stored [out, in] with an optional bias, named `${prefix}.weight` / `.bias`. */
export function torchLinear(prefix: string, inF: number, outF: number, bias = true): LinearSpec {
  return {
    weight: `${prefix}.weight`,
    bias: bias ? `${prefix}.bias` : null,
    layout: "out-in",
    in: inF,
    out: outF,
  };
}

/** An affine LayerNorm named `${prefix}.weight` / `.bias`. */
export function layerNormSpec(prefix: string, size: number, eps: number): NormSpec {
  return { kind: "layer", weight: `${prefix}.weight`, bias: `${prefix}.bias`, size, eps };
}

/** The sizes of the hidden state and the embedding tables, as the config gives them. */
export function tableSizes(
  cfg: ModelConfig,
): Pick<Architecture, "hidden" | "vocabSize" | "maxPositions" | "typeVocabSize"> {
  return {
    hidden: cfg.hiddenSize,
    vocabSize: cfg.vocabSize,
    maxPositions: cfg.maxPositions,
    typeVocabSize: cfg.typeVocabSize,
  };
}
