/**
 * The library entry point: explain(model, text | [text, pair], options) → Explanation. A classifier
 * explains a class (default: the predicted one); a causal language model explains the next token
 * after the text (default: the most likely one), optionally against a contrast token.
 */
import { usageError, XaitError } from "../errors.js";
import { makeBatch, type Batch, type Site, type TransformerModel } from "../models/index.js";
import { paddingToken, type Tokenizer } from "../tokenize/index.js";
import type { MethodOptions } from "./context.js";
import { getMethod } from "./registry.js";
import type { Explanation, MethodExplanation } from "./result.js";

export interface ExplainOptions {
  /** Method ids (default ["lrp"]). */
  methods?: string[];
  /** Class index or label to explain (default: the predicted class); for a language model a token id. */
  target?: number | string;
  /** Language model: explain this next token, given as its text (exactly one token, e.g. " great"). */
  targetToken?: string;
  /** Explain logit(target) − logit(contrast): a class index or label, or for a language model a token's text. */
  contrast?: number | string;
  gamma?: number;
  steps?: number;
  seed?: number;
  /** Per-site rule overrides of the rule-set methods, e.g. { "head.activation": "identity" }. */
  rules?: Partial<Record<Site, string>>;
  /** Recorded as `model` in the result (e.g. the folder path). */
  modelName?: string;
  /** Receives warnings (e.g. truncation). */
  warn?: (message: string) => void;
}

/** Token ids chosen by the caller (no special tokens added), e.g. a window of a token stream. */
export interface TokenIds {
  ids: readonly number[];
}

/** A text, a text pair, or token ids. */
export type ExplainInput = string | [string, string] | TokenIds;

function isTokenIds(input: ExplainInput): input is TokenIds {
  return typeof input === "object" && !Array.isArray(input);
}

/** The batch of token ids given as they are: each id checked against the vocabulary, the length against the model. */
function encodeIds(
  model: TransformerModel,
  input: TokenIds,
  tok: Tokenizer,
): { batch: Batch; tokens: string[] } {
  const ids = [...input.ids];
  if (ids.length === 0) throw usageError("no token ids: nothing to explain");
  const vocab = model.config.vocabSize;
  const bad = ids.find((id) => !Number.isInteger(id) || id < 0 || id >= vocab);
  if (bad !== undefined) throw usageError(`token id ${bad} is not in the model's vocabulary of ${vocab}`);
  if (ids.length > model.capabilities.maxTokens)
    throw usageError(
      `${ids.length} token ids are more than the model's ${model.capabilities.maxTokens} positions`,
    );
  return {
    batch: makeBatch(
      [{ ids, typeIds: ids.map(() => 0) }],
      paddingToken(tok.special, model.config.padTokenId),
    ),
    tokens: ids.map((id) => tok.idToToken(id) ?? `<${id}>`),
  };
}

/** Next-token candidates listed in a language model's result. */
const TOP_TOKENS = 5;

