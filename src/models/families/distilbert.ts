/**
 * DistilBERT (`DistilBertForSequenceClassification`): BERT's blocks without token types, padding
 * masked, and a ReLU pre-classifier on the first token.
 */
import { layerNormSpec, torchLinear, tableSizes, type Architecture } from "../architecture.js";
import { labelKeys, type ConfigReader, type ModelConfig } from "../config.js";
import { legacyLayerNormName, type Family } from "../family.js";

function readConfig(r: ConfigReader, modelType: string): ModelConfig {
  const heads = r.heads("dim", "n_heads");
  return {
    modelType,
    task: "classification",
    vocabSize: r.size("vocab_size"),
    ...heads,
    numLayers: r.layers("n_layers"),
    intermediateSize: r.size("hidden_dim"),
    hiddenAct: r.activation("activation", "gelu", ["gelu", "gelu_new", "relu"]),
    maxPositions: r.size("max_position_embeddings", 512),
    typeVocabSize: 0,
    normEps: 1e-12,
    padTokenId: r.tokenId("pad_token_id", 0),
    labels: r.labels(),
    raw: r.raw,
  };
}

function architecture(cfg: ModelConfig): Architecture {
  const H = cfg.hiddenSize;
  const eps = cfg.normEps;
  return {
    embeddings: {
      word: "distilbert.embeddings.word_embeddings.weight",
      position: { table: "distilbert.embeddings.position_embeddings.weight", numbering: "zero" },
      tokenType: null,
      norm: layerNormSpec("distilbert.embeddings.LayerNorm", H, eps),
    },
    blocks: Array.from({ length: cfg.numLayers }, (_, i) => {
      const l = `distilbert.transformer.layer.${i}`;
      return {
        placement: "post" as const,
        attention: {
          projections: {
            q: torchLinear(`${l}.attention.q_lin`, H, H),
            k: torchLinear(`${l}.attention.k_lin`, H, H),
            v: torchLinear(`${l}.attention.v_lin`, H, H),
          },
          output: torchLinear(`${l}.attention.out_lin`, H, H),
          heads: cfg.numHeads,
          kvHeads: cfg.numHeads,
          headDim: cfg.headDim,
          scaled: true,
          rotary: null,
        },
        attentionNorm: layerNormSpec(`${l}.sa_layer_norm`, H, eps),
        mlp: {
          kind: "dense" as const,
          up: torchLinear(`${l}.ffn.lin1`, H, cfg.intermediateSize),
          down: torchLinear(`${l}.ffn.lin2`, cfg.intermediateSize, H),
          activation: cfg.hiddenAct,
        },
        mlpNorm: layerNormSpec(`${l}.output_layer_norm`, H, eps),
      };
    }),
    finalNorm: null,
    head: {
      kind: "pooler",
      dense: torchLinear("pre_classifier", H, H),
      activation: "relu",
      classifier: torchLinear("classifier", H, cfg.labels.length),
    },
    capabilities: {
      causal: false,
      masksPadding: true,
      explainedPosition: "first",
      maxTokens: cfg.maxPositions,
    },
    ...tableSizes(cfg),
    unused: [],
  };
}

function configJSON(cfg: ModelConfig): Record<string, unknown> {
  return {
    ...cfg.raw,
    model_type: cfg.modelType,
    vocab_size: cfg.vocabSize,
    ...labelKeys(cfg.labels),
    pad_token_id: cfg.padTokenId,
    architectures: ["DistilBertForSequenceClassification"],
    dim: cfg.hiddenSize,
    n_layers: cfg.numLayers,
    n_heads: cfg.numHeads,
    hidden_dim: cfg.intermediateSize,
    activation: cfg.hiddenAct,
    max_position_embeddings: cfg.maxPositions,
  };
}

export const distilbert: Family = {
  modelTypes: ["distilbert"],
  readConfig,
  architecture,
  configJSON,
  storedNames: legacyLayerNormName,
  ignores: (name) => name.endsWith("position_ids"),
};
