/**
 * Decoder models built for training: the config of a fresh GPT-2 or Llama-family language model
 * (or classifier), and the conversion of a causal language model into a sequence classifier for
 * fine-tuning. Browser-safe.
 */
import { XaitError } from "../errors.js";
import {
  configFromObject,
  configToJSON,
  familyOf,
  INIT_STD,
  labelKeys,
  parameterSpecs,
  TransformerModel,
  type ModelConfig,
} from "../models/index.js";
import { Random, Tensor } from "../tensor/index.js";

/** The decoder families `xait train` builds from scratch. */
export type DecoderArch = "gpt2" | "llama";

export interface DecoderShape {
  vocabSize: number;
  hidden: number;
  layers: number;
  heads: number;
  /** Key/value heads (Llama family; must divide heads). */
  kvHeads: number;
  intermediate: number;
  maxPositions: number;
  /** The end-of-text token id (also what padding writes). */
  eos: number;
  /** Class labels: a …ForSequenceClassification model; none: a causal language model. */
  labels?: readonly string[];
}

/** The default feed-forward width: 4 × hidden (GPT-2); ⅔ of that rounded up to a multiple of 8 for Llama's gated MLP. */
export function defaultIntermediate(arch: DecoderArch, hidden: number): number {
  return arch === "gpt2" ? 4 * hidden : Math.ceil((8 * hidden) / 3 / 8) * 8;
}

/**
 * The config of a new decoder: GPT-2 (learned positions, LayerNorm, tanh-GELU MLP) or Llama (rotary
 * positions, RMSNorm, SiLU-gated MLP, grouped k/v heads), the LM head tied to the token embeddings.
 */
export function decoderConfig(arch: DecoderArch, s: DecoderShape): ModelConfig {
  const classify = s.labels !== undefined;
  const ids = { bos_token_id: s.eos, eos_token_id: s.eos, pad_token_id: s.eos };
  const labels = classify ? labelKeys(s.labels!) : {};
  const raw =
    arch === "gpt2"
      ? {
          model_type: "gpt2",
          architectures: [classify ? "GPT2ForSequenceClassification" : "GPT2LMHeadModel"],
          vocab_size: s.vocabSize,
          n_embd: s.hidden,
          n_layer: s.layers,
          n_head: s.heads,
          n_inner: s.intermediate,
          n_positions: s.maxPositions,
          activation_function: "gelu_new",
          layer_norm_epsilon: 1e-5,
          tie_word_embeddings: true,
          ...ids,
          ...labels,
        }
      : {
          model_type: "llama",
          architectures: [classify ? "LlamaForSequenceClassification" : "LlamaForCausalLM"],
          vocab_size: s.vocabSize,
          hidden_size: s.hidden,
          intermediate_size: s.intermediate,
          num_hidden_layers: s.layers,
          num_attention_heads: s.heads,
          num_key_value_heads: s.kvHeads,
          max_position_embeddings: s.maxPositions,
          rms_norm_eps: 1e-6,
          rope_theta: 10000,
          hidden_act: "silu",
          tie_word_embeddings: true,
          ...ids,
          ...labels,
        };
  return configFromObject(raw);
}

/** `…LMHeadModel` / `…ForCausalLM` → `…ForSequenceClassification`. */
function classifierArchitecture(lmConfig: ModelConfig): string {
  const json = configToJSON(lmConfig);
  const name = Array.isArray(json.architectures) ? String(json.architectures[0]) : "";
  const base = name.replace(/(LMHeadModel|ForCausalLM)$/, "");
  if (base === name) throw new XaitError(`architecture ${name} is not a causal language model`);
  return `${base}ForSequenceClassification`;
}

/**
 * A sequence classifier made from a causal language model: the same config with the classifier's
 * architecture and labels, every body tensor (embeddings, blocks, final norm) copied bit for bit,
 * the LM head left out and a new bias-free `score` head [labels, hidden] drawn from normal(0, std)
 * with `seed`. The tokenizer is kept. The classifier reads the hidden state of the last real token.
 */
export function classifierFromLanguageModel(
  lm: TransformerModel,
  labels: readonly string[],
  seed: number,
  std = INIT_STD,
): TransformerModel {
  if (lm.config.task !== "causal-lm") throw new XaitError("the model is not a causal language model");
  if (labels.length < 1) throw new XaitError("a classifier needs at least one class");
  const json = configToJSON(lm.config);
  for (const key of ["id2label", "label2id", "num_labels"]) delete json[key];
  const config = configFromObject({
    ...json,
    architectures: [classifierArchitecture(lm.config)],
    ...labelKeys(labels),
  });
  const rng = new Random(seed);
  const params = new Map<string, Tensor>();
  for (const spec of parameterSpecs(familyOf(config.modelType).architecture(config))) {
    if (spec.unused) continue;
    const body = lm.params.get(spec.name);
    if (body) {
      params.set(spec.name, new Tensor(body.data.slice(), body.shape));
      continue;
    }
    if (spec.init !== "normal")
      throw new XaitError(`the language model has no tensor ${spec.name} for the classifier`);
    const t = Tensor.zeros(spec.shape);
    for (let i = 0; i < t.size; i++) t.data[i] = rng.normal() * std;
    params.set(spec.name, t);
  }
  return new TransformerModel(config, params, lm.tokenizer);
}
