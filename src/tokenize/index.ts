export type { Encoding, SpecialTokens, Tokenizer } from "./tokenizer.js";
export { paddingToken, replacementToken } from "./tokenizer.js";
export { tokenizerFromJSON, tokenizerFromObject, type TokenizerJSON } from "./hf-tokenizer.js";
export {
  BERT_SPECIAL_TOKENS,
  HTML_TAG_PATTERN,
  MAX_INPUT_CHARS_PER_WORD,
  bertWordPieceJSON,
  parseVocabTxt,
  tokenizerFromVocab,
  type WordPieceOptions,
} from "./wordpiece.js";
export { buildWordPieceVocabulary, type VocabularyOptions } from "./vocabulary.js";
export { longestFirstLengths } from "./truncate.js";
export {
  buildByteLevelBPE,
  byteLevelBPEJSON,
  fromByteLevel,
  learnByteLevelBPE,
  type ByteLevelBPEOptions,
} from "./bpe.js";
export { decodeByteLevel, detectScheme, isSpecialToken, pieceTexts, type PieceScheme } from "./pieces.js";
