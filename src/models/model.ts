/**
 * A Transformer sequence classifier, written once for every supported model type: the layout
 * (layout.ts) says where its weights live, the rule set (tensor/rule-set.ts) how its backward pass
 * is modified for an explanation.
 */
import { XaitError } from "../errors.js";
import {
  GRADIENT_RULES,
  Random,
  Tensor,
  add,
  dropout,
  gammaLinear,
  gather,
  gelu,
  identityRule,
  layerNorm,
  linear,
  matmul,
  permute,
  relu,
  reshape,
  scale,
  slice,
  softmax,
  tanh,
  uniform,
  type RuleSet,
} from "../tensor/index.js";
import type { ModelConfig } from "./config.js";
import { layoutOf, parameterSpecs, type Layout, type LinearNames } from "./layout.js";
import type { Tokenizer } from "../tokenize/index.js";

/** A padded batch of token ids, row-major [batch, seq]. */
export interface Batch {
  batch: number;
  seq: number;
  ids: Int32Array;
  typeIds: Int32Array;
  /** 1 for real tokens, 0 for padding. */
  mask: Uint8Array;
}

/** What a forward pass records for the explanation methods that need internals. */
export interface Trace {
  /** Attention probabilities of every layer, [batch, heads, seq, seq]. */
  attention: Tensor[];
  /** The input of every block and the output of the last one (L + 1 tensors, [batch, seq, hidden]). */
  blockInputs: Tensor[];
  /** Keep the gradient of the attention probabilities (GAE, Grad-Rollout). */
  retainAttentionGrad?: boolean;
  /** Keep the gradient at every block input (per-layer conservation). */
  retainBlockGrads?: boolean;
}

export interface ForwardOptions {
  rules?: RuleSet;
  trace?: Trace;
  /** Training: dropout probability and its generator. */
  train?: { dropout: number; rng: Random };
}

/** Mask value added to the scores of padding positions. */
const MASKED = -1e9;

/** Standard deviation of freshly initialised weights (BERT's initialiser range). */
export const INIT_STD = 0.02;

export class SequenceClassifier {
  readonly layout: Layout;

  constructor(
    readonly config: ModelConfig,
    readonly params: Map<string, Tensor>,
    readonly tokenizer: Tokenizer | null = null,
  ) {
    this.layout = layoutOf(config);
    for (const spec of parameterSpecs(config, this.layout)) {
      if (!spec.unused && !params.has(spec.name)) throw new XaitError(`model is missing tensor ${spec.name}`);
    }
  }

  /** A model with freshly initialised weights (normal(0, INIT_STD), zero biases, unit LayerNorm). */
  static initialise(
    config: ModelConfig,
    seed: number,
    tokenizer: Tokenizer | null = null,
    std = INIT_STD,
  ): SequenceClassifier {
    const rng = new Random(seed);
    const params = new Map<string, Tensor>();
    for (const spec of parameterSpecs(config)) {
      if (spec.unused) continue;
      const t = Tensor.zeros(spec.shape);
      if (spec.init === "ones") t.data.fill(1);
      else if (spec.init === "normal") for (let i = 0; i < t.size; i++) t.data[i] = rng.normal() * std;
      params.set(spec.name, t);
    }
    return new SequenceClassifier(config, params, tokenizer);
  }

  get numLabels(): number {
    return this.config.labels.length;
  }

  /** The trainable tensors the forward pass uses. */
  trainableParameters(): [string, Tensor][] {
    return parameterSpecs(this.config, this.layout)
      .filter((s) => !s.unused)
      .map((s) => [s.name, this.p(s.name)]);
  }

  private p(name: string): Tensor {
    const t = this.params.get(name);
    if (!t) throw new XaitError(`model is missing tensor ${name}`);
    return t;
  }

  /** The embedding output E [batch, seq, hidden] (after the embedding LayerNorm): relevance is read here. */
  embed(b: Batch, train?: ForwardOptions["train"]): Tensor {
    const cfg = this.config;
    if (b.seq > cfg.maxPositions)
      throw new XaitError(`input has ${b.seq} tokens, the model takes at most ${cfg.maxPositions}`);
    const shape = [b.batch, b.seq];
    for (const id of b.ids)
      if (id < 0 || id >= cfg.vocabSize)
        throw new XaitError(`token id ${id} is outside the vocabulary of ${cfg.vocabSize}`);
    let x = gather(this.p(this.layout.word), b.ids, shape);
    x = add(x, gather(this.p(this.layout.position), this.positionIds(b), shape));
    if (this.layout.tokenType) x = add(x, gather(this.p(this.layout.tokenType), b.typeIds, shape));
    const n = this.layout.embeddingNorm;
    x = layerNorm(x, this.p(n.weight), this.p(n.bias), { eps: cfg.layerNormEps, form: "bert" });
    return train ? dropout(x, train.dropout, train.rng) : x;
  }

