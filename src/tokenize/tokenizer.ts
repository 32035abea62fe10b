/**
 * What xait needs from a tokenizer: text (or a text pair) in, model input ids out, with the special
 * tokens of the model's template and the token-type ids that BERT-style models use for pairs.
 */

/** One encoded input: ids, their token strings and token types, all of the same length. */
export interface Encoding {
  ids: number[];
  tokens: string[];
  /** 0 for the first segment (including its [CLS] and [SEP]), 1 for the second. */
  typeIds: number[];
  /** True when tokens were dropped to respect maxLength. */
  truncated: boolean;
}

/**
 * The special token ids of a model's vocabulary. Encoders' vocabularies have [CLS], [SEP], [PAD] and
 * [UNK] (or <s>, </s>, <pad>, <unk>); a decoder's may have only an end-of-text token.
 */
export interface SpecialTokens {
  cls?: number;
  sep?: number;
  pad?: number;
  unk?: number;
  mask?: number;
  /** End of text / sequence: </s>, <|endoftext|>, <|end_of_text|>, … */
  eos?: number;
}

/** The id written into padding positions: the pad token, else end-of-text, else `fallback`. */
export function paddingToken(special: SpecialTokens, fallback: number): number {
  return special.pad ?? special.eos ?? fallback;
}

/**
 * The token that stands for "no information" where occlusion and the perturbation protocol remove a
 * token: the unknown token if the vocabulary has one, else the pad token, else end-of-text.
 */
export function replacementToken(special: SpecialTokens): number | undefined {
  return special.unk ?? special.pad ?? special.eos;
}

export interface Tokenizer {
  /**
   * Encodes with the model's special tokens ([CLS] … [SEP] (… [SEP]) or <s> … </s>, or none). With
   * maxLength, tokens are dropped from the end of the longer segment first until the total, special
   * tokens included, fits — or, with `keep: "end"` (a prompt whose next token is predicted), from the
   * start of a single text; `truncated` tells whether that happened.
   */
  encode(text: string, pair?: string, maxLength?: number, keep?: "start" | "end"): Encoding;
  /** Number of ids the embedding matrix must cover (largest id + 1). */
  readonly vocabSize: number;
  tokenToId(token: string): number | undefined;
  /** The tokens of a text without any special token (what `--target-token` names). */
  pieces(text: string): { ids: number[]; tokens: string[] };
  /** The text of a sequence of ids (byte-level tokens decoded to UTF-8). */
  decode(ids: readonly number[]): string;
  idToToken(id: number): string | undefined;
  readonly special: SpecialTokens;
  /** A tokenizer.json text that @huggingface/tokenizers and Python's `tokenizers` both load. */
  toJSON(): string;
}
