/**
 * The paper's model (`xai-transformer`), as its official code stores it: BERT embeddings, then
 * attention-only blocks x ← LN(dense(P·v) + x) with unscaled scores, no attention mask, and an
 * affine-free LayerNorm (x − mean)/(std + ε) with the unbiased std; a tanh pooler on the first token.
 * The file also holds tensors the forward pass never reads (each block's affine LayerNorm, stored as
 * ones/zeros, and a top-level output block): they are written on save and ignored on load.
 */
import {
  layerNormSpec,
  torchLinear,
  tableSizes,
  type Architecture,
  type ParamSpec,
} from "../architecture.js";
import { labelKeys, type ConfigReader, type ModelConfig } from "../config.js";
import { legacyLayerNormName, type Family } from "../family.js";

function readConfig(r: ConfigReader, modelType: string): ModelConfig {
  const heads = r.heads("hidden_size", "num_attention_heads");
  return {
    modelType,
    task: "classification",
    vocabSize: r.size("vocab_size"),
    ...heads,
    numLayers: r.layers("num_hidden_layers"),
    intermediateSize: 0,
    hiddenAct: "gelu",
    maxPositions: r.size("max_position_embeddings", 512),
    typeVocabSize: r.size("type_vocab_size", 2),
    normEps: r.positive("layer_norm_eps", 1e-12),
    padTokenId: r.tokenId("pad_token_id", 0),
    labels: r.labels(),
    raw: r.raw,
  };
}

function architecture(cfg: ModelConfig): Architecture {
  const H = cfg.hiddenSize;
  const norm = { kind: "paper" as const, weight: null, bias: null, size: H, eps: cfg.normEps };
  const unused: ParamSpec[] = [];
  for (let i = 0; i < cfg.numLayers; i++)
    unused.push(
      { name: `attention_layers.${i}.output.LayerNorm.weight`, shape: [H], init: "ones" },
      { name: `attention_layers.${i}.output.LayerNorm.bias`, shape: [H], init: "zeros" },
    );
  unused.push(
    { name: "output.dense.weight", shape: [H, H], init: "normal" },
    { name: "output.dense.bias", shape: [H], init: "zeros" },
    { name: "output.LayerNorm.weight", shape: [H], init: "ones" },
    { name: "output.LayerNorm.bias", shape: [H], init: "zeros" },
  );
  return {
    embeddings: {
      word: "embeds.word_embeddings.weight",
      position: { table: "embeds.position_embeddings.weight", numbering: "zero" },
      tokenType: "embeds.token_type_embeddings.weight",
      norm: layerNormSpec("embeds.LayerNorm", H, cfg.normEps),
    },
    blocks: Array.from({ length: cfg.numLayers }, (_, i) => ({
      placement: "post" as const,
      attention: {
        projections: {
          q: torchLinear(`attention_layers.${i}.query`, H, H),
          k: torchLinear(`attention_layers.${i}.key`, H, H),
          v: torchLinear(`attention_layers.${i}.value`, H, H),
        },
        output: torchLinear(`attention_layers.${i}.output.dense`, H, H),
        heads: cfg.numHeads,
        kvHeads: cfg.numHeads,
        headDim: cfg.headDim,
        scaled: false,
        rotary: null,
      },
      attentionNorm: norm,
      mlp: null,
      mlpNorm: null,
    })),
    finalNorm: null,
    head: {
      kind: "pooler",
      dense: torchLinear("pooler.dense", H, H),
      activation: "tanh",
      classifier: torchLinear("classifier", H, cfg.labels.length),
    },
    capabilities: {
      causal: false,
      masksPadding: false,
      explainedPosition: "first",
      maxTokens: cfg.maxPositions,
    },
    ...tableSizes(cfg),
    unused,
  };
}

function configJSON(cfg: ModelConfig): Record<string, unknown> {
  return {
    ...cfg.raw,
    model_type: cfg.modelType,
    vocab_size: cfg.vocabSize,
    ...labelKeys(cfg.labels),
    pad_token_id: cfg.padTokenId,
    architectures: ["XaiTransformerForSequenceClassification"],
    hidden_size: cfg.hiddenSize,
    num_hidden_layers: cfg.numLayers,
    num_attention_heads: cfg.numHeads,
    max_position_embeddings: cfg.maxPositions,
    type_vocab_size: cfg.typeVocabSize,
    layer_norm_eps: cfg.normEps,
  };
}

export const xaiTransformer: Family = {
  modelTypes: ["xai-transformer"],
  readConfig,
  architecture,
  configJSON,
  storedNames: legacyLayerNormName,
};
