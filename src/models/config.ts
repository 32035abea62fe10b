/**
 * config.json of a Hugging Face model folder, normalised over the model families: the shape of the
 * network in one vocabulary (hidden size, heads, layers, …). Each family module reads its own keys
 * with a ConfigReader and fills a ModelConfig; registry.ts picks the family by `model_type`.
 */
import { XaitError } from "../errors.js";

export type Activation = "gelu" | "gelu_new" | "relu" | "silu";

/** What a model computes: class logits, or next-token logits over its vocabulary. */
export type Task = "classification" | "causal-lm";

export interface ModelConfig {
  /** `model_type` as written in config.json (bert, roberta, gpt2, llama, …). */
  modelType: string;
  task: Task;
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  /** Key/value heads (grouped-query attention); equal to numHeads otherwise. */
  numKvHeads: number;
  /** Width of one attention head. */
  headDim: number;
  /** Feed-forward width (0: no feed-forward layer, as in the paper's xai-transformer). */
  intermediateSize: number;
  hiddenAct: Activation;
  /** Number of learned or rotary positions (the context length). */
  maxPositions: number;
  typeVocabSize: number;
  /** ε of every LayerNorm / RMSNorm. */
  normEps: number;
  /** Id written into padding positions (never attended to where the model masks padding). */
  padTokenId: number;
  /** Class labels in index order (classification; empty for a causal LM). */
  labels: string[];
  /** Rotary embeddings' base (Llama family). */
  ropeTheta?: number;
  /** The LM head shares the token embedding matrix. */
  tieWordEmbeddings?: boolean;
  /** Biases on the q, k, v projections (Qwen2). */
  attentionBias?: boolean;
  /** Mistral's sliding attention window (inputs beyond it are refused). */
  slidingWindow?: number;
  /** The config as read, for writing back keys this loader does not interpret. */
  raw: Record<string, unknown>;
}

/** Largest sizes a config may ask for before the weights are seen (checked against them later). */
const MAX_DIMENSION = 1 << 20;
const MAX_LAYERS = 4096;
export const MAX_LABELS = 1 << 16;

/** Typed access to config.json keys: every error names the key and what was expected. */
export class ConfigReader {
  constructor(
    readonly raw: Record<string, unknown>,
    readonly fileName = "config.json",
  ) {}

  private fail(key: string, want: string, v: unknown): never {
    throw new XaitError(
      `${this.fileName}: "${key}" must be ${want}${v === undefined ? " (missing)" : `, got ${JSON.stringify(v)?.slice(0, 60)}`}`,
    );
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }

  number(key: string, fallback?: number): number {
    const v = this.raw[key] ?? fallback;
    if (typeof v !== "number" || !Number.isFinite(v)) this.fail(key, "a number", this.raw[key]);
    return v;
  }

  /** A positive number (ε of a norm, rotary base). */
  positive(key: string, fallback?: number): number {
    const v = this.number(key, fallback);
    if (!(v > 0)) this.fail(key, "a positive number", v);
    return v;
  }

  /** A positive integer up to `max` (dimensions, layer counts). */
  size(key: string, fallback?: number, max = MAX_DIMENSION): number {
    const v = this.number(key, fallback);
    if (!Number.isInteger(v) || v <= 0 || v > max) this.fail(key, `a positive integer up to ${max}`, v);
    return v;
  }

  /**
   * The hidden size and the attention heads under the family's key names, for attention whose heads
   * split the hidden size: the size must divide evenly.
   */
  heads(
    hiddenKey: string,
    headsKey: string,
  ): { hiddenSize: number; numHeads: number; numKvHeads: number; headDim: number } {
    const hiddenSize = this.size(hiddenKey);
    const numHeads = this.size(headsKey);
    if (hiddenSize % numHeads !== 0)
      throw new XaitError(
        `${this.fileName}: "${hiddenKey}" ${hiddenSize} is not divisible by ${numHeads} attention heads`,
      );
    return { hiddenSize, numHeads, numKvHeads: numHeads, headDim: hiddenSize / numHeads };
  }

  layers(key: string): number {
    return this.size(key, undefined, MAX_LAYERS);
  }

  /** A token id (≥ 0), or the fallback when absent or null. */
  tokenId(key: string, fallback: number): number {
    const v = this.raw[key];
    if (v === undefined || v === null) return fallback;
    // eos_token_id may be a list (Llama 3): the first entry
    const first = Array.isArray(v) ? v[0] : v;
    if (typeof first !== "number" || !Number.isInteger(first) || first < 0)
      this.fail(key, "a token id (integer ≥ 0)", v);
    return first;
  }

  boolean(key: string, fallback: boolean): boolean {
    const v = this.raw[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "boolean") this.fail(key, "true or false", v);
    return v;
  }

  string(key: string, fallback?: string): string {
    const v = this.raw[key] ?? fallback;
    if (typeof v !== "string") this.fail(key, "a string", this.raw[key]);
    return v;
  }

  /** An activation name as Hugging Face spells it. */
  activation(key: string, fallback: string, allowed: readonly Activation[]): Activation {
    const v = this.string(key, fallback);
    const name = v === "gelu_pytorch_tanh" || v === "gelu_fast" ? "gelu_new" : v === "swish" ? "silu" : v;
    if (!(allowed as readonly string[]).includes(name))
      throw new XaitError(
        `${this.fileName}: unsupported "${key}" ${JSON.stringify(v)} (supported: ${allowed.join(", ")})`,
      );
    return name as Activation;
  }

  /** Class labels from id2label (or num_labels, as LABEL_i). */
  labels(): string[] {
    const id2label = this.raw.id2label;
    if (id2label !== undefined && id2label !== null) {
      if (typeof id2label !== "object" || Array.isArray(id2label))
        this.fail("id2label", 'an object {"0": label, …}', id2label);
      const entries = id2label as Record<string, unknown>;
      const n = Object.keys(entries).length;
      if (n > MAX_LABELS) this.fail("id2label", `at most ${MAX_LABELS} entries`, `${n} entries`);
      const labels: string[] = [];
      for (let i = 0; i < n; i++) {
        const l = entries[String(i)];
        if (typeof l !== "string")
          throw new XaitError(`${this.fileName}: id2label has no string label for class ${i}`);
        labels.push(l);
      }
      if (this.has("num_labels") && this.size("num_labels", undefined, MAX_LABELS) !== n)
        throw new XaitError(
          `${this.fileName}: "num_labels" is ${String(this.raw.num_labels)} but id2label has ${n} entries`,
        );
      return labels;
    }
    const n = this.size("num_labels", 2, MAX_LABELS);
    return Array.from({ length: n }, (_, i) => `LABEL_${i}`);
  }
}

/** `architectures[0]` of a config, if any. */
export function architectureName(raw: Record<string, unknown>): string | undefined {
  const a = raw.architectures;
  return Array.isArray(a) && typeof a[0] === "string" ? a[0] : undefined;
}

/** The label2id / id2label keys Hugging Face writes for a classifier. */
export function labelKeys(labels: readonly string[]): Record<string, unknown> {
  return {
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
  };
}
