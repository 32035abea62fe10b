import { XaitError, usageError } from "../errors.js";
import type { Encoding, SpecialTokens, Tokenizer } from "./tokenizer.js";
import { loadLibraryTokenizer, type LibraryTokenizer } from "./library.js";
import { longestFirstLengths } from "./truncate.js";

/** A parsed tokenizer.json (Hugging Face tokenizers format); only `model` is required. */
export type TokenizerJSON = Record<string, unknown> & { model: Record<string, unknown> };

/** The top-level keys of a tokenizer.json, in Hugging Face's order; missing ones are written as null. */
const TOP_LEVEL_KEYS = [
  "version",
  "truncation",
  "padding",
  "added_tokens",
  "normalizer",
  "pre_tokenizer",
  "post_processor",
  "decoder",
  "model",
] as const;

/** Special tokens are looked up by these names: BERT's first, then RoBERTa's, then decoders'. */
const SPECIAL_NAMES: Record<keyof SpecialTokens, string[]> = {
  cls: ["[CLS]", "<s>"],
  sep: ["[SEP]", "</s>"],
  pad: ["[PAD]", "<pad>", "<|pad|>", "<|finetune_right_pad_id|>"],
  unk: ["[UNK]", "<unk>"],
  mask: ["[MASK]", "<mask>"],
  eos: ["</s>", "<|endoftext|>", "<|end_of_text|>", "<|im_end|>", "<|eot_id|>"],
};

/** Loads a tokenizer.json text. */
export function tokenizerFromJSON(json: string, fileName = "tokenizer.json"): Tokenizer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new XaitError(`${fileName}: not valid JSON`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new XaitError(`${fileName}: not a JSON object`);
  }
  const model = (parsed as Record<string, unknown>).model;
  if (model === null || typeof model !== "object" || Array.isArray(model)) {
    throw new XaitError(`${fileName}: no "model" object (is this a Hugging Face tokenizer.json?)`);
  }
  return tokenizerFromObject(parsed as TokenizerJSON, fileName);
}

