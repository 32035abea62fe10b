/**
 * Ground-truth rationales ("ground-truth agreement" of Ali et al. 2022): which words a human marked as
 * carrying the sentiment, and how to carry word-level masks to word-piece tokens and back.
 *
 * - SST: the Stanford Sentiment Treebank labels every word 0-4; for a binary sentence the rationale
 *   is the words whose label agrees with the sentence's polarity.
 * - Tweet Sentiment Extraction: the human-selected span `selected_text`.
 *
 * Browser-safe: text in, masks out.
 */
import { XaitError } from "../errors.js";
import { isSpecialToken, pieceTexts } from "../tokenize/index.js";

export interface SstTree {
  /** Sentiment of the whole sentence (root label), 0 (very negative) … 4 (very positive). */
  label: number;
  /** The leaves in order, escapes undone (see `unescapeTreebankWord`). */
  words: string[];
  /** The label of each leaf's preterminal, i.e. the sentiment of the word on its own. */
  wordLabels: number[];
}

const TREEBANK_ESCAPES: Record<string, string> = {
  "-LRB-": "(",
  "-RRB-": ")",
  "-LSB-": "[",
  "-RSB-": "]",
  "-LCB-": "{",
  "-RCB-": "}",
};

/**
 * Undoes the Penn-Treebank escapes found in SST: bracket tokens (-LRB- → "(", …) and the
 * backslash before "/" and "*" (`Writer\/director` → `Writer/director`, as SST-2's sentences
 * write it). Every other word form is kept as the treebank spells it (case, `'s`, `n't`, `` ` ``).
 */