  private positionIds(b: Batch): Int32Array {
    const pos = new Int32Array(b.batch * b.seq);
    const pad = this.config.padTokenId;
    for (let r = 0; r < b.batch; r++) {
      let count = 0;
      for (let t = 0; t < b.seq; t++) {
        const i = r * b.seq + t;
        if (this.layout.positionsFrom === "roberta") {
          if (b.mask[i]) count++;
          pos[i] = b.mask[i] ? count + pad : pad;
        } else pos[i] = t;
      }
    }
    return pos;
  }

  /** The encoder blocks and the classifier head on embeddings E; returns the logits [batch, classes]. */
  encode(E: Tensor, b: Batch, opts: ForwardOptions = {}): Tensor {
    const rules = opts.rules ?? GRADIENT_RULES;
    const { trace, train } = opts;
    const cfg = this.config;
    const paper = this.layout.attentionKind === "paper";
    const H = cfg.hiddenSize;
    const nh = cfg.numHeads;
    const dh = H / nh;
    const drop = (t: Tensor) => (train ? dropout(t, train.dropout, train.rng) : t);
    const lin = (x: Tensor, n: LinearNames) =>
      rules.gamma > 0
        ? gammaLinear(x, this.p(n.weight), this.p(n.bias), rules.gamma)
        : linear(x, this.p(n.weight), this.p(n.bias));
    const norm = (x: Tensor, n: LinearNames | null) =>
      n
        ? layerNorm(x, this.p(n.weight), this.p(n.bias), {
            eps: cfg.layerNormEps,
            form: "bert",
            constantStd: rules.layerNorm === "constant-std",
          })
        : layerNorm(x, null, null, {
            eps: cfg.layerNormEps,
            form: "paper",
            constantStd: rules.layerNorm === "constant-std",
          });
    const heads = (t: Tensor) => permute(reshape(t, [b.batch, b.seq, nh, dh]), [0, 2, 1, 3]);
    const mask = paper ? null : this.attentionMask(b);

    let x = E;
    for (const [i, layer] of this.layout.layers.entries()) {
      if (trace) {
        if (trace.retainBlockGrads) x.retainGrad();
        trace.blockInputs[i] = x;
      }
      const q = heads(lin(x, layer.query));
      const k = heads(lin(x, layer.key));
      const v = heads(lin(x, layer.value));
      let scores = matmul(q, k, { transB: true });
      if (rules.attentionProducts === "uniform") scores = uniform(scores, 2);
      if (!paper) scores = scale(scores, 1 / Math.sqrt(dh));
      const probs = softmax(scores, { mask, constant: rules.attention === "constant" });
      if (trace) {
        if (trace.retainAttentionGrad && probs.requiresGrad) probs.retainGrad();
        trace.attention[i] = probs;
      }
      let ctx = matmul(drop(probs), v);
      if (rules.attentionProducts === "uniform") ctx = uniform(ctx, 2);
      const merged = reshape(permute(ctx, [0, 2, 1, 3]), [b.batch, b.seq, H]);
      x = norm(add(drop(lin(merged, layer.output)), x), layer.attentionNorm);
      if (layer.ffn) {
        const h = this.activation(lin(x, layer.ffn.intermediate), rules.activation === "identity");
        x = norm(add(drop(lin(h, layer.ffn.output)), x), layer.ffn.norm);
      }
    }
    if (trace) {
      if (trace.retainBlockGrads) x.retainGrad();
      trace.blockInputs[this.layout.layers.length] = x;
    }
    // the head reads the first position ([CLS] / <s>); its linear layers use the plain gradient (LRP-0)
    const first = reshape(slice(x, 1, 0, 1), [b.batch, H]);
    const head = this.layout.head;
    const z = linear(first, this.p(head.dense.weight), this.p(head.dense.bias));
    const identity = rules.headActivation === "identity";
    const pooled =
      head.activation === "tanh"
        ? identity
          ? identityRule(z, tanh, 1)
          : tanh(z)
        : identity
          ? identityRule(z, relu, 0)
          : relu(z);
    return linear(drop(pooled), this.p(head.classifier.weight), this.p(head.classifier.bias));
  }

  private activation(z: Tensor, identity: boolean): Tensor {
    const act = this.config.hiddenAct;
    const f = act === "relu" ? relu : (t: Tensor) => gelu(t, act === "gelu" ? "erf" : "tanh");
    return identity ? identityRule(z, f, act === "relu" ? 0 : 0.5) : f(z);
  }

  /** Additive mask [batch, 1, 1, seq]: 0 for tokens, a large negative number for padding. */
  private attentionMask(b: Batch): Tensor | null {
    if (b.mask.every((m) => m === 1)) return null;
    const m = Tensor.zeros([b.batch, 1, 1, b.seq]);
    for (let i = 0; i < b.mask.length; i++) if (!b.mask[i]) m.data[i] = MASKED;
    return m;
  }

  /** Logits [batch, classes] of a batch. */
  forward(b: Batch, opts: ForwardOptions = {}): Tensor {
    return this.encode(this.embed(b, opts.train), b, opts);
  }
}
