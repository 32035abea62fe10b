/**
 * What the tokens of an encoded text spell. Three piece conventions are recognised:
 * - WordPiece (BERT): `##` marks a continuation of the previous token;
 * - byte-level BPE (RoBERTa, GPT-2): every UTF-8 byte is shown as one printable symbol, so `Ġ` is an
 *   encoded space and a character outside ASCII may be split across tokens;
 * - SentencePiece: `▁` stands for a space.
 * Special tokens ([CLS], [SEP], <s>, <|endoftext|>, …) are units of their own. Browser-safe.
 */
import { SYMBOL_TO_BYTE } from "./bpe.js";

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

/** The bytes of a byte-level piece, or undefined if it has a character that is not a byte symbol. */
function pieceBytes(piece: string): Uint8Array | undefined {
  const bytes: number[] = [];
  for (const ch of piece) {
    const b = SYMBOL_TO_BYTE.get(ch);
    if (b === undefined) return undefined;
    bytes.push(b);
  }
  return Uint8Array.from(bytes);
}

/**
 * The text each token contributes, such that the texts joined spell the encoded text:
 * - byte-level: the UTF-8 characters whose last byte is in this token — a character split across
 *   tokens belongs to the token that completes it, the others get "" (invalid bytes decode to
 *   U+FFFD); spaces stay in the text (" great");
 * - SentencePiece: `▁` read as a space;
 * - WordPiece: the token as it is (`##` kept: it says where a word continues).
 * Special tokens and tokens with a character outside the byte table are their own text.
 */
export function pieceTexts(tokens: readonly string[], scheme = detectScheme(tokens)): string[] {
  if (scheme === "sentencepiece") return tokens.map((t) => (isSpecialToken(t) ? t : t.replace(/▁/g, " ")));
  if (scheme !== "byte-level") return [...tokens];
  const texts: string[] = [];
  let decoder = new TextDecoder("utf-8");
  let last = -1; // the last token whose bytes went into `decoder`
  // bytes left incomplete at a unit of its own or at the end decode as U+FFFD into the token before
  const flush = () => {
    if (last >= 0) texts[last] += decoder.decode();
    decoder = new TextDecoder("utf-8");
    last = -1;
  };
  tokens.forEach((token, i) => {
    const bytes = isSpecialToken(token) ? undefined : pieceBytes(token);
    if (bytes === undefined) {
      flush();
      texts.push(token);
    } else {
      texts.push(decoder.decode(bytes, { stream: true }));
      last = i;
    }
  });
  flush();
  return texts;
}

/** Decode one byte-level piece (or a word's pieces joined) to text; falls back to the raw characters. */
export function decodeByteLevel(piece: string): string {
  const bytes = pieceBytes(piece);
  if (bytes === undefined) return piece;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return piece;
  }
}
