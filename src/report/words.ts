/**
 * Word pieces back into readable words. Three piece conventions are recognised:
 * - WordPiece (BERT): `##` marks a continuation of the previous token;
 * - byte-level BPE (RoBERTa, GPT-2): `Ġ` (an encoded space) marks a word start, and pieces are
 *   bytes mapped to printable characters, decoded back to UTF-8 here;
 * - SentencePiece: `▁` marks a word start.
 * Special tokens ([CLS], [SEP], <s>, …) are units of their own. A word's score is the sum of its
 * pieces' scores (relevance is additive).
 */

/** Special tokens of the common tokenizers ([UNK]/<unk> are not: they stand for a word). */
const SPECIAL_TOKENS = new Set([
  "[CLS]",
  "[SEP]",
  "[PAD]",
  "[MASK]",
  "<s>",
  "</s>",
  "<pad>",
  "<mask>",
  "<cls>",
  "<sep>",
  "<bos>",
  "<eos>",
]);

export function isSpecialToken(token: string): boolean {
  return SPECIAL_TOKENS.has(token) || /^<\|[^|]*\|>$/.test(token);
}

export type PieceScheme = "wordpiece" | "byte-level" | "sentencepiece";

/** The piece convention of a token sequence (WordPiece unless a `Ġ` or `▁` word marker appears). */
export function detectScheme(tokens: readonly string[]): PieceScheme {
  if (tokens.some((t) => t.startsWith("Ġ"))) return "byte-level";
  if (tokens.some((t) => t.startsWith("▁"))) return "sentencepiece";
  return "wordpiece";
}

/** One token as read: its display text and whether it starts a word. */
export interface Piece {
  /** The token without its marker (`##`, `Ġ`, `▁`), bytes decoded; `␣` for a bare space. */
  display: string;
  special: boolean;
  /** False for a continuation of the previous word. */
  startsWord: boolean;
  /** Whether the original text had white space before this piece (always true for WordPiece words). */
  spaceBefore: boolean;
}

/** One readable unit: a word (or a token, or a special token) with the summed score of its pieces. */
export interface Word {
  text: string;
  score: number;
  tokenIndices: number[];
  special: boolean;
  spaceBefore: boolean;
}

/** GPT-2's byte ↔ printable character table: printable Latin-1 bytes map to themselves, the rest to 256 + n. */
function byteOfCharTable(): Map<number, number> {
  const map = new Map<number, number>();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    map.set(printable ? b : 256 + n++, b);
  }
  return map;
}

let byteOfChar: Map<number, number> | undefined;

/** The bytes of a byte-level BPE piece, or undefined if it has a character outside the table. */
function pieceBytes(piece: string): number[] | undefined {
  byteOfChar ??= byteOfCharTable();
  const bytes: number[] = [];
  for (const ch of piece) {
    const b = byteOfChar.get(ch.codePointAt(0)!);
    if (b === undefined) return undefined;
    bytes.push(b);
  }
  return bytes;
}

/** Decode a byte-level piece (or a word's pieces) to text; falls back to the raw characters. */
export function decodeByteLevel(piece: string): string {
  const bytes = pieceBytes(piece);
  if (bytes === undefined) return piece;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array(bytes));
  } catch {
    return piece;
  }
}

const PUNCTUATION_ONLY = /^[\p{P}\p{S}]+$/u;

/** Read every token: display text, word starts and spacing. */
export function readPieces(tokens: readonly string[]): Piece[] {
  const scheme = detectScheme(tokens);
  const pieces: Piece[] = [];
  let previous: Piece | undefined;
  for (const token of tokens) {
    let piece: Piece;
    if (isSpecialToken(token)) {
      piece = { display: token, special: true, startsWord: true, spaceBefore: previous !== undefined };
    } else if (scheme === "wordpiece") {
      const continuation = token.startsWith("##") && token.length > 2;
      const startsWord = !continuation || previous === undefined || previous.special;
      piece = {
        display: continuation ? token.slice(2) : token,
        special: false,
        startsWord,
        spaceBefore: startsWord && previous !== undefined,
      };
    } else {
      const decoded = scheme === "byte-level" ? decodeByteLevel(token) : token.replace(/^▁/, " ");
      const marked = decoded.startsWith(" ");
      let display = marked ? decoded.slice(1) : decoded;
      if (display === "") display = "␣";
      // Punctuation is read as its own unit, as WordPiece tokenizers split it.
      const punctuationBoundary =
        previous !== undefined &&
        !previous.special &&
        PUNCTUATION_ONLY.test(display) !== PUNCTUATION_ONLY.test(previous.display);
      piece = {
        display,
        special: false,
        startsWord: marked || previous === undefined || previous.special || punctuationBoundary,
        spaceBefore: marked || (previous?.special ?? false),
      };
    }
    pieces.push(piece);
    previous = piece;
  }
  return pieces;
}

export interface WordOptions {
  /** Leave special tokens out of the result. */
  hideSpecial?: boolean;
}

/** One unit per token (display text, marker removed), scores unchanged. */
export function tokenUnits(
  tokens: readonly string[],
  scores: readonly number[],
  opts: WordOptions = {},
): Word[] {
  return readPieces(tokens)
    .map((p, i) => ({
      text: p.display,
      score: scores[i] ?? NaN,
      tokenIndices: [i],
      special: p.special,
      spaceBefore: p.spaceBefore,
    }))
    .filter((w) => !(opts.hideSpecial && w.special));
}

/** Join word pieces into words; a word's score is the sum of its pieces' scores. */
export function joinWords(
  tokens: readonly string[],
  scores: readonly number[],
  opts: WordOptions = {},
): Word[] {
  const scheme = detectScheme(tokens);
  const words: Word[] = [];
  const raw: string[] = [];
  readPieces(tokens).forEach((p, i) => {
    const score = scores[i] ?? NaN;
    const last = words[words.length - 1];
    if (p.startsWord || last === undefined) {
      words.push({
        text: p.display,
        score,
        tokenIndices: [i],
        special: p.special,
        spaceBefore: p.spaceBefore,
      });
      raw.push(tokens[i]!);
    } else {
      last.text += p.display;
      last.score += score;
      last.tokenIndices.push(i);
      raw[raw.length - 1] += tokens[i]!;
    }
  });
  if (scheme === "byte-level") {
    // A character split across pieces only decodes once the word's bytes are together.
    words.forEach((w, k) => {
      if (w.special || w.tokenIndices.length < 2) return;
      const decoded = decodeByteLevel(raw[k]!);
      if (decoded !== raw[k]) w.text = decoded.replace(/^ /, "") || "␣";
    });
  }
  return words.filter((w) => !(opts.hideSpecial && w.special));
}
