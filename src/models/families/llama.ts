/**
 * The Llama family — Llama, Mistral, Qwen2 (and models of the same structure such as SmolLM):
 * `…ForCausalLM` and `…ForSequenceClassification`. Token embeddings only (positions are rotary:
 * q and k rotated by position in the `rotate_half` convention with base `rope_theta`), pre-norm
 * blocks with RMSNorm, grouped-query attention (`num_key_value_heads` k/v heads, each shared by a
 * group of query heads), scaled causal attention, a SiLU-gated MLP down(silu(gate(x)) ⊙ up(x)), a
 * final norm, and an LM head (tied to the embeddings when `tie_word_embeddings`) or a bias-free
 * `score` on the last real token. Qwen2 adds biases to q, k and v.
 */
import { XaitError } from "../../errors.js";
import {
  torchLinear,
  tableSizes,
  type Architecture,
  type LinearSpec,
  type NormSpec,
} from "../architecture.js";
import { labelKeys, type ConfigReader, type ModelConfig } from "../config.js";
import type { Family } from "../family.js";
import { decoderTask } from "./gpt2.js";

const ARCHITECTURES: Record<string, string> = { llama: "Llama", mistral: "Mistral", qwen2: "Qwen2" };

function readConfig(r: ConfigReader, modelType: string): ModelConfig {
  const hiddenSize = r.size("hidden_size");
  const numHeads = r.size("num_attention_heads");
  const numKvHeads = r.size("num_key_value_heads", numHeads);
  if (numHeads % numKvHeads !== 0)
    throw new XaitError(
      `${r.fileName}: ${numHeads} attention heads cannot be grouped over ${numKvHeads} key/value heads`,
    );
  if (!r.has("head_dim") && hiddenSize % numHeads !== 0)
    throw new XaitError(
      `${r.fileName}: hidden size ${hiddenSize} is not divisible by ${numHeads} attention heads`,
    );
  const headDim = r.has("head_dim") ? r.size("head_dim") : hiddenSize / numHeads;
  if (headDim % 2 !== 0)
    throw new XaitError(`${r.fileName}: rotary embeddings need an even head_dim, got ${headDim}`);
  if (r.has("rope_scaling"))
    throw new XaitError(
      `${r.fileName}: "rope_scaling" ${JSON.stringify(r.raw.rope_scaling).slice(0, 80)} is not supported (only plain rotary embeddings with rope_theta)`,
    );
  if (r.boolean("mlp_bias", false)) throw new XaitError(`${r.fileName}: "mlp_bias": true is not supported`);
  const task = decoderTask(r.raw);
  const eos = r.tokenId("eos_token_id", 0);
  const slidingWindow =
    modelType === "mistral" && r.has("sliding_window") ? r.size("sliding_window") : undefined;
  if (modelType === "qwen2" && r.boolean("use_sliding_window", false))
    throw new XaitError(`${r.fileName}: "use_sliding_window": true is not supported`);
  return {
    modelType,
    task,
    vocabSize: r.size("vocab_size"),
    hiddenSize,
    numLayers: r.layers("num_hidden_layers"),
    numHeads,
    numKvHeads,
    headDim,
    intermediateSize: r.size("intermediate_size"),
    hiddenAct: r.activation("hidden_act", "silu", ["silu", "gelu", "gelu_new", "relu"]),
    maxPositions: r.size("max_position_embeddings", 2048),
    typeVocabSize: 0,
    normEps: r.positive("rms_norm_eps", 1e-6),
    padTokenId: r.tokenId("pad_token_id", eos),
    labels: task === "classification" ? r.labels() : [],
    ropeTheta: r.positive("rope_theta", 10000),
    tieWordEmbeddings: r.boolean("tie_word_embeddings", false),
    attentionBias: modelType === "qwen2" || r.boolean("attention_bias", false),
    ...(slidingWindow !== undefined ? { slidingWindow } : {}),
    raw: r.raw,
  };
}

