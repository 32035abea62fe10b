import { XaitError, usageError } from "../errors.js";
import { tokenizerFromObject } from "./hf-tokenizer.js";
import { loadLibraryTokenizer } from "./library.js";
import type { Tokenizer } from "./tokenizer.js";
import { BERT_SPECIAL_TOKENS, bertWordPieceJSON, type WordPieceOptions } from "./wordpiece.js";

export interface VocabularyOptions extends WordPieceOptions {
  /** Largest vocabulary wanted (default 30000). Special and character tokens are kept even beyond it. */
  vocabSize?: number;
  /** Words seen fewer times are left to be spelled from characters (default 2). */
  minFrequency?: number;
}

/**
 * An uncased WordPiece vocabulary learned from training text, words split exactly as the resulting
 * tokenizer splits them (BERT normaliser: lowercase, accents stripped via NFD minus Mn, CJK characters
 * apart; BERT pre-tokeniser: whitespace and punctuation; with `stripHtml`, HTML formatting tags removed
 * first). In id order:
 *   1. [PAD]=0, [UNK]=1, [CLS]=2, [SEP]=3, [MASK]=4;
 *   2. every character seen (by code point), then its "##c" continuation for every character that can
 *      occur inside a word, so that any word made of seen characters tokenises without [UNK];
 *   3. whole words by descending frequency, ties alphabetical, frequency ≥ minFrequency, until vocabSize.
 */
export function learnWordPieceVocabulary(texts: Iterable<string>, opts: VocabularyOptions = {}): string[] {
  const vocabSize = opts.vocabSize ?? 30000;
  const minFrequency = opts.minFrequency ?? 2;
  if (!Number.isSafeInteger(vocabSize) || vocabSize < 1) {
    throw usageError(`vocabulary size must be a positive integer, got ${vocabSize}`);
  }
  if (!Number.isSafeInteger(minFrequency) || minFrequency < 1) {
    throw usageError(`minimum word frequency must be a positive integer, got ${minFrequency}`);
  }
  const words = bertWords(opts);
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const word of words(text)) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  if (counts.size === 0) throw new XaitError("vocabulary: the training texts contain no words");

  const chars = new Set<string>();
  for (const word of counts.keys()) for (const c of word) chars.add(c);
  const sortedChars = [...chars].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
  // A character that the pre-tokeniser always splits off (punctuation, CJK) never continues a word.
  const continuations = sortedChars.filter((c) => words(`a${c}a`).length !== 3);

  const vocab: string[] = [...BERT_SPECIAL_TOKENS, ...sortedChars, ...continuations.map((c) => `##${c}`)];
  const present = new Set(vocab);
  const ranked = [...counts.entries()]
    .filter(([word, count]) => count >= minFrequency && !present.has(word))
    .sort(([a, ca], [b, cb]) => cb - ca || (a < b ? -1 : a > b ? 1 : 0));
  for (const [word] of ranked) {
    if (vocab.length >= vocabSize) break;
    vocab.push(word);
  }
  return vocab;
}

/** A BERT WordPiece tokenizer (as tokenizerFromVocab builds) over a vocabulary learned from `texts`. */
export function buildWordPieceVocabulary(texts: Iterable<string>, opts: VocabularyOptions = {}): Tokenizer {
  const vocab = learnWordPieceVocabulary(texts, opts);
  return tokenizerFromObject(bertWordPieceJSON(vocab, "vocabulary", opts), "vocabulary");
}

/** Text → words, by the very normaliser and pre-tokeniser of the tokenizer that will use the vocabulary. */
function bertWords(options: WordPieceOptions): (text: string) => string[] {
  const probe = loadLibraryTokenizer(bertWordPieceJSON(BERT_SPECIAL_TOKENS, "vocabulary", options));
  const { normalizer, pre_tokenizer: preTokenizer } = probe;
  if (normalizer === null || preTokenizer === null) throw new Error("BERT tokenizer without normaliser");
  return (text) => preTokenizer(normalizer(text));
}