export function unescapeTreebankWord(word: string): string {
  return TREEBANK_ESCAPES[word] ?? word.replace(/\\([/*])/g, "$1");
}

/** Parses one PTB-style SST line, e.g. `(3 (2 It) (4 (2 's) (3 good)))`. */
export function parseSstTree(line: string): SstTree {
  const tokens = line.match(/[()]|[^\s()]+/g) ?? [];
  let pos = 0;
  const words: string[] = [];
  const wordLabels: number[] = [];
  const fail = (why: string): never => {
    throw new XaitError(
      `bad SST tree (${why} at token ${pos + 1}); expected "(label word)" or "(label left right)"`,
    );
  };
  const readLabel = (): number => {
    const t = tokens[pos++];
    if (t === undefined || !/^[0-4]$/.test(t)) fail(`label ${JSON.stringify(t ?? "end of line")} is not 0-4`);
    return Number(t);
  };
  // node := "(" label ( word | node+ ) ")"
  const node = (): number => {
    if (tokens[pos] !== "(") fail(`expected "(" but found ${JSON.stringify(tokens[pos] ?? "end of line")}`);
    pos++;
    const label = readLabel();
    if (tokens[pos] !== "(") {
      const word = tokens[pos];
      if (word === undefined || word === ")") fail("missing word");
      pos++;
      words.push(unescapeTreebankWord(word!));
      wordLabels.push(label);
    } else {
      while (tokens[pos] === "(") node();
    }
    if (tokens[pos] !== ")") fail(`expected ")" but found ${JSON.stringify(tokens[pos] ?? "end of line")}`);
    pos++;
    return label;
  };
  const label = node();
  if (pos !== tokens.length) fail("text after the tree");
  return { label, words, wordLabels };
}

/** Parses a whole treebank file (one tree per non-empty line); errors name the file and line. */
export function parseSstTrees(text: string, fileName = "trees"): SstTree[] {
  const trees: SstTree[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    try {
      trees.push(parseSstTree(line));
    } catch (e) {
      if (e instanceof XaitError) throw new XaitError(`${fileName}:${i + 1}: ${e.message}`);
      throw e;
    }
  });
  return trees;
}

/** A word-level ground truth for one sentence. */
export interface WordRationale {
  words: string[];
  /** true = the word is part of the human rationale. */
  mask: boolean[];
}

export interface SstRationale extends WordRationale {
  /** The sentence's binary class: 1 positive (root 3-4), 0 negative (root 0-1). */
  target: number;
  /** The words joined by spaces (SST-2's sentence, up to case). */
  text: string;
}

/**
 * The rationale of a binary SST sentence: for a positive sentence (root 3-4) the words labelled
 * 3-4, for a negative one (root 0-1) the words labelled 0-1. null for neutral sentences (root 2),
 * which are not in SST-2. The mask may be all false (134 of the 872 dev sentences: no single word
 * carries the sentence's polarity); AUPRC is undefined there, so skip such sentences.
 */
export function sstRationale(tree: SstTree): SstRationale | null {
  if (tree.label === 2) return null;
  const target = tree.label > 2 ? 1 : 0;
  const mask = tree.wordLabels.map((l) => (target === 1 ? l >= 3 : l <= 1));
  return { words: tree.words, mask, target, text: tree.words.join(" ") };
}

export interface TweetRationale extends WordRationale {
  /** The character span [start, end) of the selected text in the tweet. */
  start: number;
  end: number;
}

/**
 * The rationale of a tweet: its whitespace-separated words, marked when they overlap the span of
 * the first occurrence of the (trimmed) selected text — searched case-sensitively, then
 * case-insensitively. null when the selection is empty or not found.
 */
export function tweetRationale(text: string, selectedText: string): TweetRationale | null {
  const selected = selectedText.trim();
  if (selected === "") return null;
  let start = text.indexOf(selected);
  if (start < 0) start = foldCase(text).indexOf(foldCase(selected));
  if (start < 0) return null;
  const end = start + selected.length;
  const words: string[] = [];
  const mask: boolean[] = [];
  for (const m of text.matchAll(/\S+/g)) {
    const from = m.index!;
    words.push(m[0]);
    mask.push(from < end && from + m[0].length > start);
  }
  return { words, mask, start, end };
}

/** Lower-cases code unit by code unit where that keeps the length, so indices stay valid. */
function foldCase(s: string): string {
  let out = "";
  for (const c of s) {
    const l = c.toLowerCase();
    out += l.length === c.length ? l : c;
  }
  return out;
}

/** Lower-case, decompose (NFD) and drop combining marks, as an uncased BERT tokenizer does. */
function normalize(s: string): string {
  return s
    .replace(/[\p{Cc}\p{Cf}\uFFFD]/gu, "")
    .toLowerCase()
    .normalize("NFD")
    .replace(/\p{M}/gu, "");
}

const SPECIAL = /^\[[A-Z]+\]$|^<\/?[a-z]+>$/;

/**
 * Maps word-piece tokens to word indices (-1 for special tokens such as [CLS], [SEP], [PAD]):
 * walks through the characters of the words (normalised as an uncased tokenizer does: lower case,
 * accents stripped) and matches each token's characters (`##` continuation stripped; byte-level and
 * SentencePiece tokens by the text they spell, a character split across byte-level tokens going to
 * the word it belongs to). Tokens may
 * split a word at punctuation (`it's` → it ' s). [UNK] takes the rest of the current alphanumeric
 * run, or one punctuation character. A token that does not match where expected is searched
 * further on; if it appears nowhere it goes to the current word without consuming characters.
 */
export function alignWordsToTokens(words: readonly string[], tokens: readonly string[]): number[] {
  const chars: string[] = [];
  const owner: number[] = [];
  words.forEach((w, i) => {
    for (const c of normalize(w)) {
      if (/\s/u.test(c)) continue;
      chars.push(c);
      owner.push(i);
    }
  });
  const stream = chars.join("");
  // Start offset (in UTF-16 units of `stream`) of every char, to map search results back.
  const offsets: number[] = [];
  let o = 0;
  for (const c of chars) {
    offsets.push(o);
    o += c.length;
  }
  const charAt = new Map(offsets.map((off, i) => [off, i]));

  // byte-level and SentencePiece tokens matched by the text they spell (bytes decoded, spaces as spaces)
  const texts = pieceTexts(tokens);
  let at = 0; // index into chars
  return tokens.map((token, t) => {
    if (token === "[UNK]") {
      if (at >= chars.length) return -1;
      const word = owner[at];
      if (!isWordChar(chars[at])) {
        at++;
      } else {
        while (at < chars.length && owner[at] === word && isWordChar(chars[at])) at++;
      }
      return word;
    }
    if (SPECIAL.test(token) || isSpecialToken(token)) return -1;
    const text = texts[t]!;
    const piece = normalize(text.startsWith("##") ? text.slice(2) : text).replace(/\s/gu, "");
    if (piece === "") return at < chars.length ? owner[at] : -1;
    let found = at < chars.length ? stream.startsWith(piece, offsets[at]) : false;
    if (!found && at < chars.length) {
      const off = stream.indexOf(piece, offsets[at]);
      const index = charAt.get(off);
      if (off >= 0 && index !== undefined) {
        at = index;
        found = true;
      }
    }
    if (!found) return at < chars.length ? owner[at] : owner.length ? owner[owner.length - 1] : -1;
    const word = owner[at];
    let consumed = 0;
    while (consumed < piece.length) consumed += chars[at++].length;
    return word;
  });
}

function isWordChar(c: string): boolean {
  return /[\p{L}\p{N}]/u.test(c);
}

/** Sums token scores into their words (tokens mapped to -1 are dropped). */
export function sumToWords(
  tokenScores: readonly number[],
  tokenToWord: readonly number[],
  nWords: number,
): number[] {
  if (tokenScores.length !== tokenToWord.length) {
    throw new XaitError(`sumToWords: ${tokenScores.length} scores but ${tokenToWord.length} token positions`);
  }
  const sums = new Array<number>(nWords).fill(0);
  tokenToWord.forEach((w, t) => {
    if (w >= 0 && w < nWords) sums[w] += tokenScores[t];
  });
  return sums;
}

/** A word mask carried to tokens: a token is in the rationale when its word is; special tokens never. */
export function wordMaskToTokens(mask: readonly boolean[], tokenToWord: readonly number[]): boolean[] {
  return tokenToWord.map((w) => w >= 0 && mask[w] === true);
}
