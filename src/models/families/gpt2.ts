/**
 * GPT-2 (`GPT2LMHeadModel`, `GPT2ForSequenceClassification`): learned positions, pre-norm blocks
 * x ← x + attn(ln_1(x)); x ← x + mlp(ln_2(x)), a final ln_f, causal attention with scores scaled by
 * 1/√d_head, a tanh-form GELU MLP. Its Conv1D layers store weights [in, out]; q, k and v come from one
 * fused projection `c_attn`. The LM head is tied to the token embeddings; a classifier has a
 * bias-free `score` on the last real token. Hub files often omit the `transformer.` prefix.
 */
import {
  layerNormSpec,
  torchLinear,
  tableSizes,
  type Architecture,
  type LinearSpec,
} from "../architecture.js";
import { architectureName, labelKeys, type ConfigReader, type ModelConfig } from "../config.js";
import type { Family } from "../family.js";

const PREFIX = "transformer.";

function conv1d(prefix: string, inF: number, outF: number): LinearSpec {
  return { weight: `${prefix}.weight`, bias: `${prefix}.bias`, layout: "in-out", in: inF, out: outF };
}

/** A decoder's task from `architectures`: …ForSequenceClassification is a classifier, anything else a language model. */
export function decoderTask(raw: Record<string, unknown>): ModelConfig["task"] {
  return architectureName(raw)?.endsWith("ForSequenceClassification") ? "classification" : "causal-lm";
}

function readConfig(r: ConfigReader, modelType: string): ModelConfig {
  const heads = r.heads("n_embd", "n_head");
  const task = decoderTask(r.raw);
  const eos = r.tokenId("eos_token_id", 50256);
  return {
    modelType,
    task,
    vocabSize: r.size("vocab_size"),
    ...heads,
    numLayers: r.layers("n_layer"),
    intermediateSize: r.has("n_inner") ? r.size("n_inner") : 4 * heads.hiddenSize,
    hiddenAct: r.activation("activation_function", "gelu_new", ["gelu", "gelu_new", "relu", "silu"]),
    maxPositions: r.size("n_positions", r.has("n_ctx") ? r.size("n_ctx") : 1024),
    typeVocabSize: 0,
    normEps: r.positive("layer_norm_epsilon", 1e-5),
    padTokenId: r.tokenId("pad_token_id", eos),
    labels: task === "classification" ? r.labels() : [],
    tieWordEmbeddings: r.boolean("tie_word_embeddings", true),
    raw: r.raw,
  };
}

function architecture(cfg: ModelConfig): Architecture {
  const H = cfg.hiddenSize;
  const eps = cfg.normEps;
  const word = `${PREFIX}wte.weight`;
  const lm = cfg.task === "causal-lm";
  const head: LinearSpec = lm
    ? {
        weight: cfg.tieWordEmbeddings ? word : "lm_head.weight",
        bias: null,
        layout: "out-in",
        in: H,
        out: cfg.vocabSize,
      }
    : torchLinear("score", H, cfg.labels.length, false);
  return {
    embeddings: {
      word,
      position: { table: `${PREFIX}wpe.weight`, numbering: "zero" },
      tokenType: null,
      norm: null,
    },
    blocks: Array.from({ length: cfg.numLayers }, (_, i) => {
      const l = `${PREFIX}h.${i}`;
      return {
        placement: "pre" as const,
        attention: {
          projections: { fused: conv1d(`${l}.attn.c_attn`, H, 3 * H) },
          output: conv1d(`${l}.attn.c_proj`, H, H),
          heads: cfg.numHeads,
          kvHeads: cfg.numHeads,
          headDim: cfg.headDim,
          scaled: true,
          rotary: null,
        },
        attentionNorm: layerNormSpec(`${l}.ln_1`, H, eps),
        mlp: {
          kind: "dense" as const,
          up: conv1d(`${l}.mlp.c_fc`, H, cfg.intermediateSize),
          down: conv1d(`${l}.mlp.c_proj`, cfg.intermediateSize, H),
          activation: cfg.hiddenAct,
        },
        mlpNorm: layerNormSpec(`${l}.ln_2`, H, eps),
      };
    }),
    finalNorm: layerNormSpec(`${PREFIX}ln_f`, H, eps),
    head: { kind: "projection", projection: head },
    capabilities: {
      causal: true,
      masksPadding: true,
      explainedPosition: "last",
      maxTokens: cfg.maxPositions,
    },
    ...tableSizes(cfg),
    unused: [],
  };
}

function configJSON(cfg: ModelConfig): Record<string, unknown> {
  const lm = cfg.task === "causal-lm";
  return {
    ...cfg.raw,
    model_type: cfg.modelType,
    architectures: [lm ? "GPT2LMHeadModel" : "GPT2ForSequenceClassification"],
    vocab_size: cfg.vocabSize,
    n_embd: cfg.hiddenSize,
    n_layer: cfg.numLayers,
    n_head: cfg.numHeads,
    n_inner: cfg.intermediateSize,
    n_positions: cfg.maxPositions,
    activation_function: cfg.hiddenAct,
    layer_norm_epsilon: cfg.normEps,
    pad_token_id: cfg.padTokenId,
    tie_word_embeddings: cfg.tieWordEmbeddings ?? true,
    ...(lm ? {} : labelKeys(cfg.labels)),
  };
}

export const gpt2: Family = {
  modelTypes: ["gpt2"],
  readConfig,
  architecture,
  configJSON,
  storedNames: (name) => (name.startsWith(PREFIX) ? [name.slice(PREFIX.length)] : []),
  // the causal-mask buffers of older checkpoints, and a duplicate of the tied LM head
  ignores: (name) => /(^|\.)attn\.(masked_)?bias$/.test(name) || name === "lm_head.weight",
};
