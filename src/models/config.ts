/** config.json of a Hugging Face model folder, normalised over the supported model types. */
import { XaitError } from "../errors.js";

export const MODEL_TYPES = ["bert", "xai-transformer", "roberta", "distilbert"] as const;
export type ModelType = (typeof MODEL_TYPES)[number];
export type Activation = "gelu" | "gelu_new" | "relu";

export interface ModelConfig {
  modelType: ModelType;
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  /** Feed-forward width (0 for the xai-transformer, which has no feed-forward layer). */
  intermediateSize: number;
  hiddenAct: Activation;
  maxPositions: number;
  typeVocabSize: number;
  layerNormEps: number;
  padTokenId: number;
  /** Class labels in index order. */
  labels: string[];
  /** The config as read, for writing back keys this loader does not interpret. */
  raw: Record<string, unknown>;
}

function num(raw: Record<string, unknown>, key: string, fallback?: number): number {
  const v = raw[key] ?? fallback;
  if (typeof v !== "number" || !Number.isFinite(v))
    throw new XaitError(
      `config.json: "${key}" must be a number${v === undefined ? " (missing)" : `, got ${JSON.stringify(v)}`}`,
    );
  return v;
}

function posInt(raw: Record<string, unknown>, key: string, fallback?: number): number {
  const v = num(raw, key, fallback);
  if (!Number.isInteger(v) || v <= 0)
    throw new XaitError(`config.json: "${key}" must be a positive integer, got ${v}`);
  return v;
}

function labelsOf(raw: Record<string, unknown>): string[] {
  const id2label = raw.id2label as Record<string, string> | undefined;
  if (id2label && typeof id2label === "object") {
    const n = Object.keys(id2label).length;
    const labels: string[] = [];
    for (let i = 0; i < n; i++) {
      const l = id2label[String(i)];
      if (typeof l !== "string") throw new XaitError(`config.json: id2label has no entry for class ${i}`);
      labels.push(l);
    }
    return labels;
  }
  const n = typeof raw.num_labels === "number" ? raw.num_labels : 2;
  return Array.from({ length: n }, (_, i) => `LABEL_${i}`);
}

function activationOf(v: unknown): Activation {
  if (v === "gelu" || v === "gelu_new" || v === "relu") return v;
  if (v === "gelu_pytorch_tanh") return "gelu_new";
  throw new XaitError(
    `config.json: unsupported activation ${JSON.stringify(v)} (supported: gelu, gelu_new, relu)`,
  );
}

/** Parse and check a config.json text. */
export function parseConfig(text: string, fileName = "config.json"): ModelConfig {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new XaitError(`${fileName}: not valid JSON (${(e as Error).message})`);
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw))
    throw new XaitError(`${fileName}: expected a JSON object`);
  const type = raw.model_type;
  if (!MODEL_TYPES.includes(type as ModelType))
    throw new XaitError(
      `${fileName}: unknown model_type ${JSON.stringify(type)} (supported: ${MODEL_TYPES.join(", ")})`,
    );
  const modelType = type as ModelType;
  let cfg: ModelConfig;
  if (modelType === "distilbert") {
    cfg = {
      modelType,
      vocabSize: posInt(raw, "vocab_size"),
      hiddenSize: posInt(raw, "dim"),
      numLayers: posInt(raw, "n_layers"),
      numHeads: posInt(raw, "n_heads"),
      intermediateSize: posInt(raw, "hidden_dim"),
      hiddenAct: activationOf(raw.activation ?? "gelu"),
      maxPositions: posInt(raw, "max_position_embeddings", 512),
      typeVocabSize: 0,
      layerNormEps: 1e-12,
      padTokenId: num(raw, "pad_token_id", 0),
      labels: labelsOf(raw),
      raw,
    };
  } else {
    cfg = {
      modelType,
      vocabSize: posInt(raw, "vocab_size"),
      hiddenSize: posInt(raw, "hidden_size"),
      numLayers: posInt(raw, "num_hidden_layers"),
      numHeads: posInt(raw, "num_attention_heads"),
      intermediateSize: modelType === "xai-transformer" ? 0 : posInt(raw, "intermediate_size"),
      hiddenAct: modelType === "xai-transformer" ? "gelu" : activationOf(raw.hidden_act ?? "gelu"),
      maxPositions: posInt(raw, "max_position_embeddings", 512),
      typeVocabSize: posInt(raw, "type_vocab_size", modelType === "roberta" ? 1 : 2),
      layerNormEps: num(raw, "layer_norm_eps", 1e-12),
      padTokenId: num(raw, "pad_token_id", modelType === "roberta" ? 1 : 0),
      labels: labelsOf(raw),
      raw,
    };
  }
  if (cfg.hiddenSize % cfg.numHeads !== 0)
    throw new XaitError(
      `${fileName}: hidden size ${cfg.hiddenSize} is not divisible by ${cfg.numHeads} attention heads`,
    );
  if (cfg.labels.length < 1) throw new XaitError(`${fileName}: the model has no classes`);
  return cfg;
}

/** The config.json object for a config (Hugging Face keys). */
export function configToJSON(cfg: ModelConfig): Record<string, unknown> {
  const id2label = Object.fromEntries(cfg.labels.map((l, i) => [String(i), l]));
  const label2id = Object.fromEntries(cfg.labels.map((l, i) => [l, i]));
  const common = {
    ...cfg.raw,
    model_type: cfg.modelType,
    vocab_size: cfg.vocabSize,
    id2label,
    label2id,
    pad_token_id: cfg.padTokenId,
  };
  if (cfg.modelType === "distilbert")
    return {
      ...common,
      architectures: ["DistilBertForSequenceClassification"],
      dim: cfg.hiddenSize,
      n_layers: cfg.numLayers,
      n_heads: cfg.numHeads,
      hidden_dim: cfg.intermediateSize,
      activation: cfg.hiddenAct,
      max_position_embeddings: cfg.maxPositions,
    };
  const arch = {
    bert: "BertForSequenceClassification",
    roberta: "RobertaForSequenceClassification",
    "xai-transformer": "XaiTransformerForSequenceClassification",
  }[cfg.modelType];
  return {
    ...common,
    architectures: [arch],
    hidden_size: cfg.hiddenSize,
    num_hidden_layers: cfg.numLayers,
    num_attention_heads: cfg.numHeads,
    ...(cfg.modelType === "xai-transformer"
      ? {}
      : { intermediate_size: cfg.intermediateSize, hidden_act: cfg.hiddenAct }),
    max_position_embeddings: cfg.maxPositions,
    type_vocab_size: cfg.typeVocabSize,
    layer_norm_eps: cfg.layerNormEps,
  };
}
