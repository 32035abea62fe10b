import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { XaitError } from "../src/errors.js";
import {
  alignWordsToTokens,
  parseSstTree,
  parseSstTrees,
  sstRationale,
  sumToWords,
  tweetRationale,
  unescapeTreebankWord,
  wordMaskToTokens,
} from "../src/evaluate/rationale-data.js";
import { DATA, noData } from "./helpers/shared-data.js";
import { csvRecords } from "../src/train/data.js";

test("parseSstTree: root label, leaves in order, preterminal labels", () => {
  const tree = parseSstTree("(3 (2 It) (4 (2 's) (4 (3 lovely) (2 film))))");
  assert.deepEqual(tree, {
    label: 3,
    words: ["It", "'s", "lovely", "film"],
    wordLabels: [2, 2, 3, 2],
  });
  assert.deepEqual(parseSstTree("(1 bad)"), { label: 1, words: ["bad"], wordLabels: [1] });
});

test("parseSstTree: treebank escapes undone, other word forms kept", () => {
  const tree = parseSstTree("(4 (1 (1 -LRB-) (2 (2 Næs) (3 -RRB-))) (2 (2 Writer\\/director) (2 n't)))");
  assert.deepEqual(tree.words, ["(", "Næs", ")", "Writer/director", "n't"]);
  assert.deepEqual(tree.wordLabels, [1, 2, 3, 2, 2]);
  assert.equal(unescapeTreebankWord("-LSB-"), "[");
  assert.equal(unescapeTreebankWord("``"), "``");
});

test("parseSstTree: malformed trees are XaitErrors; parseSstTrees names the line", () => {
  for (const bad of ["(3 (2 It)", "(5 word)", "(2 )", "(2 a) (2 b)", "2 a", ""]) {
    assert.throws(() => parseSstTree(bad), XaitError, bad);
  }
  assert.throws(
    () => parseSstTrees("(2 a)\n\n(2 (2 b)\n", "dev.txt"),
    /^XaitError: dev\.txt:3: bad SST tree/,
  );
  assert.equal(parseSstTrees("(2 a)\n(3 b)\n").length, 2);
});

test("sstRationale: polarity-agreeing words; neutral sentences have none", () => {
  const pos = sstRationale(parseSstTree("(3 (2 It) (4 (2 's) (4 (3 lovely) (0 awful))))"))!;
  assert.equal(pos.target, 1);
  assert.deepEqual(pos.mask, [false, false, true, false]);
  assert.equal(pos.text, "It 's lovely awful");
  const neg = sstRationale(parseSstTree("(1 (1 (0 dreadful) (2 and)) (1 (1 dull) (4 great)))"))!;
  assert.equal(neg.target, 0);
  assert.deepEqual(neg.mask, [true, false, true, false]);
  assert.equal(sstRationale(parseSstTree("(2 (2 a) (3 b))")), null);
});

test("tweetRationale: words overlapping the selected span", () => {
  const r = tweetRationale(" Sooo SAD I will miss you here in San Diego!!!", "Sooo SAD")!;
  assert.deepEqual(r.words, ["Sooo", "SAD", "I", "will", "miss", "you", "here", "in", "San", "Diego!!!"]);
  assert.deepEqual(r.mask, [true, true, false, false, false, false, false, false, false, false]);
  assert.equal(r.start, 1);
  assert.equal(r.end, 9);
  // A selection cutting a word in half still marks the word; surrounding spaces are trimmed.
  const part = tweetRationale("my boss is bullying me...", " ully ")!;
  assert.deepEqual(part.mask, [false, false, false, true, false]);
  // Case-insensitive fallback, first occurrence.
  const ci = tweetRationale("Good good GOOD", "GOOD")!;
  assert.deepEqual(ci.mask, [false, false, true]);
  const fold = tweetRationale("So HAPPY today", "happy")!;
  assert.deepEqual(fold.mask, [false, true, false]);
  assert.equal(tweetRationale("hello there", "nope"), null);
  assert.equal(tweetRationale("hello there", "  "), null);
});

test("alignWordsToTokens: word pieces, specials, punctuation splits, accents and case", () => {
  const words = ["It's", "Café", "unbelievably", "good!"];
  const tokens = [
    "[CLS]",
    "it",
    "'",
    "s",
    "cafe",
    "un",
    "##bel",
    "##ie",
    "##va",
    "##bly",
    "good",
    "!",
    "[SEP]",
    "[PAD]",
  ];
  assert.deepEqual(alignWordsToTokens(words, tokens), [-1, 0, 0, 0, 1, 2, 2, 2, 2, 2, 3, 3, -1, -1]);
});