function architecture(cfg: ModelConfig): Architecture {
  const H = cfg.hiddenSize;
  const rms = (name: string): NormSpec => ({
    kind: "rms",
    weight: `${name}.weight`,
    bias: null,
    size: H,
    eps: cfg.normEps,
  });
  const qkvBias = cfg.attentionBias ?? false;
  const oBias = cfg.modelType !== "qwen2" && qkvBias;
  const word = "model.embed_tokens.weight";
  const head: LinearSpec =
    cfg.task === "causal-lm"
      ? {
          weight: cfg.tieWordEmbeddings ? word : "lm_head.weight",
          bias: null,
          layout: "out-in",
          in: H,
          out: cfg.vocabSize,
        }
      : torchLinear("score", H, cfg.labels.length, false);
  const q = cfg.numHeads * cfg.headDim;
  const kv = cfg.numKvHeads * cfg.headDim;
  return {
    embeddings: { word, position: null, tokenType: null, norm: null },
    blocks: Array.from({ length: cfg.numLayers }, (_, i) => {
      const l = `model.layers.${i}`;
      return {
        placement: "pre" as const,
        attention: {
          projections: {
            q: torchLinear(`${l}.self_attn.q_proj`, H, q, qkvBias),
            k: torchLinear(`${l}.self_attn.k_proj`, H, kv, qkvBias),
            v: torchLinear(`${l}.self_attn.v_proj`, H, kv, qkvBias),
          },
          output: torchLinear(`${l}.self_attn.o_proj`, q, H, oBias),
          heads: cfg.numHeads,
          kvHeads: cfg.numKvHeads,
          headDim: cfg.headDim,
          scaled: true,
          rotary: { theta: cfg.ropeTheta ?? 10000 },
        },
        attentionNorm: rms(`${l}.input_layernorm`),
        mlp: {
          kind: "gated" as const,
          gate: torchLinear(`${l}.mlp.gate_proj`, H, cfg.intermediateSize, false),
          up: torchLinear(`${l}.mlp.up_proj`, H, cfg.intermediateSize, false),
          down: torchLinear(`${l}.mlp.down_proj`, cfg.intermediateSize, H, false),
          activation: cfg.hiddenAct,
        },
        mlpNorm: rms(`${l}.post_attention_layernorm`),
      };
    }),
    finalNorm: rms("model.norm"),
    head: { kind: "projection", projection: head },
    capabilities: {
      causal: true,
      masksPadding: true,
      explainedPosition: "last",
      maxTokens: Math.min(cfg.maxPositions, cfg.slidingWindow ?? Infinity),
    },
    ...tableSizes(cfg),
    unused: [],
  };
}

function configJSON(cfg: ModelConfig): Record<string, unknown> {
  const lm = cfg.task === "causal-lm";
  const name = ARCHITECTURES[cfg.modelType] ?? "Llama";
  return {
    ...cfg.raw,
    model_type: cfg.modelType,
    architectures: [`${name}${lm ? "ForCausalLM" : "ForSequenceClassification"}`],
    vocab_size: cfg.vocabSize,
    hidden_size: cfg.hiddenSize,
    intermediate_size: cfg.intermediateSize,
    num_hidden_layers: cfg.numLayers,
    num_attention_heads: cfg.numHeads,
    num_key_value_heads: cfg.numKvHeads,
    head_dim: cfg.headDim,
    hidden_act: cfg.hiddenAct,
    max_position_embeddings: cfg.maxPositions,
    rms_norm_eps: cfg.normEps,
    rope_theta: cfg.ropeTheta,
    tie_word_embeddings: cfg.tieWordEmbeddings ?? false,
    pad_token_id: cfg.padTokenId,
    ...(cfg.modelType === "qwen2" ? {} : { attention_bias: cfg.attentionBias ?? false }),
    ...(lm ? {} : labelKeys(cfg.labels)),
  };
}

export const llama: Family = {
  modelTypes: ["llama", "mistral", "qwen2"],
  readConfig,
  architecture,
  configJSON,
  ignores: (name) => name.endsWith("rotary_emb.inv_freq") || name === "lm_head.weight",
};
