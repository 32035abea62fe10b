import { XaitError, usageError } from "../errors.js";
import type { TokenizerJSON } from "./hf-tokenizer.js";

/**
 * A GPT-2 style byte-level BPE vocabulary learned from training text, written as a Hugging Face
 * tokenizer.json.
 *
 * Byte level: text is UTF-8 encoded and every byte is shown as one printable character (GPT-2's
 * bytes_to_unicode table: the printable bytes `!`..`~`, `¡`..`¬`, `®`..`ÿ` stand for themselves, the
 * other 68 become U+0100, U+0101, … in byte order, so a space is `Ġ` and a newline `Ċ`). With all 256
 * byte symbols in the vocabulary, any text tokenises without an unknown token and decodes back exactly.
 */

export interface ByteLevelBPEOptions {
  /** Vocabulary size wanted, special tokens included (at least 256 + the number of special tokens). */
  vocabSize: number;
  /** A pair seen fewer times than this is never merged, even if the vocabulary is not full (default 2). */
  minFrequency?: number;
  /** Special tokens, given the last ids in this order (default ["<|endoftext|>"]). */
  specialTokens?: readonly string[];
}

/** What training learned: tokens in id order (bytes, merges, special tokens) and the merges by rank. */
export interface ByteLevelBPE {
  vocab: string[];
  merges: [string, string][];
  specialTokens: string[];
}

/** GPT-2's end-of-text token, the default (and only) special token. */
export const END_OF_TEXT = "<|endoftext|>";

/**
 * GPT-2's pre-tokenisation pattern: contractions, a letter run, a digit run or a run of other symbols
 * (each with at most one leading space), and whitespace. The same expression as the ByteLevel
 * pre-tokenizer of @huggingface/tokenizers, so that training splits words exactly as encoding does.
 */
export const GPT2_PRETOKENIZE_PATTERN =
  /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** GPT-2's bytes_to_unicode table: the printable character standing for each byte 0..255. */
export const BYTE_TO_SYMBOL: readonly string[] = (() => {
  const printable = (b: number) =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const table: string[] = [];
  let shifted = 0;
  for (let b = 0; b < 256; b++) table.push(String.fromCharCode(printable(b) ? b : 256 + shifted++));
  return table;
})();

/** The byte each printable symbol of `BYTE_TO_SYMBOL` stands for. */
export const SYMBOL_TO_BYTE: ReadonlyMap<string, number> = new Map(
  BYTE_TO_SYMBOL.map((symbol, byte) => [symbol, byte]),
);

/** The 256 byte symbols in vocabulary order, ids 0..255 as in GPT-2: by code point of the symbol. */
export const BYTE_SYMBOLS_BY_ID: readonly string[] = [...BYTE_TO_SYMBOL].sort(
  (a, b) => a.charCodeAt(0) - b.charCodeAt(0),
);

const encoder = new TextEncoder();

/** A piece of text → its byte-level string (one symbol per UTF-8 byte). */
export function toByteLevel(piece: string): string {
  let out = "";
  for (const byte of encoder.encode(piece)) out += BYTE_TO_SYMBOL[byte];
  return out;
}

/**
 * Byte-level tokens → the text they spell: the symbols joined, each mapped back to its byte, the bytes
 * decoded as UTF-8. Throws on a character that is not a byte symbol (a special token, say).
 */
export function fromByteLevel(tokens: readonly string[]): string {
  const joined = tokens.join("");
  const bytes = new Uint8Array(joined.length);
  for (let i = 0; i < joined.length; i++) {
    const byte = SYMBOL_TO_BYTE.get(joined[i]);
    if (byte === undefined) throw new XaitError(`byte-level decoding: "${joined[i]}" is not a byte symbol`);
    bytes[i] = byte;
  }
  return new TextDecoder("utf-8").decode(bytes);
}

/**
 * The words of a text as the byte-level tokenizer sees them: special tokens cut out whole, the rest
 * split by GPT-2's pattern (no prefix space added), each piece in byte-level form.
 */
export function byteLevelWords(text: string, specialTokens: readonly string[] = [END_OF_TEXT]): string[] {
  return rawWords(text, specialTokens).map(toByteLevel);
}

/** GPT-2 pre-tokenisation of the text between special tokens, pieces still as text. */
function rawWords(text: string, specialTokens: readonly string[]): string[] {
  const words: string[] = [];
  for (const section of withoutSpecials(text, specialTokens)) {
    for (const match of section.matchAll(GPT2_PRETOKENIZE_PATTERN)) words.push(match[0]);
  }
  return words;
}

