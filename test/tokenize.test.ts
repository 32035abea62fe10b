import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { XaitError } from "../src/errors.js";
import {
  longestFirstLengths,
  tokenizerFromJSON,
  tokenizerFromVocab,
  type Tokenizer,
} from "../src/tokenize/index.js";
import { DATA, noData } from "./helpers/shared-data.js";

const VOCAB = path.join(DATA, "bert-base-uncased", "vocab.txt");
const SST2 = path.join(DATA, "sst2", "validation.tsv");
const noVocab = noData("bert-base-uncased/vocab.txt");

let bert: Tokenizer | undefined;
function bertTokenizer(): Tokenizer {
  bert ??= tokenizerFromVocab(readFileSync(VOCAB, "utf8"));
  return bert;
}

/** A small vocabulary that needs no data files. */
const TINY_VOCAB = [
  "[PAD]",
  "[UNK]",
  "[CLS]",
  "[SEP]",
  "[MASK]",
  "the",
  "cat",
  "sat",
  "on",
  "mat",
  "##s",
  ".",
  "a",
  "##t",
];

function ids(tokenizer: Tokenizer, text: string, pair?: string, maxLength?: number): number[] {
  return tokenizer.encode(text, pair, maxLength).ids;
}

test("bert-base-uncased: known encodings", { skip: noVocab }, () => {
  const t = bertTokenizer();
  assert.deepEqual(ids(t, "hello world"), [101, 7592, 2088, 102]);
  assert.deepEqual(ids(t, "unaffable"), [101, 14477, 20961, 3468, 102]);
  assert.deepEqual(t.encode("unaffable").tokens, ["[CLS]", "una", "##ffa", "##ble", "[SEP]"]);
  assert.deepEqual(ids(t, "Ünïcödé naïve café"), [101, 27260, 15743, 7668, 102]);
  assert.deepEqual(ids(t, "Hello, [MASK]!"), [101, 7592, 1010, 103, 999, 102]);
  assert.equal(ids(t, "x".repeat(101))[1], 100, "a word over 100 characters is [UNK]");
});

test("bert-base-uncased: vocabulary and special tokens", { skip: noVocab }, () => {
  const t = bertTokenizer();
  assert.equal(t.vocabSize, 30522);
  assert.deepEqual(t.special, { cls: 101, sep: 102, pad: 0, unk: 100, mask: 103 });
  assert.equal(t.tokenToId("hello"), 7592);
  assert.equal(t.idToToken(7592), "hello");
  assert.equal(t.tokenToId("no-such-token"), undefined);
  assert.equal(t.idToToken(30522), undefined);
});

test("bert-base-uncased: pairs get token types 0 then 1", { skip: noVocab }, () => {
  const e = bertTokenizer().encode("how are you", "fine thanks");
  assert.deepEqual(e.ids, [101, 2129, 2024, 2017, 102, 2986, 4283, 102]);
  assert.deepEqual(e.typeIds, [0, 0, 0, 0, 0, 1, 1, 1]);
  assert.equal(e.truncated, false);
  assert.deepEqual(bertTokenizer().encode("how are you").typeIds, [0, 0, 0, 0, 0]);
});

test("bert-base-uncased: truncation to maxLength, longest segment first", { skip: noVocab }, () => {
  const t = bertTokenizer();
  const single = t.encode("one two three four five six", undefined, 5);
  assert.deepEqual(single.tokens, ["[CLS]", "one", "two", "three", "[SEP]"]);
  assert.equal(single.truncated, true);
  const exact = t.encode("one two three", undefined, 5);
  assert.equal(exact.ids.length, 5);
  assert.equal(exact.truncated, false);
  const pair = t.encode("one two three four five six", "seven eight", 9);
  assert.deepEqual(pair.tokens, ["[CLS]", "one", "two", "three", "four", "[SEP]", "seven", "eight", "[SEP]"]);
  assert.deepEqual(pair.typeIds, [0, 0, 0, 0, 0, 0, 1, 1, 1]);
  assert.equal(pair.truncated, true);
  const both = t.encode("one two three four", "five six seven eight", 7);
  assert.deepEqual(both.tokens, ["[CLS]", "one", "two", "[SEP]", "five", "six", "[SEP]"]);
  assert.throws(
    () => t.encode("one two", undefined, 2),
    (e: unknown) => e instanceof XaitError && e.exitCode === 2,
  );
  assert.throws(() => t.encode("one two", "three", 4), /maxLength 4 is too small/);
});

