import { test } from "node:test";
import assert from "node:assert/strict";
import {
  decodeByteLevel,
  detectScheme,
  isSpecialToken,
  joinWords,
  readPieces,
  tokenUnits,
} from "../src/report/words.js";

test("special tokens", () => {
  for (const t of ["[CLS]", "[SEP]", "[PAD]", "<s>", "</s>", "<pad>", "<|endoftext|>"])
    assert.ok(isSpecialToken(t), t);
  for (const t of ["[UNK]", "<unk>", "the", "<", "##s"]) assert.ok(!isSpecialToken(t), t);
});

test("WordPiece: ## continuations join the previous token and scores add up", () => {
  const tokens = ["[CLS]", "un", "##believ", "##ably", "good", "!", "[SEP]"];
  const words = joinWords(tokens, [0.5, 0.25, 0.5, 1, 2, -1, 0.125]);
  assert.deepEqual(
    words.map((w) => [w.text, w.score, w.tokenIndices, w.special]),
    [
      ["[CLS]", 0.5, [0], true],
      ["unbelievably", 1.75, [1, 2, 3], false],
      ["good", 2, [4], false],
      ["!", -1, [5], false],
      ["[SEP]", 0.125, [6], true],
    ],
  );
  assert.equal(detectScheme(tokens), "wordpiece");
});

test("special tokens can be hidden", () => {
  const words = joinWords(["[CLS]", "a", "##b", "[SEP]", "c", "[SEP]"], [1, 2, 3, 4, 5, 6], {
    hideSpecial: true,
  });
  assert.deepEqual(
    words.map((w) => [w.text, w.score]),
    [
      ["ab", 5],
      ["c", 5],
    ],
  );
});

test("a continuation after a special token starts a new word", () => {
  const words = joinWords(["[SEP]", "##x"], [1, 2]);
  assert.deepEqual(
    words.map((w) => w.text),
    ["[SEP]", "x"],
  );
});

test("byte-level BPE: Ġ marks a word start, bytes are decoded, punctuation stands alone", () => {
  const tokens = ["<s>", "Hello", ",", "Ġwor", "ld", "Ġcaf", "Ã©", "!", "</s>"];
  assert.equal(detectScheme(tokens), "byte-level");
  const words = joinWords(tokens, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(
    words.map((w) => [w.text, w.score, w.tokenIndices, w.spaceBefore]),
    [
      ["<s>", 0, [0], false],
      ["Hello", 1, [1], true],
      [",", 2, [2], false],
      ["world", 7, [3, 4], true],
      ["café", 11, [5, 6], true],
      ["!", 7, [7], false],
      ["</s>", 8, [8], true],
    ],
  );
  assert.equal(decodeByteLevel("ĠcafÃ©"), " café");
  assert.equal(decodeByteLevel("Ċ"), "\n");
});

test("SentencePiece: ▁ marks a word start", () => {
  const words = joinWords(["▁The", "▁mov", "ie", "▁rocks"], [1, 2, 3, 4]);
  assert.deepEqual(
    words.map((w) => [w.text, w.score]),
    [
      ["The", 1],
      ["movie", 5],
      ["rocks", 4],
    ],
  );
});

test("token units keep one unit per token with the marker removed", () => {
  const units = tokenUnits(["[CLS]", "play", "##ing", "[SEP]"], [1, 2, 3, 4]);
  assert.deepEqual(
    units.map((u) => [u.text, u.score, u.spaceBefore]),
    [
      ["[CLS]", 1, false],
      ["play", 2, true],
      ["ing", 3, false],
      ["[SEP]", 4, true],
    ],
  );
  assert.deepEqual(
    readPieces(["[CLS]", "play", "##ing"]).map((p) => p.startsWord),
    [true, true, false],
  );
});

test("missing scores become NaN rather than shifting", () => {
  const words = joinWords(["a", "b"], [1]);
  assert.equal(words[0]!.score, 1);
  assert.ok(Number.isNaN(words[1]!.score));
});

test("pieceTexts: byte-level texts join to the decoded text; a split character goes to the token completing it", async () => {
  const { pieceTexts } = await import("../src/tokenize/index.js");
  const { toByteLevel } = await import("../src/tokenize/bpe.js");
  const text = " naïve 🙂 café";
  // cut the byte-level string at every symbol: every multi-byte character is split
  const symbols = [...toByteLevel(text)];
  const texts = pieceTexts(symbols, "byte-level");
  assert.equal(texts.join(""), text);
  assert.equal(texts.filter((t) => t === "").length, symbols.length - [...text].length);
  assert.deepEqual(pieceTexts(["Ġna", "Ã", "¯", "ve"]), [" na", "", "ï", "ve"]);
  // an incomplete character before a special token or at the end is one U+FFFD
  assert.deepEqual(pieceTexts(["Ġa", "Ã", "<|endoftext|>", "Ã"]), [
    " a",
    "\uFFFD",
    "<|endoftext|>",
    "\uFFFD",
  ]);
  assert.deepEqual(pieceTexts(["▁It", "'s"]), [" It", "'s"]);
});

test("joinWords: a character split across byte-level tokens stays inside its word", () => {
  const words = joinWords(["The", "Ġna", "Ã", "¯", "ve", "Ġplot"], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(
    words.map((w) => [w.text, w.score]),
    [
      ["The", 1],
      ["naïve", 14],
      ["plot", 6],
    ],
  );
});
