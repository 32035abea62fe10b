import { XaitError } from "../errors.js";
import { tokenizerFromObject, type TokenizerJSON } from "./hf-tokenizer.js";
import type { Tokenizer } from "./tokenizer.js";

/** BERT's special tokens, in the order they are registered as added tokens. */
export const BERT_SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] as const;

/** BERT's uncased normaliser; strip_accents null follows lowercase, as in bert-base-uncased. */
export const BERT_UNCASED_NORMALIZER = {
  type: "BertNormalizer",
  clean_text: true,
  handle_chinese_chars: true,
  strip_accents: null,
  lowercase: true,
} as const;

/**
 * The HTML formatting tags that scraped review text keeps (IMDB's `<br />` above all), any case, with
 * or without a closing slash. A Replace normaliser turns each into a space when a tokenizer is built
 * with `stripHtml`. Only syntax that Oniguruma (Python's `tokenizers`) and JavaScript's RegExp read
 * alike: no inline flags, so case by character classes. Text such as `a < b`, `<3` or `<spoiler>` is
 * left alone.
 */
export const HTML_TAG_PATTERN =
  "</?(?:[bB][rR]|[hH][rR]|[pP]|[iI]|[bB]|[uU]|[eE][mM]|[sS][tT][rR][oO][nN][gG])\\s*/?>";

export interface WordPieceOptions {
  /** Replace HTML formatting tags (HTML_TAG_PATTERN) by a space before BERT's normaliser. */
  stripHtml?: boolean;
}

/** Longer words become [UNK], as in BERT. */
export const MAX_INPUT_CHARS_PER_WORD = 100;

/**
 * The tokenizer.json of an uncased BERT WordPiece tokenizer over `vocab` (token at index i has id i):
 * BertNormalizer (clean text, CJK characters as words, lowercase, strip accents), BertPreTokenizer
 * (split on whitespace and punctuation), WordPiece with "##" continuations and at most 100 characters
 * per word, template `[CLS] $A [SEP]` / `[CLS] $A [SEP] $B:1 [SEP]:1`, WordPiece decoder. With
 * `stripHtml`, the normaliser is a Sequence: a Replace of HTML formatting tags by a space, then BERT's.
 * A token listed twice keeps its last id, as Hugging Face's vocab.txt reader does.
 */
export function bertWordPieceJSON(
  vocab: readonly string[],
  source = "vocab.txt",
  options: WordPieceOptions = {},
): TokenizerJSON {
  const ids: Record<string, number> = Object.create(null) as Record<string, number>;
  vocab.forEach((token, id) => (ids[token] = id));
  const idOf = (token: string): number => {
    const id = ids[token];
    if (id === undefined) throw new XaitError(`${source}: the vocabulary has no ${token} token`);
    return id;
  };
  const cls = idOf("[CLS]");
  const sep = idOf("[SEP]");
  idOf("[UNK]");
  idOf("[PAD]");
  const addedTokens = BERT_SPECIAL_TOKENS.filter((t) => ids[t] !== undefined)
    .map((content) => ({
      id: ids[content],
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    }))
    .sort((a, b) => a.id - b.id);
  const special = (id: string, typeId: number) => ({ SpecialToken: { id, type_id: typeId } });
  const sequence = (id: "A" | "B", typeId: number) => ({ Sequence: { id, type_id: typeId } });
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: options.stripHtml
      ? {
          type: "Sequence",
          normalizers: [
            { type: "Replace", pattern: { Regex: HTML_TAG_PATTERN }, content: " " },
            { ...BERT_UNCASED_NORMALIZER },
          ],
        }
      : { ...BERT_UNCASED_NORMALIZER },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [special("[CLS]", 0), sequence("A", 0), special("[SEP]", 0)],
      pair: [
        special("[CLS]", 0),
        sequence("A", 0),
        special("[SEP]", 0),
        sequence("B", 1),
        special("[SEP]", 1),
      ],
      special_tokens: {
        "[CLS]": { id: "[CLS]", ids: [cls], tokens: ["[CLS]"] },
        "[SEP]": { id: "[SEP]", ids: [sep], tokens: ["[SEP]"] },
      },
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: "[UNK]",
      continuing_subword_prefix: "##",
      max_input_chars_per_word: MAX_INPUT_CHARS_PER_WORD,
      vocab: ids,
    },
  };
}

/** Parses vocab.txt: one token per line, id = line number − 1 (trailing whitespace and \r dropped). */
export function parseVocabTxt(vocabTxt: string): string[] {
  const lines = vocabTxt.split("\n").map((line) => line.trimEnd());
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** The standard uncased BERT WordPiece tokenizer for a vocab.txt. */
export function tokenizerFromVocab(vocabTxt: string, fileName = "vocab.txt"): Tokenizer {
  const vocab = parseVocabTxt(vocabTxt);
  if (vocab.length === 0) throw new XaitError(`${fileName}: empty vocabulary`);
  return tokenizerFromObject(bertWordPieceJSON(vocab, fileName), fileName);
}
