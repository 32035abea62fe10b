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

/** Inputs explained together: one padded batch (xai-transformer: equal lengths only, it has no attention mask). */
function groups(model: SequenceClassifier, lengths: number[], size = 32): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]!);
  const out: number[][] = [];
  for (const i of order) {
    const last = out[out.length - 1];
    const fits =
      last &&
      last.length < size &&
      (model.layout.attentionKind !== "paper" || lengths[last[0]!] === lengths[i]);
    if (fits) last.push(i);
    else out.push([i]);
  }
  return out;
}

/**
 * Explain several inputs. Methods with a batched form (the rule-set methods and saliency) run one
 * forward and one backward pass per group of inputs; the others run input by input.
 */
export function explainMany(
  model: SequenceClassifier,
  inputs: readonly ExplainInput[],
  opts: ExplainOptions = {},
): Explanation[] {
  const methods = (opts.methods ?? ["lrp"]).map(getMethod);
  const options: MethodOptions = { gamma: opts.gamma ?? 0, steps: opts.steps ?? 50, seed: opts.seed ?? 0 };
  if (!(options.gamma >= 0)) throw usageError(`gamma must be ≥ 0, got ${options.gamma}`);
  if (!Number.isInteger(options.steps) || options.steps < 1)
    throw usageError(`steps must be a positive integer, got ${options.steps}`);
  const fixedTarget = opts.target === undefined ? undefined : resolveTarget(model, opts.target);
  const encoded = inputs.map((input) => encodeInput(model, input, opts.warn));
  const results: Explanation[] = new Array(inputs.length);
  const labels = model.config.labels;
  const pad = model.tokenizer!.special.pad;
  for (const group of groups(
    model,
    encoded.map((e) => e.batch.seq),
  )) {
    const batch = makeBatch(
      group.map((i) => ({
        ids: Array.from(encoded[i]!.batch.ids),
        typeIds: Array.from(encoded[i]!.batch.typeIds),
      })),
      pad,
    );
    const all = noGrad(() => model.forward(batch)).data;
    const C = model.numLabels;
    const logits = group.map((_, r) => Array.from(all.subarray(r * C, (r + 1) * C)));
    const predicted = logits.map((l) => l.indexOf(Math.max(...l)));
    const targets = predicted.map((p) => fixedTarget ?? p);
    const perMethod = methods.map((method) => {
      const start = performance.now();
      const outs = method.runBatch
        ? method.runBatch({ model, batch, targets, options })
        : group.map((i, r) => method.run({ model, batch: encoded[i]!.batch, target: targets[r]!, options }));
      return { method, outs, ms: (performance.now() - start) / group.length };
    });
    group.forEach((i, r) => {
      const explanations: Record<string, MethodExplanation> = {};
      for (const { method, outs, ms } of perMethod) {
        const out = outs[r]!;
        explanations[method.id] = {
          attributions: out.attributions,
          sum: out.attributions.reduce((a, b) => a + b, 0),
          logit: logits[r]![targets[r]!]!,
          conservative: method.conservative,
          ...(out.layers ? { layers: out.layers } : {}),
          ms,
        };
      }
      const input = inputs[i]!;
      const [text, pair] = typeof input === "string" ? [input, undefined] : input;
      results[i] = {
        model: opts.modelName ?? "",
        text,
        ...(pair !== undefined ? { pair } : {}),
        tokens: encoded[i]!.tokens,
        ids: Array.from(encoded[i]!.batch.ids),
        logits: logits[r]!,
        probabilities: softmax(logits[r]!),
        target: targets[r]!,
        label: labels[targets[r]!]!,
        predicted: predicted[r]!,
        predictedLabel: labels[predicted[r]!]!,
        labels,
        explanations,
      };
    });
  }
  return results;
}

/** Explain one input (a text or a text pair). */
export function explain(
  model: SequenceClassifier,
  input: ExplainInput,
  opts: ExplainOptions = {},
): Explanation {
  return explainMany(model, [input], opts)[0]!;
}