/** The parts of `text` between occurrences of the special tokens (the longest one wins at a position). */
function withoutSpecials(text: string, specialTokens: readonly string[]): string[] {
  const present = specialTokens.filter((s) => text.includes(s));
  if (present.length === 0) return [text];
  const sections: string[] = [];
  let start = 0;
  let i = 0;
  const longestFirst = [...present].sort((a, b) => b.length - a.length);
  while (i < text.length) {
    const special = longestFirst.find((s) => text.startsWith(s, i));
    if (special === undefined) {
      i++;
      continue;
    }
    if (i > start) sections.push(text.slice(start, i));
    i += special.length;
    start = i;
  }
  if (start < text.length) sections.push(text.slice(start));
  return sections;
}

/** Largest vocabulary accepted: pair keys pack two ids below 2^21 into one float64-safe integer. */
const MAX_VOCAB_SIZE = 1 << 21;

/**
 * Learns byte-level BPE merges from `texts`.
 *
 * 1. Words are counted once: each text is cut at special tokens and split by GPT-2's pattern, and a map
 *    holds each distinct word with its count; a word is then a sequence of byte-symbol ids.
 * 2. The vocabulary starts with the 256 byte symbols (ids 0..255).
 * 3. Repeatedly, the adjacent pair of symbols with the largest count over all words (each word weighted
 *    by its count) is merged: the merge "left right" is recorded and left+right becomes a symbol with
 *    the next id (unless the same string is already a token: the merge is recorded, the id reused).
 *    Within a word, occurrences are merged left to right without overlap, as encoding applies merges.
 *    Ties: the pair whose left symbol is smaller wins, then the one whose right symbol is smaller,
 *    symbols compared as strings by code point, the order of the vocabulary's first 256 ids (so `z` <
 *    `Ġ`, although a space is a smaller byte than `z`). The result does not depend on the order of the
 *    texts.
 * 4. It stops when the vocabulary, with the special tokens, reaches vocabSize, or when the most
 *    frequent pair occurs fewer than minFrequency times.
 * 5. The special tokens take the last ids.
 *
 * Pair counts are updated incrementally: only the words that contain the merged pair (found through
 * an index pair → words) are rewritten, and a lazily corrected max-heap finds the next pair.
 */
export function learnByteLevelBPE(texts: Iterable<string>, opts: ByteLevelBPEOptions): ByteLevelBPE {
  const { vocabSize } = opts;
  const minFrequency = opts.minFrequency ?? 2;
  const specialTokens = [...(opts.specialTokens ?? [END_OF_TEXT])];
  validate(vocabSize, minFrequency, specialTokens);

  // 1. Count words.
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const word of rawWords(text, specialTokens)) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  if (counts.size === 0) throw new XaitError("byte-level BPE: the training texts contain no words");

  // 2. The byte symbols.
  const vocab: string[] = [...BYTE_SYMBOLS_BY_ID];
  const idOf = new Map<string, number>(vocab.map((symbol, id) => [symbol, id]));
  const byteId = BYTE_TO_SYMBOL.map((symbol) => idOf.get(symbol)!);
  const merges: [string, string][] = [];
  const wanted = vocabSize - specialTokens.length;

  const words = new Words(counts, byteId);
  const pairs = new PairCounts(vocab);
  words.countPairs(pairs);

  // 3. Merge.
  while (vocab.length < wanted) {
    const best = pairs.popMostFrequent();
    if (best === undefined || best.count < minFrequency) break;
    const left = vocab[best.left];
    const right = vocab[best.right];
    const token = left + right;
    let merged = idOf.get(token);
    if (merged === undefined) {
      merged = vocab.length;
      vocab.push(token);
      idOf.set(token, merged);
    }
    merges.push([left, right]);
    words.merge(best.left, best.right, merged, pairs);
  }

  // 5. Special tokens.
  for (const special of specialTokens) {
    if (idOf.has(special)) {
      throw new XaitError(
        `byte-level BPE: special token "${special}" is also a learned token; choose another`,
      );
    }
    vocab.push(special);
  }
  return { vocab, merges, specialTokens };
}

