/**
 * A Transformer of any supported family, run from its Architecture (architecture.ts): embeddings,
 * pre- or post-norm blocks, an optional final norm and a head on the explained position. The forward
 * pass is written once; an explanation runs it under a rule map (sites.ts) that changes only the
 * backward pass.
 */
import { XaitError } from "../errors.js";
import { Random, Tensor, add, gather, makeResident, noGrad, residentArray, rowsAt } from "../tensor/index.js";
import { symbolic } from "../tensor/trace.js";
import type { Architecture, Capabilities, HeadSpec } from "./architecture.js";
import { parameterSpecs } from "./architecture.js";
import {
  applyAttention,
  applyLinear,
  applyMlp,
  applyNorm,
  attentionMask,
  drop,
  headActivation,
  type BlockContext,
} from "./blocks.js";
import type { ModelConfig } from "./config.js";
import { familyOf } from "./registry.js";
import { getAccelerator } from "./accelerator.js";
import { GRADIENT_RULES, type RuleMap } from "./sites.js";
import type { Tokenizer } from "../tokenize/index.js";

/** A padded batch of token ids, row-major [batch, seq]; rows are padded on the right. */
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
  rules?: RuleMap;
  trace?: Trace;
  /** Training: dropout probability and its generator. */
  train?: { dropout: number; rng: Random };
}

/** Standard deviation of freshly initialised weights (BERT's and GPT-2's initialiser range). */
export const INIT_STD = 0.02;

export class TransformerModel {
  readonly architecture: Architecture;

  constructor(
    readonly config: ModelConfig,
    readonly params: Map<string, Tensor>,
    readonly tokenizer: Tokenizer | null = null,
  ) {
    this.architecture = familyOf(config.modelType).architecture(config);
    for (const spec of parameterSpecs(this.architecture)) {
      if (!spec.unused && !params.has(spec.name)) throw new XaitError(`model is missing tensor ${spec.name}`);
    }
  }

  /**
   * A model with freshly initialised weights (normal(0, std), zero biases, unit norms), in the
   * active backend's resident memory when it keeps one.
   */
  static initialise(
    config: ModelConfig,
    seed: number,
    tokenizer: Tokenizer | null = null,
    std = INIT_STD,
  ): TransformerModel {
    const rng = new Random(seed);
    const params = new Map<string, Tensor>();
    for (const spec of parameterSpecs(familyOf(config.modelType).architecture(config))) {
      if (spec.unused) continue;
      // straight into the backend's resident memory when it keeps one (no second copy to move)
      const t = new Tensor(residentArray(spec.shape.reduce((a, b) => a * b, 1)), spec.shape);
      if (spec.init === "ones") t.data.fill(1);
      else if (spec.init === "normal") for (let i = 0; i < t.size; i++) t.data[i] = rng.normal() * std;
      params.set(spec.name, t);
    }
    return new TransformerModel(config, params, tokenizer);
  }

  /**
   * Move every weight into the active backend's own memory (see `residentArray`), where its kernels
   * read them in place; weights there already, and backends without such memory, are left alone.
   * Loading a folder puts weights there directly; this is for models built in memory.
   */
  makeResident(): this {
    for (const [name, t] of this.params) this.params.set(name, makeResident(t));
    return this;
  }

  get capabilities(): Capabilities {
    return this.architecture.capabilities;
  }

  /** Number of output logits: classes of a classifier, the vocabulary of a language model. */
  get numLabels(): number {
    return this.config.task === "causal-lm" ? this.config.vocabSize : this.config.labels.length;
  }

  /** The token embedding table (what training may freeze and pretrained vectors initialise). */
  get wordEmbeddings(): Tensor {
    return this.param(this.architecture.embeddings.word);
  }

  /** The trainable tensors the forward pass uses. */
  trainableParameters(): [string, Tensor][] {
    return parameterSpecs(this.architecture)
      .filter((s) => !s.unused)
      .map((s) => [s.name, this.param(s.name)]);
  }

  private param(name: string): Tensor {
    const t = this.params.get(name);
    if (!t) throw new XaitError(`model is missing tensor ${name}`);
    return t;
  }

  /**
   * The embedding output E [batch, seq, hidden] — token (+ position, + token type) embeddings, after
   * the embedding norm where the family has one. Relevance is read here.
   */
  embed(b: Batch, train?: ForwardOptions["train"]): Tensor {
    const a = this.architecture;
    if (b.seq > a.capabilities.maxTokens)
      throw new XaitError(`input has ${b.seq} tokens, the model takes at most ${a.capabilities.maxTokens}`);
    const shape = [b.batch, b.seq];
    for (const id of b.ids)
      if (id < 0 || id >= a.vocabSize)
        throw new XaitError(`token id ${id} is outside the vocabulary of ${a.vocabSize}`);
    const e = a.embeddings;
    let x = gather(this.param(e.word), symbolic(b.ids, { kind: "input-ids" }), shape);
    if (e.position)
      x = add(x, gather(this.param(e.position.table), this.positionIds(b, e.position.numbering), shape));
    if (e.tokenType)
      x = add(x, gather(this.param(e.tokenType), symbolic(b.typeIds, { kind: "token-type-ids" }), shape));
    const ctx = this.context({ train });
    if (e.norm) x = applyNorm(ctx, x, e.norm);
    return drop(ctx, x);
  }

