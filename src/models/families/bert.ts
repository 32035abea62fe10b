/**
 * BERT and RoBERTa (`BertForSequenceClassification`, `RobertaForSequenceClassification`): learned
 * positions and token types, post-norm blocks with LayerNorm, a GELU MLP, padding masked, a tanh head
 * on the first token. RoBERTa numbers positions from pad_token_id + 1.
 */
import { layerNormSpec, torchLinear, tableSizes, type Architecture } from "../architecture.js";
import { labelKeys, type ConfigReader, type ModelConfig } from "../config.js";
import { legacyLayerNormName, type Family } from "../family.js";

function readConfig(r: ConfigReader, modelType: string): ModelConfig {
  const roberta = modelType === "roberta";
  const heads = r.heads("hidden_size", "num_attention_heads");
  return {
    modelType,
    task: "classification",
    vocabSize: r.size("vocab_size"),
    ...heads,
    numLayers: r.layers("num_hidden_layers"),
    intermediateSize: r.size("intermediate_size"),
    hiddenAct: r.activation("hidden_act", "gelu", ["gelu", "gelu_new", "relu"]),
    maxPositions: r.size("max_position_embeddings", 512),
    typeVocabSize: r.size("type_vocab_size", roberta ? 1 : 2),
    normEps: r.positive("layer_norm_eps", 1e-12),
    padTokenId: r.tokenId("pad_token_id", roberta ? 1 : 0),
    labels: r.labels(),
    raw: r.raw,
  };
}

function architecture(cfg: ModelConfig): Architecture {
  const p = cfg.modelType === "roberta" ? "roberta" : "bert";
  const H = cfg.hiddenSize;
  const eps = cfg.normEps;
  const roberta = p === "roberta";
  return {
    embeddings: {
      word: `${p}.embeddings.word_embeddings.weight`,
      position: {
        table: `${p}.embeddings.position_embeddings.weight`,
        numbering: roberta ? "roberta" : "zero",
      },
      tokenType: `${p}.embeddings.token_type_embeddings.weight`,
      norm: layerNormSpec(`${p}.embeddings.LayerNorm`, H, eps),
    },
    blocks: Array.from({ length: cfg.numLayers }, (_, i) => {
      const l = `${p}.encoder.layer.${i}`;
      return {
        placement: "post" as const,
        attention: {
          projections: {
            q: torchLinear(`${l}.attention.self.query`, H, H),
            k: torchLinear(`${l}.attention.self.key`, H, H),
            v: torchLinear(`${l}.attention.self.value`, H, H),
          },
          output: torchLinear(`${l}.attention.output.dense`, H, H),
          heads: cfg.numHeads,
          kvHeads: cfg.numHeads,
          headDim: cfg.headDim,
          scaled: true,
          rotary: null,
        },
        attentionNorm: layerNormSpec(`${l}.attention.output.LayerNorm`, H, eps),
        mlp: {
          kind: "dense" as const,
          up: torchLinear(`${l}.intermediate.dense`, H, cfg.intermediateSize),
          down: torchLinear(`${l}.output.dense`, cfg.intermediateSize, H),
          activation: cfg.hiddenAct,
        },
        mlpNorm: layerNormSpec(`${l}.output.LayerNorm`, H, eps),
      };
    }),
    finalNorm: null,
    head: roberta
      ? {
          kind: "pooler",
          dense: torchLinear("classifier.dense", H, H),
          activation: "tanh",
          classifier: torchLinear("classifier.out_proj", H, cfg.labels.length),
        }
      : {
          kind: "pooler",
          dense: torchLinear("bert.pooler.dense", H, H),
          activation: "tanh",
          classifier: torchLinear("classifier", H, cfg.labels.length),
        },
    capabilities: {
      causal: false,
      masksPadding: true,
      explainedPosition: "first",
      maxTokens: cfg.maxPositions - (roberta ? cfg.padTokenId + 1 : 0),
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
    architectures: [
      cfg.modelType === "roberta" ? "RobertaForSequenceClassification" : "BertForSequenceClassification",
    ],
    hidden_size: cfg.hiddenSize,
    num_hidden_layers: cfg.numLayers,
    num_attention_heads: cfg.numHeads,
    intermediate_size: cfg.intermediateSize,
    hidden_act: cfg.hiddenAct,
    max_position_embeddings: cfg.maxPositions,
    type_vocab_size: cfg.typeVocabSize,
    layer_norm_eps: cfg.normEps,
  };
}

export const bert: Family = {
  modelTypes: ["bert", "roberta"],
  readConfig,
  architecture,
  configJSON,
  storedNames: legacyLayerNormName,
  ignores: (name) => name.endsWith("position_ids"),
};