function validate(vocabSize: number, minFrequency: number, specialTokens: string[]): void {
  const minimum = 256 + specialTokens.length;
  if (!Number.isSafeInteger(vocabSize) || vocabSize < minimum) {
    throw usageError(
      `vocabulary size must be at least ${minimum} (256 byte symbols + ${specialTokens.length} special tokens), got ${vocabSize}`,
    );
  }
  if (vocabSize > MAX_VOCAB_SIZE) {
    throw usageError(`vocabulary size must be at most ${MAX_VOCAB_SIZE}, got ${vocabSize}`);
  }
  if (!Number.isSafeInteger(minFrequency) || minFrequency < 1) {
    throw usageError(`minimum pair frequency must be a positive integer, got ${minFrequency}`);
  }
  const seen = new Set<string>();
  for (const special of specialTokens) {
    if (special.length === 0) throw usageError("special tokens must not be empty");
    if (seen.has(special)) throw usageError(`special token "${special}" is listed twice`);
    if (SYMBOL_TO_BYTE.has(special)) throw usageError(`special token "${special}" is a byte symbol`);
    seen.add(special);
  }
}

/** Key of the pair (left, right) of symbol ids. */
function pairKey(left: number, right: number): number {
  return left * MAX_VOCAB_SIZE + right;
}

/**
 * Pair → count over all words, with a max-heap of (count, pair) entries for the most frequent pair.
 * Heap entries may be stale: when a count drops, its old entry stays (higher than the truth) and is
 * corrected when popped; when a count rises, a fresh entry is pushed. So every pair has an entry at
 * least as high as its count, and an entry that matches its count when popped is the true maximum.
 */
class PairCounts {
  private readonly counts = new Map<number, number>();
  private readonly heapCounts: number[] = [];
  private readonly heapKeys: number[] = [];

  constructor(private readonly vocab: readonly string[]) {}

  add(key: number, delta: number): number {
    const count = (this.counts.get(key) ?? 0) + delta;
    if (count === 0) this.counts.delete(key);
    else this.counts.set(key, count);
    return count;
  }

  /** Records that the pair's count may have risen (pushes its current count). */
  raised(key: number): void {
    const count = this.counts.get(key);
    if (count !== undefined) this.push(count, key);
  }

  popMostFrequent(): { left: number; right: number; count: number } | undefined {
    while (this.heapKeys.length > 0) {
      const key = this.heapKeys[0];
      const entry = this.heapCounts[0];
      this.pop();
      const count = this.counts.get(key) ?? 0;
      if (count === entry) {
        return { left: Math.floor(key / MAX_VOCAB_SIZE), right: key % MAX_VOCAB_SIZE, count };
      }
      // Stale: a lower count is re-queued; a higher one already has its own entry.
      if (count > 0 && count < entry) this.push(count, key);
    }
    return undefined;
  }

  /** Heap order: larger count first, then smaller left symbol, then smaller right symbol. */
  private before(i: number, j: number): boolean {
    const ci = this.heapCounts[i];
    const cj = this.heapCounts[j];
    if (ci !== cj) return ci > cj;
    const ki = this.heapKeys[i];
    const kj = this.heapKeys[j];
    const li = this.vocab[Math.floor(ki / MAX_VOCAB_SIZE)];
    const lj = this.vocab[Math.floor(kj / MAX_VOCAB_SIZE)];
    if (li !== lj) return li < lj;
    return this.vocab[ki % MAX_VOCAB_SIZE] < this.vocab[kj % MAX_VOCAB_SIZE];
  }

  private swap(i: number, j: number): void {
    const c = this.heapCounts[i];
    this.heapCounts[i] = this.heapCounts[j];
    this.heapCounts[j] = c;
    const k = this.heapKeys[i];
    this.heapKeys[i] = this.heapKeys[j];
    this.heapKeys[j] = k;
  }

  private push(count: number, key: number): void {
    this.heapCounts.push(count);
    this.heapKeys.push(key);
    let i = this.heapKeys.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private pop(): void {
    const last = this.heapKeys.length - 1;
    this.swap(0, last);
    this.heapCounts.pop();
    this.heapKeys.pop();
    const n = this.heapKeys.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let top = i;
      if (l < n && this.before(l, top)) top = l;
      if (r < n && this.before(r, top)) top = r;
      if (top === i) break;
      this.swap(i, top);
      i = top;
    }
  }
}