/** Builds a tokenizer from a tokenizer.json object (the object is copied, not kept). */
export function tokenizerFromObject(json: TokenizerJSON, fileName = "tokenizer.json"): Tokenizer {
  const complete: Record<string, unknown> = {};
  for (const key of TOP_LEVEL_KEYS) complete[key] = json[key] ?? null;
  complete.version ??= "1.0";
  complete.added_tokens ??= [];
  for (const [key, value] of Object.entries(json)) if (!(key in complete)) complete[key] = value;
  const text = JSON.stringify(complete, null, 2);
  try {
    return new JsonTokenizer(loadLibraryTokenizer(JSON.parse(text) as object), text, fileName);
  } catch (e) {
    if (e instanceof XaitError) throw e;
    throw new XaitError(`${fileName}: cannot be loaded: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** A Tokenizer backed by @huggingface/tokenizers, adding truncation and token types for pairs. */
class JsonTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly special: SpecialTokens;
  private readonly specialsSingle: number;
  private readonly specialsPair: number;

  constructor(
    private readonly inner: LibraryTokenizer,
    private readonly text: string,
    private readonly fileName: string,
  ) {
    let size = 0;
    for (const id of inner.get_vocab(true).values()) size = Math.max(size, id + 1);
    this.vocabSize = size;
    this.special = resolveSpecials((name) => inner.token_to_id(name));
    this.specialsSingle = this.withSpecials([], null).tokens.length;
    let pairSpecials = NaN; // NaN: the tokenizer has no template for text pairs
    try {
      pairSpecials = this.withSpecials([], []).tokens.length;
    } catch {
      // a single-sequence template: encoding a pair will be refused
    }
    this.specialsPair = pairSpecials;
  }

  encode(text: string, pair?: string, maxLength?: number, keep: "start" | "end" = "start"): Encoding {
    let first = this.segment(text, "empty text");
    let second = pair === undefined ? null : this.segment(pair, "empty text pair");
    if (second !== null && Number.isNaN(this.specialsPair)) {
      throw new XaitError(`${this.fileName}: this tokenizer has no template for text pairs`);
    }
    let truncated = false;
    if (maxLength !== undefined) {
      const specials = second === null ? this.specialsSingle : this.specialsPair;
      const minimum = specials + (second === null ? 1 : 2);
      if (!Number.isInteger(maxLength) || maxLength < minimum) {
        throw usageError(
          `maxLength ${maxLength} is too small: ${specials} special tokens plus at least one token per text need ${minimum}`,
        );
      }
      const [a, b] = longestFirstLengths(first.length, second?.length ?? 0, maxLength - specials);
      truncated = a < first.length || (second !== null && b < second.length);
      first = keep === "end" && second === null ? first.slice(first.length - a) : first.slice(0, a);
      if (second !== null) second = second.slice(0, b);
    }
    const { tokens, token_type_ids } = this.withSpecials(first, second);
    const ids = tokens.map((t) => {
      const id = this.inner.token_to_id(t) ?? this.special.unk;
      if (id === undefined)
        throw new XaitError(
          `${this.fileName}: token ${JSON.stringify(t)} is not in the vocabulary, which has no unknown token`,
        );
      return id;
    });
    const typeIds =
      Array.isArray(token_type_ids) &&
      token_type_ids.length === tokens.length &&
      token_type_ids.every((t) => Number.isInteger(t))
        ? token_type_ids
        : this.fallbackTypeIds(ids, second !== null);
    return { ids, tokens, typeIds, truncated };
  }

  tokenToId(token: string): number | undefined {
    return this.inner.token_to_id(token);
  }

  pieces(text: string): { ids: number[]; tokens: string[] } {
    const tokens = text.length === 0 ? [] : this.inner.tokenize(text, { add_special_tokens: false });
    return { tokens, ids: tokens.map((t) => this.inner.token_to_id(t) ?? this.special.unk ?? -1) };
  }

  decode(ids: readonly number[]): string {
    return ids.length === 0 ? "" : this.inner.decode([...ids]);
  }

  idToToken(id: number): string | undefined {
    return this.inner.id_to_token(id);
  }

  toJSON(): string {
    return this.text;
  }

  /** Tokens of one text without special tokens. */
  private segment(text: string, emptyMessage: string): string[] {
    const tokens = text.length === 0 ? [] : this.inner.tokenize(text, { add_special_tokens: false });
    if (tokens.length === 0) throw new XaitError(emptyMessage);
    return tokens;
  }

  /** Applies the model's post-processor (its template of special tokens). */
  private withSpecials(
    first: string[],
    second: string[] | null,
  ): { tokens: string[]; token_type_ids?: number[] } {
    const post = this.inner.post_processor;
    if (post === null) return { tokens: [...first, ...(second ?? [])] };
    const out = post(first, second, true);
    // Some post-processors (ByteLevel) hand the pair back separately instead of merging it.
    if (second !== null && out.tokens_pair !== undefined && out.token_type_ids === undefined) {
      return { tokens: [...out.tokens, ...out.tokens_pair] };
    }
    return out;
  }

  /** Token types when the post-processor gives none: 0 up to and including the first [SEP], 1 after. */
  private fallbackTypeIds(ids: number[], isPair: boolean): number[] {
    const sep = this.special.sep;
    const firstSep = isPair && sep !== undefined ? ids.indexOf(sep) : -1;
    return ids.map((_, i) => (firstSep >= 0 && i > firstSep ? 1 : 0));
  }
}

function resolveSpecials(lookup: (token: string) => number | undefined): SpecialTokens {
  const special: SpecialTokens = {};
  for (const key of Object.keys(SPECIAL_NAMES) as (keyof SpecialTokens)[]) {
    for (const name of SPECIAL_NAMES[key]) {
      const id = lookup(name);
      if (id !== undefined) {
        special[key] = id;
        break;
      }
    }
  }
  return special;
}
