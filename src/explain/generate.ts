/**
 * Greedy generation with an explanation of every generated token: step s appends the most likely
 * next token, and its attribution is over every token before it (the prompt and the tokens generated
 * earlier). The steps are explained together — the rule-set methods as right-padded batches, one
 * backward pass per group of steps.
 */
import { usageError, XaitError } from "../errors.js";
import { makeBatch, type TransformerModel } from "../models/index.js";
import { encodeInput, explainEncoded, type EncodedInput, type ExplainOptions } from "./explain.js";
import type { Explanation, TokenRef } from "./result.js";

/** The most tokens one `generate` call may add. */
export const MAX_GENERATED = 1024;

export interface Generation {
  /** The prompt as given. */
  text: string;
  /** The generated tokens, in order (their text decoded). */
  generated: TokenRef[];
  /** The generated text (the tokens decoded together). */
  generatedText: string;
  /** Step s: the explanation of generated token s over every token before it. */
  steps: Explanation[];
}

/** Greedily generate `count` tokens after `text` and explain each (options as for explain()). */
export function generate(
  model: TransformerModel,
  text: string,
  count: number,
  opts: Omit<ExplainOptions, "target" | "targetToken"> = {},
): Generation {
  if (model.config.task !== "causal-lm")
    throw usageError("--generate needs a causal language model; this model is a classifier");
  if (!Number.isInteger(count) || count < 1 || count > MAX_GENERATED)
    throw usageError(
      `the number of tokens to generate must be an integer from 1 to ${MAX_GENERATED}, got ${count}`,
    );
  const tok = model.tokenizer;
  if (!tok) throw new XaitError("the model has no tokenizer (tokenizer.json or vocab.txt)");
  const prompt = encodeInput(model, text, opts.warn);
  const ids = Array.from(prompt.batch.ids);
  const tokens = prompt.tokens.slice();
  const max = model.capabilities.maxTokens;
  const generated: number[] = [];
  for (let s = 0; s < count; s++) {
    if (ids.length >= max) {
      opts.warn?.(`generation stopped after ${s} token(s): the context of ${max} tokens is full`);
      break;
    }
    const logits = model.predict(makeBatch([{ ids }], 0)).data;
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
    if (!Number.isFinite(logits[best]!))
      throw new XaitError(
        "the model's logits are not finite (NaN or ±∞): its weights or config make the computation overflow",
      );
    generated.push(best);
    ids.push(best);
    tokens.push(tok.idToToken(best) ?? String(best));
  }
  if (generated.length === 0)
    throw usageError(`the prompt already fills the model's context of ${max} tokens`);
  const promptLength = prompt.tokens.length;
  const contexts: EncodedInput[] = generated.map((_, s) => {
    const n = promptLength + s;
    return {
      batch: makeBatch([{ ids: ids.slice(0, n) }], 0),
      tokens: tokens.slice(0, n),
      text: s === 0 ? text : text + tok.decode(generated.slice(0, s)),
    };
  });
  const steps = explainEncoded(model, contexts, opts, generated);
  return {
    text,
    generated: generated.map((id) => ({ id, text: tok.decode([id]) })),
    generatedText: tok.decode(generated),
    steps,
  };
}