test("bert-base-uncased: toJSON → tokenizerFromJSON encodes identically", { skip: noVocab }, () => {
  const t = bertTokenizer();
  const again = tokenizerFromJSON(t.toJSON());
  assert.equal(again.vocabSize, t.vocabSize);
  assert.deepEqual(again.special, t.special);
  const texts = [
    "hello world",
    "Ünïcödé naïve café",
    "It's a [MASK]-y, well-made film (2002)!",
    "北京 is big",
  ];
  if (existsSync(SST2)) {
    const lines = readFileSync(SST2, "utf8").split("\n").slice(1, 201);
    texts.push(...lines.map((l) => l.split("\t")[0]).filter((s) => s.trim().length > 0));
  }
  for (const text of texts) assert.deepEqual(again.encode(text), t.encode(text), text);
  assert.deepEqual(again.encode("a b c d e", "f g", 6), t.encode("a b c d e", "f g", 6));
  assert.equal(again.toJSON(), t.toJSON());
});

test("tokenizer.json from a vocabulary has the Hugging Face layout", () => {
  const json = JSON.parse(tokenizerFromVocab(TINY_VOCAB.join("\n") + "\n").toJSON()) as {
    added_tokens: { id: number; content: string }[];
    normalizer: { type: string; lowercase: boolean };
    pre_tokenizer: { type: string };
    post_processor: { type: string; special_tokens: Record<string, unknown> };
    model: { type: string; max_input_chars_per_word: number; vocab: Record<string, number> };
  };
  assert.deepEqual(Object.keys(json), [
    "version",
    "truncation",
    "padding",
    "added_tokens",
    "normalizer",
    "pre_tokenizer",
    "post_processor",
    "decoder",
    "model",
  ]);
  assert.deepEqual(
    json.added_tokens.map((t) => [t.id, t.content]),
    [
      [0, "[PAD]"],
      [1, "[UNK]"],
      [2, "[CLS]"],
      [3, "[SEP]"],
      [4, "[MASK]"],
    ],
  );
  assert.equal(json.normalizer.type, "BertNormalizer");
  assert.equal(json.normalizer.lowercase, true);
  assert.equal(json.pre_tokenizer.type, "BertPreTokenizer");
  assert.equal(json.post_processor.type, "TemplateProcessing");
  assert.deepEqual(json.post_processor.special_tokens["[SEP]"], { id: "[SEP]", ids: [3], tokens: ["[SEP]"] });
  assert.equal(json.model.type, "WordPiece");
  assert.equal(json.model.max_input_chars_per_word, 100);
  assert.equal(json.model.vocab["##s"], 10);
});

test("tiny vocabulary: WordPiece, specials in text, token types", () => {
  const t = tokenizerFromVocab(TINY_VOCAB.join("\r\n"));
  assert.equal(t.vocabSize, TINY_VOCAB.length);
  assert.deepEqual(t.special, { cls: 2, sep: 3, pad: 0, unk: 1, mask: 4 });
  assert.deepEqual(t.encode("The cats SAT on a [MASK].").tokens, [
    "[CLS]",
    "the",
    "cat",
    "##s",
    "sat",
    "on",
    "a",
    "[MASK]",
    ".",
    "[SEP]",
  ]);
  assert.deepEqual(t.encode("dog").ids, [2, 1, 3]);
  const pair = t.encode("the cat", "a mat");
  assert.deepEqual(pair.ids, [2, 5, 6, 3, 12, 9, 3]);
  assert.deepEqual(pair.typeIds, [0, 0, 0, 0, 1, 1, 1]);
});

