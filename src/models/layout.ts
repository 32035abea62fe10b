/**
 * Where each model type keeps its weights: Hugging Face tensor names and shapes (SPEC §3). The
 * forward pass (encoder.ts) is written once against this layout.
 */
import type { ModelConfig } from "./config.js";

export interface LinearNames {
  weight: string;
  bias: string;
}
/** Affine LayerNorm parameters, or null for the paper's affine-free LayerNorm. */
export type NormNames = LinearNames | null;

export interface LayerLayout {
  query: LinearNames;
  key: LinearNames;
  value: LinearNames;
  output: LinearNames;
  attentionNorm: NormNames;
  ffn: { intermediate: LinearNames; output: LinearNames; norm: NormNames } | null;
}

export interface Layout {
  word: string;
  position: string;
  tokenType: string | null;
  embeddingNorm: LinearNames;
  layers: LayerLayout[];
  head: { dense: LinearNames; activation: "tanh" | "relu"; classifier: LinearNames };
  /** "bert": scores scaled by 1/√d_head, padding masked, LayerNorm (x−μ)/√(var+eps)·w+b; "paper": none of these. */
  attentionKind: "bert" | "paper";
  /** RoBERTa numbers positions from pad_token_id + 1 and skips padding. */
  positionsFrom: "zero" | "roberta";
}

export interface ParamSpec {
  name: string;
  shape: number[];
  init: "normal" | "zeros" | "ones";
  /** Stored in the file for compatibility but not used by the forward pass. */
  unused?: boolean;
}

const lin = (prefix: string): LinearNames => ({ weight: `${prefix}.weight`, bias: `${prefix}.bias` });

export function layoutOf(cfg: ModelConfig): Layout {
  const L = cfg.numLayers;
  switch (cfg.modelType) {
    case "bert":
    case "roberta": {
      const p = cfg.modelType;
      return {
        word: `${p}.embeddings.word_embeddings.weight`,
        position: `${p}.embeddings.position_embeddings.weight`,
        tokenType: `${p}.embeddings.token_type_embeddings.weight`,
        embeddingNorm: lin(`${p}.embeddings.LayerNorm`),
        layers: Array.from({ length: L }, (_, i) => {
          const l = `${p}.encoder.layer.${i}`;
          return {
            query: lin(`${l}.attention.self.query`),
            key: lin(`${l}.attention.self.key`),
            value: lin(`${l}.attention.self.value`),
            output: lin(`${l}.attention.output.dense`),
            attentionNorm: lin(`${l}.attention.output.LayerNorm`),
            ffn: {
              intermediate: lin(`${l}.intermediate.dense`),
              output: lin(`${l}.output.dense`),
              norm: lin(`${l}.output.LayerNorm`),
            },
          };
        }),
        head:
          p === "bert"
            ? { dense: lin("bert.pooler.dense"), activation: "tanh", classifier: lin("classifier") }
            : { dense: lin("classifier.dense"), activation: "tanh", classifier: lin("classifier.out_proj") },
        attentionKind: "bert",
        positionsFrom: p === "roberta" ? "roberta" : "zero",
      };
    }
    case "distilbert":
      return {
        word: "distilbert.embeddings.word_embeddings.weight",
        position: "distilbert.embeddings.position_embeddings.weight",
        tokenType: null,
        embeddingNorm: lin("distilbert.embeddings.LayerNorm"),
        layers: Array.from({ length: L }, (_, i) => {
          const l = `distilbert.transformer.layer.${i}`;
          return {
            query: lin(`${l}.attention.q_lin`),
            key: lin(`${l}.attention.k_lin`),
            value: lin(`${l}.attention.v_lin`),
            output: lin(`${l}.attention.out_lin`),
            attentionNorm: lin(`${l}.sa_layer_norm`),
            ffn: {
              intermediate: lin(`${l}.ffn.lin1`),
              output: lin(`${l}.ffn.lin2`),
              norm: lin(`${l}.output_layer_norm`),
            },
          };
        }),
        head: { dense: lin("pre_classifier"), activation: "relu", classifier: lin("classifier") },
        attentionKind: "bert",
        positionsFrom: "zero",
      };
    case "xai-transformer":
      return {
        word: "embeds.word_embeddings.weight",
        position: "embeds.position_embeddings.weight",
        tokenType: "embeds.token_type_embeddings.weight",
        embeddingNorm: lin("embeds.LayerNorm"),
        layers: Array.from({ length: L }, (_, i) => ({
          query: lin(`attention_layers.${i}.query`),
          key: lin(`attention_layers.${i}.key`),
          value: lin(`attention_layers.${i}.value`),
          output: lin(`attention_layers.${i}.output.dense`),
          attentionNorm: null,
          ffn: null,
        })),
        head: { dense: lin("pooler.dense"), activation: "tanh", classifier: lin("classifier") },
        attentionKind: "paper",
        positionsFrom: "zero",
      };
  }
}