test("alignWordsToTokens: [UNK] takes an alphanumeric run or one punctuation mark", () => {
  const words = ["I", "❤️", "Zürich‽", "ok"];
  const tokens = ["[CLS]", "i", "[UNK]", "[UNK]", "[UNK]", "ok", "[SEP]"];
  assert.deepEqual(alignWordsToTokens(words, tokens), [-1, 0, 1, 2, 2, 3, -1]);
});

test("alignWordsToTokens: a token missing from the words does not derail the rest", () => {
  const tokens = ["[CLS]", "the", "xyz", "film", "rocks", "[SEP]"];
  assert.deepEqual(alignWordsToTokens(["the", "film", "rocks"], tokens), [-1, 0, 1, 1, 2, -1]);
});

test("sumToWords and wordMaskToTokens", () => {
  const map = [-1, 0, 0, 1, -1];
  assert.deepEqual(sumToWords([5, 1, 2, 3, 7], map, 2), [3, 3]);
  assert.deepEqual(wordMaskToTokens([true, false], map), [false, true, true, false, false]);
  assert.throws(() => sumToWords([1], map, 2), XaitError);
});

test(
  "real data: SST dev has 1,101 trees, 872 binary, matching SST-2 validation",
  { skip: noData("sst-trees/dev.txt") },
  () => {
    const trees = parseSstTrees(readFileSync(join(DATA, "sst-trees/dev.txt"), "utf8"), "dev.txt");
    assert.equal(trees.length, 1101);
    const binary = trees.map(sstRationale).filter((r) => r !== null);
    assert.equal(binary.length, 872);
    assert.equal(binary.filter((r) => r.target === 1).length, 444);
    assert.ok(binary.every((r) => r.words.length === r.mask.length));
    const validation = join(DATA, "sst2/validation.tsv");
    if (existsSync(validation)) {
      const sentences = new Set(
        readFileSync(validation, "utf8")
          .split("\n")
          .slice(1)
          .filter((l) => l.trim() !== "")
          .map((l) => l.split("\t")[0].trim()),
      );
      const missing = binary.filter((r) => !sentences.has(r.text.toLowerCase()));
      assert.equal(
        missing.length,
        0,
        `not in SST-2 validation: ${missing
          .slice(0, 3)
          .map((r) => r.text)
          .join(" | ")}`,
      );
    }
  },
);

test(
  "real data: tweet selected_text spans are found",
  { skip: noData("tweet-sentiment-extraction/train.csv") },
  async () => {
    const records = csvRecords(
      readFileSync(join(DATA, "tweet-sentiment-extraction/train.csv"), "utf8"),
    ).slice(1);
    let found = 0;
    let polar = 0;
    for (const r of records) {
      const [, text, selected, sentiment] = r.fields!;
      if (sentiment === "neutral" || text.trim() === "") continue;
      polar++;
      if (tweetRationale(text, selected)) found++;
    }
    assert.equal(polar, 7781 + 8582);
    assert.equal(found, polar);
  },
);

test("alignWordsToTokens: byte-level pieces by the text they spell, split characters to their word", async () => {
  const { buildByteLevelBPE, tokenizerFromJSON } = await import("../src/tokenize/index.js");
  const corpus = ["a charming and often affecting journey", "the plot is charming", "café naïve"];
  const tok = tokenizerFromJSON(buildByteLevelBPE(corpus, { vocabSize: 300 }));
  const words = ["It", "'s", "a", "charming", ",", "naïve", "café", "🙂", "journey", "."];
  const enc = tok.encode(words.join(" "));
  const map = alignWordsToTokens(words, enc.tokens);
  // every token has a word, the words come in order, and each word's tokens spell it
  assert.equal(map.length, enc.tokens.length);
  assert.ok(map.every((w, i) => w >= 0 && (i === 0 || w >= map[i - 1]!)));
  words.forEach((word, w) => {
    const ids = enc.ids.filter((_, i) => map[i] === w);
    assert.equal(tok.decode(ids).trim(), word, `word ${w}`);
  });
  // <|endoftext|> is a special token of its own
  assert.deepEqual(alignWordsToTokens(["hi"], ["<|endoftext|>", "hi"]), [-1, 0]);
});

test("alignWordsToTokens: SentencePiece ▁ read as a space", () => {
  assert.deepEqual(
    alignWordsToTokens(["It", "'s", "lovely"], ["<s>", "▁It", "'", "s", "▁love", "ly"]),
    [-1, 0, 1, 1, 2, 2],
  );
});
