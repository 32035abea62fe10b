/**
 * Word pieces back into readable words, for the three piece conventions `tokenize/pieces.ts` reads
 * (WordPiece `##` continuations, byte-level BPE with `Ġ` spaces and bytes decoded, SentencePiece
 * `▁` spaces). Special tokens ([CLS], [SEP], <s>, …) are units of their own. A word's score is the
 * sum of its pieces' scores (relevance is additive).
 */

import { decodeByteLevel, detectScheme, isSpecialToken, pieceTexts } from "../tokenize/index.js";

export { decodeByteLevel, detectScheme, isSpecialToken };
export type { PieceScheme } from "../tokenize/index.js";

/** One token as read: its display text and whether it starts a word. */
export interface Piece {
  /**
   * The token without its marker (`##`, `Ġ`, `▁`), bytes decoded; `␣` for a bare space; "" for the
   * first bytes of a character that a later token completes (the character is shown there).
   */
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

const PUNCTUATION_ONLY = /^[\p{P}\p{S}]+$/u;

/** Read every token: display text, word starts and spacing. */
export function readPieces(tokens: readonly string[]): Piece[] {
  const scheme = detectScheme(tokens);
  const texts = pieceTexts(tokens, scheme);
  const pieces: Piece[] = [];
  let previous: Piece | undefined;
  tokens.forEach((token, i) => {
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
    } else if (texts[i] === "" && previous !== undefined && !previous.special) {
      // the first bytes of a character another token completes: part of the same word
      piece = { display: "", special: false, startsWord: false, spaceBefore: false };
    } else {
      const decoded = texts[i]!;
      const marked = decoded.startsWith(" ");
      let display = marked ? decoded.slice(1) : decoded;
      if (display === "") display = "␣";
      // Punctuation is read as its own unit, as WordPiece tokenizers split it.
      const punctuationBoundary =
        previous !== undefined &&
        !previous.special &&
        previous.display !== "" &&
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
  });
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
  const words: Word[] = [];
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
    } else {
      last.text += p.display;
      last.score += score;
      last.tokenIndices.push(i);
    }
  });
  return words.filter((w) => !(opts.hideSpecial && w.special));
}
