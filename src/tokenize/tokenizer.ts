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

/** The special token ids of a model's vocabulary. */
export interface SpecialTokens {
  cls: number;
  sep: number;
  pad: number;
  unk: number;
  mask?: number;
}

export interface Tokenizer {
  /**
   * Encodes with the model's special tokens ([CLS] … [SEP] (… [SEP]) or <s> … </s>). With maxLength,
   * tokens are dropped from the end of the longer segment first until the total, special tokens
   * included, fits; `truncated` tells whether that happened.
   */
  encode(text: string, pair?: string, maxLength?: number): Encoding;
  /** Number of ids the embedding matrix must cover (largest id + 1). */
  readonly vocabSize: number;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  readonly special: SpecialTokens;
  /** A tokenizer.json text that @huggingface/tokenizers and Python's `tokenizers` both load. */
  toJSON(): string;
}