function softmax(logits: ArrayLike<number>): number[] {
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) m = Math.max(m, logits[i]!);
  const e = Array.from(logits, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Resolve a class given as index or label (a language model: a token id); out of range → usage error. */
export function resolveTarget(model: TransformerModel, target: number | string): number {
  if (model.config.task === "causal-lm") {
    const id = typeof target === "number" ? target : /^\d+$/.test(target) ? Number(target) : NaN;
    if (!Number.isInteger(id) || id < 0 || id >= model.numLabels)
      throw usageError(
        `target ${target} is not a token id of the model's vocabulary (0-${model.numLabels - 1}); name a token by its text with --target-token`,
      );
    return id;
  }
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

/** The id of a text that must be exactly one token of a language model's vocabulary. */
export function resolveToken(model: TransformerModel, text: string, flag = "--target-token"): number {
  if (model.config.task !== "causal-lm")
    throw usageError(`${flag} applies to language models; this model is a classifier (use --target)`);
  const tok = model.tokenizer;
  if (!tok) throw new XaitError("the model has no tokenizer (tokenizer.json or vocab.txt)");
  if (text.length === 0) throw usageError(`${flag} is empty: name one token`);
  const { ids, tokens } = tok.pieces(text);
  if (ids.length !== 1)
    throw usageError(
      `${flag} ${JSON.stringify(text)} is ${ids.length} tokens (${tokens.map((t) => JSON.stringify(t)).join(", ")}), not one`,
    );
  if (ids[0]! < 0 || ids[0]! >= model.numLabels)
    throw usageError(`${flag} ${JSON.stringify(text)} is not in the model's vocabulary`);
  return ids[0]!;
}

/** A contrast given as a class / token id, a label, or (language model) a token's text. */
function resolveContrast(model: TransformerModel, contrast: number | string): number {
  if (model.config.task === "causal-lm" && typeof contrast === "string")
    return resolveToken(model, contrast, "--contrast");
  return resolveTarget(model, contrast);
}

/**
 * Tokenise one input with the model's tokenizer and maximum length. A causal model keeps the end of
 * a text that is too long (the next token depends on it), an encoder the start.
 */
export function encodeInput(
  model: TransformerModel,
  input: ExplainInput,
  warn?: (m: string) => void,
): { batch: Batch; tokens: string[] } {
  const tok = model.tokenizer;
  if (!tok) throw new XaitError("the model has no tokenizer (tokenizer.json or vocab.txt)");
  if (isTokenIds(input)) return encodeIds(model, input, tok);
  const [text, pair] = typeof input === "string" ? [input, undefined] : input;
  if (!text.trim()) throw usageError("empty text: nothing to explain");
  const causal = model.capabilities.causal;
  const enc = tok.encode(text, pair, model.capabilities.maxTokens, causal ? "end" : "start");
  if (enc.truncated)
    warn?.(
      `text truncated to ${enc.ids.length} tokens (the model's maximum), ${causal ? "keeping its end" : "keeping its start"}`,
    );
  return {
    batch: makeBatch(
      [{ ids: enc.ids, typeIds: enc.typeIds }],
      paddingToken(tok.special, model.config.padTokenId),
    ),
    tokens: enc.tokens,
  };
}

/** Inputs explained together: one padded batch (a model that does not mask padding: equal lengths only). */
function groups(model: TransformerModel, lengths: number[], size = 32): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]!);
  const out: number[][] = [];
  for (const i of order) {
    const last = out[out.length - 1];
    const fits =
      last && last.length < size && (model.capabilities.masksPadding || lengths[last[0]!] === lengths[i]);
    if (fits) last.push(i);
    else out.push([i]);
  }
  return out;
}

/** The outputs listed in a result: a classifier's classes, or a language model's top next tokens (plus target and contrast). */
function listed(model: TransformerModel, logits: ArrayLike<number>, extra: number[]): number[] {
  if (model.config.task !== "causal-lm") return model.config.labels.map((_, i) => i);
  const top: number[] = [];
  for (let i = 0; i < logits.length; i++) {
    if (top.length < TOP_TOKENS || logits[i]! > logits[top[top.length - 1]!]!) {
      top.push(i);
      top.sort((a, b) => logits[b]! - logits[a]! || a - b);
      if (top.length > TOP_TOKENS) top.pop();
    }
  }
  for (const id of extra) if (!top.includes(id)) top.push(id);
  return top;
}

/** One input already tokenised: a one-row batch, its tokens, and the text(s) it came from. */
export interface EncodedInput {
  batch: Batch;
  tokens: string[];
  text: string;
  pair?: string;
}

/**
 * Explain several inputs. Methods with a batched form (the rule-set methods and saliency) run one
 * forward and one backward pass per group of inputs; the others run input by input.
 */
export function explainMany(
  model: TransformerModel,
  inputs: readonly ExplainInput[],
  opts: ExplainOptions = {},
): Explanation[] {
  const encoded = inputs.map((input): EncodedInput => {
    if (isTokenIds(input))
      return { ...encodeInput(model, input, opts.warn), text: model.tokenizer?.decode(input.ids) ?? "" };
    const [text, pair] = typeof input === "string" ? [input, undefined] : input;
    return { ...encodeInput(model, input, opts.warn), text, ...(pair !== undefined ? { pair } : {}) };
  });
  return explainEncoded(model, encoded, opts);
}

/**
 * Explain tokenised inputs; `targets` (one per input) fixes each input's explained class or token
 * (as in generation, where step s explains the token it produced).
 */
