/** The library entry point: explain(model, text | [text, pair], options) → Explanation. */
import { usageError, XaitError } from "../errors.js";
import { makeBatch, type Batch, type SequenceClassifier } from "../models/index.js";
import { noGrad } from "../tensor/index.js";
import type { MethodOptions } from "./context.js";
import { getMethod } from "./registry.js";
import type { Explanation, MethodExplanation } from "./result.js";

export interface ExplainOptions {
  /** Method ids (default ["lrp"]). */
  methods?: string[];
  /** Class index or label to explain (default: the predicted class). */
  target?: number | string;
  gamma?: number;
  steps?: number;
  seed?: number;
  /** Recorded as `model` in the result (e.g. the folder path). */
  modelName?: string;
  /** Receives warnings (e.g. truncation). */
  warn?: (message: string) => void;
}

export type ExplainInput = string | [string, string];

function softmax(logits: number[]): number[] {
  const m = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Resolve a class given as index or label; out of range → usage error. */
export function resolveTarget(model: SequenceClassifier, target: number | string): number {
  const labels = model.config.labels;
  if (typeof target === "number") {
    if (!Number.isInteger(target) || target < 0 || target >= labels.length)
      throw usageError(
        `target ${target} is out of range: the model has ${labels.length} classes (0-${labels.length - 1}: ${labels.join(", ")})`,
      );
    return target;
  }
  const byLabel = labels.findIndex((l) => l.toLowerCase() === target.toLowerCase());
  if (byLabel >= 0) return byLabel;
  if (/^\d+$/.test(target)) return resolveTarget(model, Number(target));
  throw usageError(`unknown target '${target}' (classes: ${labels.map((l, i) => `${i}=${l}`).join(", ")})`);
}

/** Tokenise one input with the model's tokenizer and maximum length. */
export function encodeInput(
  model: SequenceClassifier,
  input: ExplainInput,
  warn?: (m: string) => void,
): { batch: Batch; tokens: string[] } {
  const tok = model.tokenizer;
  if (!tok) throw new XaitError("the model has no tokenizer (tokenizer.json or vocab.txt)");
  const [text, pair] = typeof input === "string" ? [input, undefined] : input;
  if (!text.trim()) throw usageError("empty text: nothing to explain");
  const enc = tok.encode(
    text,
    pair,
    model.config.maxPositions - (model.layout.positionsFrom === "roberta" ? model.config.padTokenId + 1 : 0),
  );
  if (enc.truncated) warn?.(`text truncated to ${enc.ids.length} tokens (the model's maximum)`);
  return { batch: makeBatch([{ ids: enc.ids, typeIds: enc.typeIds }], tok.special.pad), tokens: enc.tokens };
}

export function explain(
  model: SequenceClassifier,
  input: ExplainInput,
  opts: ExplainOptions = {},
): Explanation {
  const methods = (opts.methods ?? ["lrp"]).map(getMethod);
  const { batch, tokens } = encodeInput(model, input, opts.warn);
  const logits = Array.from(noGrad(() => model.forward(batch)).data);
  const probabilities = softmax(logits);
  const predicted = logits.indexOf(Math.max(...logits));
  const target = opts.target === undefined ? predicted : resolveTarget(model, opts.target);
  const options: MethodOptions = { gamma: opts.gamma ?? 0, steps: opts.steps ?? 50, seed: opts.seed ?? 0 };
  if (!(options.gamma >= 0)) throw usageError(`gamma must be ≥ 0, got ${options.gamma}`);
  if (!Number.isInteger(options.steps) || options.steps < 1)
    throw usageError(`steps must be a positive integer, got ${options.steps}`);
  const explanations: Record<string, MethodExplanation> = {};
  for (const method of methods) {
    const start = performance.now();
    const out = method.run({ model, batch, target, options });
    const ms = performance.now() - start;
    explanations[method.id] = {
      attributions: out.attributions,
      sum: out.attributions.reduce((a, b) => a + b, 0),
      logit: logits[target]!,
      conservative: method.conservative,
      ...(out.layers ? { layers: out.layers } : {}),
      ms,
    };
  }
  const labels = model.config.labels;
  const [text, pair] = typeof input === "string" ? [input, undefined] : input;
  return {
    model: opts.modelName ?? "",
    text,
    ...(pair !== undefined ? { pair } : {}),
    tokens,
    ids: Array.from(batch.ids),
    logits,
    probabilities,
    target,
    label: labels[target]!,
    predicted,
    predictedLabel: labels[predicted]!,
    labels,
    explanations,
  };
}