/** The distinct words as symbol-id sequences with their counts, and an index pair → words holding it. */
class Words {
  private readonly symbols: Int32Array[] = [];
  private readonly lengths: number[] = [];
  private readonly counts: number[] = [];
  /** Words that hold (or once held) each pair; a word may be listed twice, or no longer hold it. */
  private readonly where = new Map<number, number[]>();

  constructor(wordCounts: Map<string, number>, byteId: readonly number[]) {
    for (const [word, count] of wordCounts) {
      const bytes = encoder.encode(word);
      const symbols = new Int32Array(bytes.length);
      for (let i = 0; i < bytes.length; i++) symbols[i] = byteId[bytes[i]];
      this.symbols.push(symbols);
      this.lengths.push(bytes.length);
      this.counts.push(count);
    }
  }

  countPairs(pairs: PairCounts): void {
    for (let w = 0; w < this.symbols.length; w++) {
      const s = this.symbols[w];
      for (let i = 0; i + 1 < this.lengths[w]; i++) {
        const key = pairKey(s[i], s[i + 1]);
        pairs.add(key, this.counts[w]);
        this.index(key, w);
      }
    }
    for (const key of this.where.keys()) pairs.raised(key);
  }

  /** Replaces every (left, right) by `merged` in the words that hold it, updating the pair counts. */
  merge(left: number, right: number, merged: number, pairs: PairCounts): void {
    const key = pairKey(left, right);
    const holders = this.where.get(key) ?? [];
    this.where.delete(key);
    const raised = new Set<number>();
    for (const w of holders) {
      const s = this.symbols[w];
      const n = this.lengths[w];
      let holds = false;
      for (let i = 0; i + 1 < n && !holds; i++) holds = s[i] === left && s[i + 1] === right;
      if (!holds) continue;
      const count = this.counts[w];
      for (let i = 0; i + 1 < n; i++) pairs.add(pairKey(s[i], s[i + 1]), -count);
      let j = 0;
      for (let i = 0; i < n;) {
        if (i + 1 < n && s[i] === left && s[i + 1] === right) {
          s[j++] = merged;
          i += 2;
        } else {
          s[j++] = s[i++];
        }
      }
      this.lengths[w] = j;
      for (let i = 0; i + 1 < j; i++) {
        const pair = pairKey(s[i], s[i + 1]);
        pairs.add(pair, count);
        if (s[i] === merged || s[i + 1] === merged) {
          this.index(pair, w);
          raised.add(pair);
        }
      }
    }
    for (const pair of raised) pairs.raised(pair);
  }

  private index(key: number, w: number): void {
    const list = this.where.get(key);
    if (list === undefined) this.where.set(key, [w]);
    else if (list[list.length - 1] !== w) list.push(w);
  }
}

/** The ByteLevel component settings shared by the pre-tokenizer, post-processor and decoder. */
function byteLevel(trimOffsets: boolean): Record<string, unknown> {
  return { type: "ByteLevel", add_prefix_space: false, trim_offsets: trimOffsets, use_regex: true };
}

/**
 * The tokenizer.json of a learned byte-level BPE: no normaliser, ByteLevel pre-tokenizer (GPT-2
 * pattern, no prefix space), BPE model without unknown token (every byte is a token), merges written
 * as "left right" strings (unambiguous: byte symbols never contain a space; read by Hugging Face's
 * Rust/Python `tokenizers` and by @huggingface/tokenizers), ByteLevel post-processor (no special
 * tokens added, offsets not trimmed) and decoder. Special tokens are in the model's vocabulary and in
 * `added_tokens` (special, not normalised), as in GPT-2's tokenizer.json.
 */
export function byteLevelBPEJSON(bpe: ByteLevelBPE): TokenizerJSON {
  const vocab: Record<string, number> = {};
  bpe.vocab.forEach((token, id) => (vocab[token] = id));
  const addedTokens = bpe.specialTokens.map((content) => ({
    id: vocab[content],
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: null,
    pre_tokenizer: byteLevel(true),
    post_processor: byteLevel(false),
    decoder: byteLevel(true),
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges: bpe.merges.map(([left, right]) => `${left} ${right}`),
    },
  };
}

/** Learns a byte-level BPE from `texts` (see learnByteLevelBPE) and returns its tokenizer.json text. */
export function buildByteLevelBPE(texts: Iterable<string>, opts: ByteLevelBPEOptions): string {
  return JSON.stringify(byteLevelBPEJSON(learnByteLevelBPE(texts, opts)), null, 2);
}