export function explainEncoded(
  model: TransformerModel,
  encoded: readonly EncodedInput[],
  opts: ExplainOptions = {},
  targets?: readonly number[],
): Explanation[] {
  const methods = (opts.methods ?? ["lrp"]).map(getMethod);
  const options: MethodOptions = {
    gamma: opts.gamma ?? 0,
    steps: opts.steps ?? 50,
    seed: opts.seed ?? 0,
    ...(opts.rules ? { rules: opts.rules } : {}),
  };
  if (!(options.gamma >= 0) || !Number.isFinite(options.gamma))
    throw usageError(`gamma must be a finite number ≥ 0, got ${options.gamma}`);
  if (!Number.isInteger(options.steps) || options.steps < 1)
    throw usageError(`steps must be a positive integer, got ${options.steps}`);
  if (opts.rules && Object.keys(opts.rules).length && !methods.some((m) => m.rules))
    throw usageError(
      "--rule changes the rule-set methods (lrp, lrp-ah, attnlrp, gi); none of them is chosen",
    );
  if (opts.target !== undefined && opts.targetToken !== undefined)
    throw usageError("give --target or --target-token, not both");
  const fixedTarget =
    opts.targetToken !== undefined
      ? resolveToken(model, opts.targetToken)
      : opts.target === undefined
        ? undefined
        : resolveTarget(model, opts.target);
  const contrast = opts.contrast === undefined ? undefined : resolveContrast(model, opts.contrast);
  const results: Explanation[] = new Array(encoded.length);
  const lm = model.config.task === "causal-lm";
  const nameOf = (id: number) => (lm ? model.tokenizer!.decode([id]) : model.config.labels[id]!);
  const pad = paddingToken(model.tokenizer?.special ?? {}, model.config.padTokenId);
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
    const all = model.predict(batch).data;
    const C = model.numLabels;
    for (const v of all)
      if (!Number.isFinite(v))
        throw new XaitError(
          "the model's logits are not finite (NaN or ±∞): its weights or config make the computation overflow",
        );
    const logits = group.map((_, r) => all.subarray(r * C, (r + 1) * C));
    const predicted = logits.map(argmax);
    const rowTargets = group.map((i, r) => targets?.[i] ?? fixedTarget ?? predicted[r]!);
    if (contrast !== undefined && rowTargets.some((t) => t === contrast))
      throw usageError(
        `the contrast ${JSON.stringify(nameOf(contrast))} is the explained ${lm ? "token" : "class"} itself`,
      );
    const contrasts = rowTargets.map(() => contrast ?? null);
    const perMethod = methods.map((method) => {
      const start = performance.now();
      const outs = method.runBatch
        ? method.runBatch({ model, batch, targets: rowTargets, contrasts, options })
        : group.map((i, r) =>
            method.run({
              model,
              batch: encoded[i]!.batch,
              target: rowTargets[r]!,
              ...(contrast !== undefined ? { contrast } : {}),
              options,
            }),
          );
      for (const out of outs)
        if (out.attributions.some((v) => !Number.isFinite(v)))
          throw new XaitError(
            `${method.id}: the attributions are not finite (NaN or ±∞); a rule parameter (gamma?) may overflow`,
          );
      return { method, outs, ms: (performance.now() - start) / group.length };
    });
    group.forEach((i, r) => {
      const row = logits[r]!;
      const explained = row[rowTargets[r]!]! - (contrast === undefined ? 0 : row[contrast]!);
      const explanations: Record<string, MethodExplanation> = {};
      for (const { method, outs, ms } of perMethod) {
        const out = outs[r]!;
        explanations[method.id] = {
          attributions: out.attributions,
          sum: out.attributions.reduce((a, b) => a + b, 0),
          logit: explained,
          conservative: method.conservative,
          ...(out.layers ? { layers: out.layers } : {}),
          ms,
        };
      }
      const { text, pair } = encoded[i]!;
      const shown = listed(model, row, [rowTargets[r]!, ...(contrast !== undefined ? [contrast] : [])]);
      const probs = softmax(row);
      const token = (id: number) => ({ id, text: nameOf(id) });
      results[i] = {
        model: opts.modelName ?? "",
        text,
        ...(pair !== undefined ? { pair } : {}),
        tokens: encoded[i]!.tokens,
        ids: Array.from(encoded[i]!.batch.ids),
        logits: shown.map((k) => row[k]!),
        probabilities: shown.map((k) => probs[k]!),
        target: shown.indexOf(rowTargets[r]!),
        label: nameOf(rowTargets[r]!),
        predicted: shown.indexOf(predicted[r]!),
        predictedLabel: nameOf(predicted[r]!),
        labels: shown.map(nameOf),
        ...(lm ? { targetToken: token(rowTargets[r]!), outputIds: shown } : {}),
        ...(contrast !== undefined
          ? { contrast: lm ? token(contrast) : { id: contrast, text: nameOf(contrast) } }
          : {}),
        explanations,
      };
    });
  }
  return results;
}

function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

/** Explain one input (a text, a text pair or token ids). */
export function explain(
  model: TransformerModel,
  input: ExplainInput,
  opts: ExplainOptions = {},
): Explanation {
  return explainMany(model, [input], opts)[0]!;
}