  private positionIds(b: Batch, numbering: "zero" | "roberta"): Int32Array {
    const pos = new Int32Array(b.batch * b.seq);
    const pad = this.config.padTokenId;
    for (let r = 0; r < b.batch; r++) {
      let count = 0;
      for (let t = 0; t < b.seq; t++) {
        const i = r * b.seq + t;
        if (numbering === "roberta") {
          if (b.mask[i]) count++;
          pos[i] = b.mask[i] ? count + pad : pad;
        } else pos[i] = t;
      }
    }
    return symbolic(pos, { kind: "position-ids", numbering, pad });
  }

  /** The position each row's head reads: 0, or the last real token (rows are padded on the right). */
  explainedPositions(b: Batch): Int32Array {
    const at = this.capabilities.explainedPosition === "first" ? "first" : "last";
    const out = symbolic(new Int32Array(b.batch), { kind: "explained-positions", at });
    if (at === "first") return out;
    for (let r = 0; r < b.batch; r++) {
      let len = 0;
      for (let t = 0; t < b.seq; t++) len += b.mask[r * b.seq + t]!;
      out[r] = Math.max(0, len - 1);
    }
    return out;
  }

  private context(opts: ForwardOptions): BlockContext {
    return {
      param: (name) => this.param(name),
      rules: opts.rules ?? GRADIENT_RULES,
      ...(opts.train ? { train: opts.train } : {}),
    };
  }

  /** The blocks and the head on embeddings E; returns the logits [batch, outputs] at the explained positions. */
  encode(E: Tensor, b: Batch, opts: ForwardOptions = {}): Tensor {
    const ctx = this.context(opts);
    return this.head(
      ctx,
      rowsAt(this.hiddenStates(ctx, E, b, opts.trace), this.explainedPositions(b)),
      this.architecture.head,
    );
  }

  /**
   * Logits at every position [batch, seq, outputs] — what a language model is trained on (each
   * position predicts the next token). Only for models whose head is one projection (decoders).
   */
  logitsAll(b: Batch, opts: ForwardOptions = {}): Tensor {
    const head = this.architecture.head;
    if (head.kind !== "projection")
      throw new XaitError("logits at every position need a projection head (a decoder)");
    const ctx = this.context(opts);
    const h = this.hiddenStates(ctx, this.embed(b, opts.train), b, opts.trace);
    return applyLinear(ctx, h, head.projection, false);
  }

  /** The blocks (and the final norm) on embeddings E: the hidden states [batch, seq, hidden]. */
  private hiddenStates(ctx: BlockContext, E: Tensor, b: Batch, trace?: Trace): Tensor {
    const a = this.architecture;
    const positions = new Int32Array(b.batch * b.seq);
    for (let i = 0; i < positions.length; i++) positions[i] = i % b.seq;
    symbolic(positions, { kind: "token-positions" });
    const at = {
      batch: b.batch,
      seq: b.seq,
      mask: attentionMask(b.batch, b.seq, b.mask, a.capabilities.causal, a.capabilities.masksPadding),
      positions,
    };
    let x = E;
    for (const [i, block] of a.blocks.entries()) {
      if (trace) {
        if (trace.retainBlockGrads) x.retainGrad();
        trace.blockInputs[i] = x;
      }
      const onProbs = trace
        ? (p: Tensor) => {
            if (trace.retainAttentionGrad && p.requiresGrad) p.retainGrad();
            trace.attention[i] = p;
          }
        : undefined;
      if (block.placement === "post") {
        x = applyNorm(
          ctx,
          add(drop(ctx, applyAttention(ctx, x, block.attention, at, onProbs)), x),
          block.attentionNorm,
        );
        if (block.mlp) x = applyNorm(ctx, add(drop(ctx, applyMlp(ctx, x, block.mlp)), x), block.mlpNorm!);
      } else {
        x = add(
          x,
          drop(
            ctx,
            applyAttention(ctx, applyNorm(ctx, x, block.attentionNorm), block.attention, at, onProbs),
          ),
        );
        if (block.mlp) x = add(x, drop(ctx, applyMlp(ctx, applyNorm(ctx, x, block.mlpNorm!), block.mlp)));
      }
    }
    if (trace) {
      if (trace.retainBlockGrads) x.retainGrad();
      trace.blockInputs[a.blocks.length] = x;
    }
    return a.finalNorm ? applyNorm(ctx, x, a.finalNorm) : x;
  }

  /** The head on the hidden state of the explained position [batch, hidden]; its linear layers take the plain gradient. */
  private head(ctx: BlockContext, h: Tensor, head: HeadSpec): Tensor {
    if (head.kind === "projection") return applyLinear(ctx, h, head.projection, false);
    const z = applyLinear(ctx, h, head.dense, false);
    const pooled = headActivation(z, head.activation, ctx.rules["head.activation"]);
    return applyLinear(ctx, drop(ctx, pooled), head.classifier, false);
  }

  /** Logits [batch, outputs] of a batch. */
  forward(b: Batch, opts: ForwardOptions = {}): Tensor {
    return this.encode(this.embed(b, opts.train), b, opts);
  }

  /** Logits without a tape (inference); the installed accelerator runs them when it can. */
  predict(b: Batch): Tensor {
    const fast = getAccelerator()?.forward(this, b);
    if (fast) return new Tensor(fast, [b.batch, this.numLabels]);
    return noGrad(() => this.forward(b));
  }
}