/** Every tensor a model file holds, with its shape and initialisation. */
export function parameterSpecs(cfg: ModelConfig, layout: Layout = layoutOf(cfg)): ParamSpec[] {
  const H = cfg.hiddenSize;
  const C = cfg.labels.length;
  const specs: ParamSpec[] = [];
  const linear = (n: LinearNames, out: number, inp: number) =>
    specs.push(
      { name: n.weight, shape: [out, inp], init: "normal" },
      { name: n.bias, shape: [out], init: "zeros" },
    );
  const norm = (n: NormNames) => {
    if (n)
      specs.push({ name: n.weight, shape: [H], init: "ones" }, { name: n.bias, shape: [H], init: "zeros" });
  };
  specs.push({ name: layout.word, shape: [cfg.vocabSize, H], init: "normal" });
  specs.push({ name: layout.position, shape: [cfg.maxPositions, H], init: "normal" });
  if (layout.tokenType) specs.push({ name: layout.tokenType, shape: [cfg.typeVocabSize, H], init: "normal" });
  norm(layout.embeddingNorm);
  layout.layers.forEach((l, i) => {
    for (const n of [l.query, l.key, l.value, l.output]) linear(n, H, H);
    norm(l.attentionNorm);
    if (l.ffn) {
      linear(l.ffn.intermediate, cfg.intermediateSize, H);
      linear(l.ffn.output, H, cfg.intermediateSize);
      norm(l.ffn.norm);
    }
    if (cfg.modelType === "xai-transformer") {
      // the official code's (unused) affine LayerNorm of each block, stored as ones/zeros
      specs.push({
        name: `attention_layers.${i}.output.LayerNorm.weight`,
        shape: [H],
        init: "ones",
        unused: true,
      });
      specs.push({
        name: `attention_layers.${i}.output.LayerNorm.bias`,
        shape: [H],
        init: "zeros",
        unused: true,
      });
    }
  });
  linear(layout.head.dense, H, H);
  linear(layout.head.classifier, C, H);
  if (cfg.modelType === "xai-transformer") {
    // the official file's unused top-level output block
    specs.push({ name: "output.dense.weight", shape: [H, H], init: "normal", unused: true });
    specs.push({ name: "output.dense.bias", shape: [H], init: "zeros", unused: true });
    specs.push({ name: "output.LayerNorm.weight", shape: [H], init: "ones", unused: true });
    specs.push({ name: "output.LayerNorm.bias", shape: [H], init: "zeros", unused: true });
  }
  return specs;
}

/** Legacy TensorFlow-era names that Hugging Face still accepts: LayerNorm.gamma / LayerNorm.beta. */
export function legacyName(name: string): string | null {
  if (name.endsWith("LayerNorm.weight")) return name.replace(/LayerNorm\.weight$/, "LayerNorm.gamma");
  if (name.endsWith("LayerNorm.bias")) return name.replace(/LayerNorm\.bias$/, "LayerNorm.beta");
  return null;
}