test("empty text is refused", () => {
  const t = tokenizerFromVocab(TINY_VOCAB.join("\n"));
  assert.throws(
    () => t.encode(""),
    (e: unknown) => e instanceof XaitError && e.message === "empty text",
  );
  assert.throws(
    () => t.encode(" \t\n "),
    (e: unknown) => e instanceof XaitError && e.message === "empty text",
  );
  assert.throws(
    () => t.encode("cat", ""),
    (e: unknown) => e instanceof XaitError && e.message === "empty text pair",
  );
});

test("malformed inputs are refused with XaitError", () => {
  assert.throws(() => tokenizerFromVocab("the\ncat\n"), /vocab\.txt: the vocabulary has no \[CLS\] token/);
  assert.throws(() => tokenizerFromVocab(""), /vocab\.txt: empty vocabulary/);
  assert.throws(() => tokenizerFromJSON("{oops"), /tokenizer\.json: not valid JSON/);
  assert.throws(() => tokenizerFromJSON("[]"), /tokenizer\.json: not a JSON object/);
  assert.throws(() => tokenizerFromJSON('{"version":"1.0"}'), /no "model" object/);
  assert.throws(
    () => tokenizerFromJSON('{"model":{"type":"Nonsense"}}'),
    (e: unknown) => e instanceof XaitError && /tokenizer\.json: cannot be loaded/.test(e.message),
  );
});

test("RoBERTa-style special token names and a post-processor without token types", () => {
  const vocab = { "<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, hello: 4, world: 5, "<mask>": 6 };
  const base = {
    added_tokens: Object.entries(vocab)
      .filter(([t]) => t.startsWith("<"))
      .map(([content, id]) => ({ id, content, special: true, normalized: false })),
    normalizer: { type: "Lowercase" },
    pre_tokenizer: { type: "Whitespace" },
    model: { type: "WordPiece", unk_token: "<unk>", continuing_subword_prefix: "##", vocab },
  };
  const roberta = tokenizerFromJSON(
    JSON.stringify({
      ...base,
      post_processor: { type: "RobertaProcessing", cls: ["<s>", 0], sep: ["</s>", 2] },
    }),
  );
  assert.deepEqual(roberta.special, { cls: 0, sep: 2, pad: 1, unk: 3, mask: 6, eos: 2 });
  const e = roberta.encode("Hello", "world");
  assert.deepEqual(e.tokens, ["<s>", "hello", "</s>", "</s>", "world", "</s>"]);
  assert.equal(e.typeIds.length, e.ids.length);
  assert.deepEqual(roberta.encode("hello world hello", "world", 6).ids, [0, 4, 2, 2, 5, 2]);
  // Without a post-processor nothing is added; token types of a pair follow the first separator.
  const bare = tokenizerFromJSON(JSON.stringify({ ...base, post_processor: null }));
  assert.deepEqual(bare.encode("hello world").ids, [4, 5]);
  assert.deepEqual(bare.encode("hello world", "world").typeIds, [0, 0, 0]);
  assert.deepEqual(bare.encode("hello world hello", undefined, 2).ids, [4, 5]);
});

test("longest-first truncation lengths", () => {
  assert.deepEqual(longestFirstLengths(10, 0, 4), [4, 0]);
  assert.deepEqual(longestFirstLengths(10, 2, 6), [4, 2]);
  assert.deepEqual(longestFirstLengths(2, 10, 6), [2, 4]);
  assert.deepEqual(longestFirstLengths(10, 10, 7), [4, 3]);
  assert.deepEqual(longestFirstLengths(10, 9, 8), [4, 4]);
  assert.deepEqual(longestFirstLengths(3, 2, 9), [3, 2]);
});
